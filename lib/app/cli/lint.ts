/**
 * `rollouts lint`: every problem in Rollouts and AnalysisTemplates and, given VirtualServices, in
 * the Rollouts' references. Warnings and notes are printed but leave the report ok; errors do not.
 */
import { checkRolloutAnalysis, templateWarnings } from '../../core/analysis/lint.js';
import { parseAnalysisTemplate, templateLabel, type AnalysisTemplate } from '../../core/analysis/template.js';
import { findVirtualService, formatPlanError, plan } from '../../core/istio/weights.js';
import { weightedHttpRoute } from '../../core/istio/managed-routes.js';
import { formatRef } from '../../core/model/references.js';
import type { Rollout, TrafficSpec } from '../../core/model/rollout.js';
import { checkScope, type ClusterScope } from '../../core/model/clusters.js';
import { checkFleetScope, isFleetDocument, parseFleet } from '../../core/model/fleet-spec.js';
import type { VirtualService } from '../../core/model/virtualservice.js';
import { kindOf } from '../../core/model/yaml.js';
import { inClusterAddress } from '../../adapters/metrics/reachability.js';
import { isArgoManifest, loadManifests, parseForLint, rolloutLabel, type SourceFile } from './manifests.js';

export interface LintReport {
  ok: boolean;
  lines: string[];
}

/** With `registry` (lint --config), each Rollout's and fleet member's cluster and namespaces are checked as apply does. */
export function lint(
  rolloutFiles: SourceFile[],
  virtualServiceFiles: SourceFile[],
  registry?: readonly ClusterScope[],
): LintReport {
  const loaded = loadManifests(rolloutFiles, virtualServiceFiles, { templates: true });
  if (!loaded.ok) return { ok: false, lines: loaded.error };
  const lines: string[] = [];
  let ok = true;
  const templates: AnalysisTemplate[] = [];
  for (const { source, document } of loaded.value.analysisTemplates) {
    const parsed = parseAnalysisTemplate(document);
    if (!parsed.ok) {
      ok = false;
      lines.push(...parsed.error.map((error) => `${source}: ${documentLabel(document)}: ${error}`));
      continue;
    }
    templates.push(parsed.value);
    const label = `${source}: ${templateLabel(parsed.value)}`;
    lines.push(...templateWarnings(parsed.value).map((warning) => `${label}: warning: ${warning}`));
    lines.push(...unreachableAddresses(parsed.value).map((warning) => `${label}: warning: ${warning}`));
    lines.push(`${label}: OK, ${parsed.value.metrics.length} metric(s)`);
  }
  for (const { source, document } of loaded.value.rollouts) {
    const label = `${source}: ${rolloutLabel(document)}`;
    const parsed = parseForLint(document);
    if (!parsed.ok) {
      ok = false;
      lines.push(...parsed.error.map((error) => `${label}: ${error}`));
      continue;
    }
    const outOfScope = registry ? scopeProblems(document, parsed.value, registry) : [];
    if (outOfScope.length) {
      ok = false;
      lines.push(...outOfScope.map((problem) => `${label}: ${problem}`));
      continue;
    }
    if (virtualServiceFiles.length > 0) {
      // Weight 0 exercises every reference exactly as a step would, whatever the weight.
      const planned = plan(parsed.value, loaded.value.virtualServices, 0);
      if (!planned.ok) {
        ok = false;
        lines.push(...planned.error.map((error) => `${label}: ${formatPlanError(error)}`));
        continue;
      }
    }
    const analysis = checkRolloutAnalysis(parsed.value, templates);
    lines.push(...analysis.warnings.map((warning) => `${label}: warning: ${warning}`));
    if (analysis.errors.length) {
      ok = false;
      lines.push(...analysis.errors.map((error) => `${label}: ${error}`));
      continue;
    }
    const scope = isArgoManifest(document) ? ' (Argo Rollouts manifest: canary block checked)' : '';
    const refs =
      virtualServiceFiles.length > 0
        ? `, ${parsed.value.canary.virtualServices.length} VirtualService(s) checked`
        : '';
    lines.push(`${label}: OK${refs}${scope}`);
    if (virtualServiceFiles.length > 0)
      lines.push(...managedRouteNotes(parsed.value, loaded.value.virtualServices, label));
  }
  return { ok, lines };
}

/**
 * A prometheus `address` or web `url` written out (no `{{args.x}}`) that only means something
 * inside the cluster: every measurement would fail, since the runner runs outside it. A warning,
 * as the template may be meant for another runner; the measurement's error says the same.
 */
function unreachableAddresses(template: AnalysisTemplate): string[] {
  return template.metrics.flatMap((metric, index) => {
    const { prometheus, web } = metric.provider as {
      prometheus?: { address?: unknown };
      web?: { url?: unknown };
    };
    const [field, value] = prometheus ? ['prometheus.address', prometheus.address] : ['web.url', web?.url];
    if (typeof value !== 'string' || value.includes('{{') || !URL.canParse(value)) return [];
    const why = inClusterAddress(new URL(value));
    return why ? [`spec.metrics[${index}].provider.${field}: ${why}`] : [];
  });
}

/** A fleet's every member, or a Rollout (not an Argo manifest, which names no cluster), against the registry. */
function scopeProblems(
  document: unknown,
  parsed: TrafficSpec | Rollout,
  registry: readonly ClusterScope[],
): string[] {
  if (isFleetDocument(document)) {
    const fleet = parseFleet(document);
    const scoped = fleet.ok ? checkFleetScope(fleet.value, registry) : undefined;
    return scoped && !scoped.ok ? scoped.error : [];
  }
  if (!('cluster' in parsed)) return [];
  const scoped = checkScope(parsed, registry);
  return scoped.ok ? [] : scoped.error;
}

function documentLabel(document: unknown): string {
  const metadata = (document as { metadata?: { name?: unknown; namespace?: unknown } }).metadata;
  const name = typeof metadata?.name === 'string' ? metadata.name : '(unnamed)';
  const kind = kindOf(document) ?? 'AnalysisTemplate';
  if (kind === 'ClusterAnalysisTemplate') return `${kind} ${name}`;
  const namespace = typeof metadata?.namespace === 'string' ? metadata.namespace : 'default';
  return `${kind} ${namespace}/${name}`;
}

/** Header and mirror routes go only where the Rollout weights an HTTP route: say which VirtualServices they skip. */
function managedRouteNotes(spec: TrafficSpec, virtualServices: VirtualService[], label: string): string[] {
  if (spec.canary.managedRoutes.length === 0) return [];
  return spec.canary.virtualServices.flatMap((ref) => {
    const vs = findVirtualService(virtualServices, ref, spec.namespace);
    return vs && !weightedHttpRoute(spec, ref, vs)
      ? [
          `${label}: note: VirtualService ${formatRef(ref)} has no HTTP route for this Rollout (TLS/TCP only): managed routes (${spec.canary.managedRoutes.join(', ')}) are not written there`,
        ]
      : [];
  });
}
