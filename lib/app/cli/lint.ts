/** `rollouts lint`: every problem in a Rollout and, given VirtualServices, in its references. */
import { findVirtualService, formatPlanError, plan } from '../../core/istio/weights.js';
import { weightedHttpRoute } from '../../core/istio/managed-routes.js';
import { formatRef } from '../../core/model/references.js';
import type { TrafficSpec } from '../../core/model/rollout.js';
import type { VirtualService } from '../../core/model/virtualservice.js';
import { isArgoManifest, loadManifests, parseForLint, rolloutLabel, type SourceFile } from './manifests.js';

export interface LintReport {
  ok: boolean;
  lines: string[];
}

export function lint(rolloutFiles: SourceFile[], virtualServiceFiles: SourceFile[]): LintReport {
  const loaded = loadManifests(rolloutFiles, virtualServiceFiles);
  if (!loaded.ok) return { ok: false, lines: loaded.errors };
  const lines: string[] = [];
  let ok = true;
  for (const { source, document } of loaded.rollouts) {
    const label = `${source}: ${rolloutLabel(document)}`;
    const parsed = parseForLint(document);
    if (!parsed.ok) {
      ok = false;
      lines.push(...parsed.errors.map((error) => `${label}: ${error}`));
      continue;
    }
    if (virtualServiceFiles.length > 0) {
      // Weight 0 exercises every reference exactly as a step would, whatever the weight.
      const planned = plan(parsed.value, loaded.virtualServices, 0);
      if (!planned.ok) {
        ok = false;
        lines.push(...planned.errors.map((error) => `${label}: ${formatPlanError(error)}`));
        continue;
      }
    }
    const scope = isArgoManifest(document) ? ' (Argo Rollouts manifest: canary block checked)' : '';
    const refs =
      virtualServiceFiles.length > 0
        ? `, ${parsed.value.canary.virtualServices.length} VirtualService(s) checked`
        : '';
    lines.push(`${label}: OK${refs}${scope}`);
    if (virtualServiceFiles.length > 0)
      lines.push(...managedRouteNotes(parsed.value, loaded.virtualServices, label));
  }
  return { ok, lines };
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
