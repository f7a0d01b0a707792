/**
 * Bringing a Rollout's VirtualServices to a canary weight (and, when given, their managed header and
 * mirror routes to exactly those, in the same patch) through the traffic-router port: plan
 * against what was read, write the guarded patch, and when someone else changed the object
 * (a failed `test`, a 409), read it again and plan again, a few times.
 */
import { planTraffic } from '../../core/istio/traffic.js';
import { formatPlanError } from '../../core/istio/weights.js';
import { formatRef, type ObjectRef } from '../../core/model/references.js';
import type { TrafficSpec } from '../../core/model/rollout.js';
import { routeOf, type RouteStep } from '../../core/model/route-step-kinds.js';
import type { VirtualService } from '../../core/model/virtualservice.js';
import { ClusterApiError, InvalidReferenceError, type TrafficRouter } from './ports.js';

export const MAX_WEIGHT_ATTEMPTS = 4;

export interface WeightWrite {
  ref: ObjectRef;
  patched: boolean;
  attempts: number;
}

/**
 * `known` holds the objects read earlier in this pass (and is kept current), so a pass reads each
 * VirtualService once. `beforeWrite` runs before every PATCH: the runner checks its lease there.
 */
export async function setCanaryWeight(
  router: TrafficRouter,
  spec: TrafficSpec,
  weight: number,
  known: Map<string, VirtualService>,
  beforeWrite: () => Promise<void> = async () => undefined,
  routes?: readonly RouteStep[],
): Promise<WeightWrite[]> {
  // Each VirtualService is its own object with its own guard: they are written side by side, so
  // the last one changes one round trip after the first, not one per VirtualService later.
  return Promise.all(
    spec.canary.virtualServices.map(async (ref): Promise<WeightWrite> => {
      const name = formatRef(ref);
      for (let attempt = 1; ; attempt++) {
        const current = known.get(name) ?? (await router.get(ref));
        known.set(name, current);
        const planned = planTraffic(spec, ref, current, weight, routes);
        if (!planned.ok) throw new InvalidReferenceError(planned.error.map(formatPlanError));
        if (!planned.value.changed) return { ref, patched: false, attempts: attempt };
        await beforeWrite();
        const applied = await router.apply(ref, planned.value.patch);
        if (applied.ok) {
          known.set(name, applied.value);
          return { ref, patched: true, attempts: attempt };
        }
        known.delete(name);
        if (attempt >= MAX_WEIGHT_ATTEMPTS)
          throw new ClusterApiError(
            409,
            `PATCH VirtualService ${name} to canary weight ${weight}${routes ? ` and managed routes [${routes.map((step) => routeOf(step).name).join(', ')}]` : ''}: changed by someone else during ${attempt} attempts in a row`,
          );
      }
    }),
  );
}
