/** Splits parsed manifest documents into Rollouts and VirtualServices, with where each came from. */
import type { Result } from '../../core/result.js';
import {
  parseRollout,
  parseTrafficSpec,
  API_VERSION,
  type ParseResult,
  type Rollout,
  type TrafficSpec,
} from '../../core/model/rollout.js';
import { isFleetDocument, parseFleet } from '../../core/model/fleet-spec.js';
import { isAnalysisTemplateKind } from '../../core/analysis/template.js';
import { parseVirtualService, type VirtualService } from '../../core/model/virtualservice.js';
import { kindOf, parseYamlDocuments } from '../../core/model/yaml.js';

export interface SourceFile {
  path: string;
  text: string;
}

export interface RolloutDocument {
  source: string;
  document: unknown;
}

export type Loaded = Result<
  {
    rollouts: RolloutDocument[];
    virtualServices: VirtualService[];
    /** AnalysisTemplates and ClusterAnalysisTemplates, when asked for. */
    analysisTemplates: RolloutDocument[];
  },
  string[]
>;

/** With `templates`, the -f files may hold AnalysisTemplates beside (or instead of) Rollouts. */
export function loadManifests(
  rolloutFiles: SourceFile[],
  virtualServiceFiles: SourceFile[],
  options: { templates?: boolean } = {},
): Loaded {
  const errors: string[] = [];
  const rollouts: RolloutDocument[] = [];
  const analysisTemplates: RolloutDocument[] = [];
  const virtualServices: VirtualService[] = [];
  for (const file of rolloutFiles) {
    const parsed = parseYamlDocuments(file.text, file.path);
    if (!parsed.ok) errors.push(...parsed.error);
    else
      for (const document of parsed.value) {
        const kind = kindOf(document);
        if (kind === 'Rollout') rollouts.push({ source: file.path, document });
        else if (options.templates && isAnalysisTemplateKind(kind))
          analysisTemplates.push({ source: file.path, document });
      }
  }
  for (const file of virtualServiceFiles) {
    const parsed = parseYamlDocuments(file.text, file.path);
    if (!parsed.ok) {
      errors.push(...parsed.error);
      continue;
    }
    const found = parsed.value.filter((document) => kindOf(document) === 'VirtualService');
    if (found.length === 0) errors.push(`${file.path}: no VirtualService in this file`);
    found.forEach((document, index) => {
      const vs = parseVirtualService(document);
      if (vs.ok) virtualServices.push(vs.value);
      else
        errors.push(
          ...vs.error.map((error) => `${file.path}: ${virtualServiceLabel(document, index)}: ${error}`),
        );
    });
  }
  if (rolloutFiles.length > 0 && rollouts.length + analysisTemplates.length === 0 && errors.length === 0) {
    const wanted = options.templates
      ? 'no Rollout or AnalysisTemplate found (kind: Rollout, AnalysisTemplate or ClusterAnalysisTemplate)'
      : 'no Rollout found (kind: Rollout)';
    errors.push(`${rolloutFiles.map((file) => file.path).join(', ')}: ${wanted}`);
  }
  return errors.length
    ? { ok: false, error: errors }
    : { ok: true, value: { rollouts, virtualServices, analysisTemplates } };
}

/** Argo Rollouts' own manifests carry no workload block: only their canary block can be checked. */
export function isArgoManifest(document: unknown): boolean {
  const apiVersion = (document as { apiVersion?: unknown }).apiVersion;
  return (
    typeof apiVersion === 'string' && apiVersion !== API_VERSION && apiVersion.startsWith('argoproj.io/')
  );
}

/** A fleet (spec.clusters) is checked whole, waves included; its members share the Rollout checked after. */
export function parseForLint(document: unknown): ParseResult<TrafficSpec | Rollout> {
  if (isFleetDocument(document)) {
    const fleet = parseFleet(document);
    return fleet.ok ? { ok: true, value: fleet.value.template } : { ok: false, error: fleet.error };
  }
  return isArgoManifest(document) ? parseTrafficSpec(document) : parseRollout(document);
}

/** `VirtualService ns/name`, or its position among the file's VirtualServices when it has no usable name. */
function virtualServiceLabel(document: unknown, index: number): string {
  const metadata = (document as { metadata?: { name?: unknown; namespace?: unknown } }).metadata;
  if (typeof metadata?.name !== 'string') return `VirtualService #${index + 1}`;
  const namespace = typeof metadata.namespace === 'string' ? `${metadata.namespace}/` : '';
  return `VirtualService ${namespace}${metadata.name}`;
}

export function rolloutLabel(document: unknown): string {
  const metadata = (document as { metadata?: { name?: unknown; namespace?: unknown } }).metadata;
  const name = typeof metadata?.name === 'string' ? metadata.name : '(unnamed)';
  const namespace = typeof metadata?.namespace === 'string' ? metadata.namespace : 'default';
  return `Rollout ${namespace}/${name}`;
}
