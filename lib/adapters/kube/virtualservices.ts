/**
 * VirtualServices: read, plan with lib/core/istio (weights and managed routes), write with guarded
 * JSON Patch, never a whole object. A conflict or a failed guard means someone else changed the
 * object: read it again and plan again, a few times.
 */
import { formatPlanError } from '../../core/istio/weights.js';
import { planTraffic } from '../../core/istio/traffic.js';
import { routeOf, type RouteStep } from '../../core/model/route-steps.js';
import { formatRef, type ObjectRef } from '../../core/model/references.js';
import type { TrafficSpec, VirtualServiceRef } from '../../core/model/rollout.js';
import type { VirtualService } from '../../core/model/virtualservice.js';
import { InvalidReferenceError, KubeApiError } from './errors.js';
import { CONTENT_TYPES, type KubeHttp } from './http.js';
import { resourcePath, VIRTUAL_SERVICES } from './resources.js';

const MAX_ATTEMPTS = 4;

export interface WeightWrite {
  ref: ObjectRef;
  patched: boolean;
  attempts: number;
}

export class VirtualServiceClient {
  constructor(private readonly http: KubeHttp) {}

  async get(ref: ObjectRef): Promise<VirtualService> {
    const response = await this.http.send<VirtualService>(
      'GET',
      resourcePath(VIRTUAL_SERVICES, ref.namespace, ref.name),
    );
    if (response.status === 404)
      throw new InvalidReferenceError([`VirtualService ${formatRef(ref)} not found`]);
    if (response.status !== 200) throw KubeApiError.from(`GET VirtualService ${formatRef(ref)}`, response);
    return response.body;
  }

  /**
   * Brings every VirtualService of the Rollout to `weight` and, when `routes` is given, its managed
   * routes to exactly those (in the same patch). `known` holds objects read earlier in this pass
   * (and is updated), so a pass reads each VirtualService once.
   */
  async setWeight(
    spec: TrafficSpec,
    weight: number,
    known: Map<string, VirtualService>,
    routes?: readonly RouteStep[],
  ): Promise<WeightWrite[]> {
    const writes: WeightWrite[] = [];
    for (const ref of spec.canary.virtualServices)
      writes.push(await this.setOne(spec, ref, weight, known, routes));
    return writes;
  }

  private async setOne(
    spec: TrafficSpec,
    ref: VirtualServiceRef,
    weight: number,
    known: Map<string, VirtualService>,
    routes: readonly RouteStep[] | undefined,
  ): Promise<WeightWrite> {
    const name = formatRef(ref);
    for (let attempt = 1; ; attempt++) {
      const current = known.get(name) ?? (await this.get(ref));
      known.set(name, current);
      const planned = planTraffic(spec, ref, current, weight, routes);
      if (!planned.ok) throw new InvalidReferenceError(planned.errors.map(formatPlanError));
      if (!planned.plan.changed) return { ref, patched: false, attempts: attempt };
      const response = await this.http.send<VirtualService>(
        'PATCH',
        resourcePath(VIRTUAL_SERVICES, ref.namespace, ref.name),
        planned.plan.patch,
        CONTENT_TYPES.jsonPatch,
      );
      if (response.status === 200) {
        known.set(name, response.body);
        return { ref, patched: true, attempts: attempt };
      }
      const raced = response.status === 409 || response.status === 422;
      if (!raced || attempt >= MAX_ATTEMPTS) {
        throw KubeApiError.from(
          `PATCH VirtualService ${name} to canary weight ${weight}${routes ? ` and managed routes [${routes.map((step) => routeOf(step).name).join(', ')}]` : ''} (attempt ${attempt})`,
          response,
        );
      }
      known.delete(name);
    }
  }
}
