/**
 * Everything the Rollout writes into one VirtualService in one guarded patch: the weights first,
 * then the managed routes, planned against the weights as they will be (a mirror route carries them).
 */
import type { Result } from '../result.js';
import type { TrafficSpec, VirtualServiceRef } from '../model/rollout.js';
import type { RouteStep } from '../model/route-steps.js';
import type { VirtualService } from '../model/virtualservice.js';
import { planManagedRoutes } from './managed-routes.js';
import { planOne, type PlanError, type VirtualServicePlan } from './weights.js';

/**
 * `routes`: the header and mirror routes that should exist; undefined leaves managed routes as they
 * are (a Rollout without managedRoutes, or `preview --weight`).
 */
export function planTraffic(
  spec: TrafficSpec,
  ref: VirtualServiceRef,
  vs: VirtualService | undefined,
  weight: number,
  routes: readonly RouteStep[] | undefined,
): Result<VirtualServicePlan, PlanError[]> {
  const weighted = planOne(spec, ref, vs, weight);
  if (!weighted.ok || routes === undefined) return weighted;
  const managed = planManagedRoutes(spec, ref, weighted.value.result, routes, vs ?? weighted.value.result);
  const patch = [...weighted.value.patch, ...managed.patch];
  return {
    ok: true,
    value: { ...weighted.value, patch, result: managed.result, changed: patch.length > 0 },
  };
}
