/** `rollouts lint`: every problem in a Rollout and, given VirtualServices, in its references. */
import { formatPlanError, plan } from '../../core/istio/weights.js';
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
  }
  return { ok, lines };
}
