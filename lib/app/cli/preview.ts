/** `rollouts preview`: the VirtualServices as the Rollout would leave them at a canary weight. */
import { stringify } from 'yaml';
import { formatPlanError, plan } from '../../core/istio/weights.js';
import { parseTrafficSpec } from '../../core/model/rollout.js';
import type { VirtualService } from '../../core/model/virtualservice.js';
import { loadManifests, rolloutLabel, type SourceFile } from './manifests.js';

export type OutputFormat = 'yaml' | 'json';
export type PreviewResult = { ok: true; output: string } | { ok: false; errors: string[] };

export function preview(
  rolloutFile: SourceFile,
  virtualServiceFiles: SourceFile[],
  weight: number,
  format: OutputFormat,
): PreviewResult {
  const loaded = loadManifests([rolloutFile], virtualServiceFiles);
  if (!loaded.ok) return loaded;
  if (loaded.rollouts.length > 1) {
    return {
      ok: false,
      errors: [`${rolloutFile.path}: found ${loaded.rollouts.length} Rollouts; preview takes one`],
    };
  }
  const { document } = loaded.rollouts[0] as { document: unknown };
  const label = `${rolloutFile.path}: ${rolloutLabel(document)}`;
  const spec = parseTrafficSpec(document);
  if (!spec.ok) return { ok: false, errors: spec.errors.map((error) => `${label}: ${error}`) };
  const planned = plan(spec.value, loaded.virtualServices, weight);
  if (!planned.ok)
    return { ok: false, errors: planned.errors.map((error) => `${label}: ${formatPlanError(error)}`) };
  return {
    ok: true,
    output: render(
      planned.plans.map((p) => p.result),
      format,
    ),
  };
}

export function render(objects: VirtualService[], format: OutputFormat): string {
  if (format === 'json') return `${JSON.stringify(objects, null, 2)}\n`;
  return objects.map((object) => stringify(object, { lineWidth: 0, indentSeq: false })).join('---\n');
}
