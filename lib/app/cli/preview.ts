/**
 * `rollouts preview`: the VirtualServices as the Rollout would leave them, at a canary weight
 * (`--weight N`) or once steps 1..N have run (`--step N`: managed routes and weights).
 */
import type { Result } from '../../core/result.js';
import { stringify } from 'yaml';
import { routesAfterSteps } from '../../core/engine/managed-routes.js';
import { planTraffic } from '../../core/istio/traffic.js';
import { findVirtualService, formatPlanError, plan, type PlanError } from '../../core/istio/weights.js';
import { parseTrafficSpec, type TrafficSpec } from '../../core/model/rollout.js';
import type { VirtualService } from '../../core/model/virtualservice.js';
import { formatRef } from '../../core/model/references.js';
import { loadManifests, rolloutLabel, type SourceFile } from './manifests.js';

export type OutputFormat = 'yaml' | 'json';
export type PreviewResult = Result<string, string[]>;
/** `step` is 1-based, as `rollouts get` numbers steps. */
export type PreviewPoint = { weight: number } | { step: number };

export function preview(
  rolloutFile: SourceFile,
  virtualServiceFiles: SourceFile[],
  at: PreviewPoint,
  format: OutputFormat,
): PreviewResult {
  // Without VirtualService files, they come from the Rollout's file (Argo's manifests hold both).
  const fromRolloutFile = virtualServiceFiles.length === 0;
  const loaded = loadManifests([rolloutFile], fromRolloutFile ? [rolloutFile] : virtualServiceFiles);
  if (!loaded.ok) {
    const hint = fromRolloutFile ? '; give the VirtualServices with --virtualservice vs.yaml' : '';
    return {
      ok: false,
      error: loaded.error.map((error) =>
        error === `${rolloutFile.path}: no VirtualService in this file` ? `${error}${hint}` : error,
      ),
    };
  }
  if (loaded.value.rollouts.length > 1) {
    return {
      ok: false,
      error: [`${rolloutFile.path}: found ${loaded.value.rollouts.length} Rollouts; preview takes one`],
    };
  }
  const { document } = loaded.value.rollouts[0] as { document: unknown };
  const label = `${rolloutFile.path}: ${rolloutLabel(document)}`;
  const spec = parseTrafficSpec(document);
  if (!spec.ok) return { ok: false, error: spec.error.map((error) => `${label}: ${error}`) };
  const missing = unmatchedReferences(spec.value, loaded.value.virtualServices);
  if (missing.length) return { ok: false, error: missing.map((error) => `${label}: ${error}`) };
  const planned =
    'step' in at
      ? afterSteps(spec.value, loaded.value.virtualServices, at.step)
      : atWeight(spec.value, loaded.value.virtualServices, at.weight);
  if (!planned.ok) return { ok: false, error: planned.error.map((error) => `${label}: ${error}`) };
  return { ok: true, value: render(planned.value, format) };
}

type Planned = Result<VirtualService[], string[]>;

/**
 * Each VirtualService the Rollout names must be in the --virtualservice files exactly once (the same
 * object twice, e.g. one file given twice, is fine): say which is missing or defined twice, and what
 * the files hold.
 */
function unmatchedReferences(spec: TrafficSpec, virtualServices: VirtualService[]): string[] {
  const key = (vs: VirtualService) => `${vs.metadata.namespace ?? spec.namespace}/${vs.metadata.name}`;
  const found = [...new Set(virtualServices.map(key))];
  return spec.canary.virtualServices.flatMap((ref) => {
    const name = formatRef(ref);
    const copies = virtualServices.filter((vs) => key(vs) === name);
    if (copies.length === 0)
      return [
        `VirtualService ${name} (referenced as '${ref.reference}') is not in the --virtualservice files; they hold ${found.length ? found.join(', ') : 'none'}`,
      ];
    const distinct = new Set(copies.map((vs) => JSON.stringify(vs)));
    return distinct.size > 1
      ? [
          `VirtualService ${name} is defined ${distinct.size} times, differently, in the --virtualservice files`,
        ]
      : [];
  });
}

function atWeight(spec: TrafficSpec, virtualServices: VirtualService[], weight: number): Planned {
  const planned = plan(spec, virtualServices, weight);
  if (!planned.ok) return { ok: false, error: planned.error.map(formatPlanError) };
  return { ok: true, value: planned.value.map((p) => p.result) };
}

/**
 * Runs steps 1..N one after the other, as the runner does when pauses are promoted and canary pods
 * are available: each step leaves the weight of the last setWeight so far and the managed routes
 * the steps so far ask for.
 */
function afterSteps(spec: TrafficSpec, virtualServices: VirtualService[], step: number): Planned {
  const { steps } = spec.canary;
  if (!Number.isInteger(step) || step < 1 || step > steps.length) {
    return {
      ok: false,
      error: [`--step must be a step number from 1 to ${steps.length}, found ${step}`],
    };
  }
  const errors: PlanError[] = [];
  const value = spec.canary.virtualServices.map((ref) => {
    let current = findVirtualService(virtualServices, ref, spec.namespace);
    let weight = 0;
    for (let index = 1; index <= step; index++) {
      const taken = steps[index - 1];
      if (taken && 'setWeight' in taken) weight = taken.setWeight;
      const routes = spec.canary.managedRoutes.length ? routesAfterSteps(spec.canary, index) : undefined;
      const planned = planTraffic(spec, ref, current, weight, routes);
      if (!planned.ok) {
        errors.push(
          ...planned.error.map((error) => ({ ...error, message: `step ${index}: ${error.message}` })),
        );
        break;
      }
      current = planned.value.result;
    }
    return current as VirtualService;
  });
  return errors.length ? { ok: false, error: errors.map(formatPlanError) } : { ok: true, value };
}

export function render(objects: VirtualService[], format: OutputFormat): string {
  if (format === 'json') return `${JSON.stringify(objects, null, 2)}\n`;
  return objects.map((object) => stringify(object, { lineWidth: 0, indentSeq: false })).join('---\n');
}
