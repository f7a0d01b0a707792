/**
 * The VirtualService weight planner: given a Rollout's traffic spec, the VirtualServices as they
 * are, and a canary weight, say exactly what to write. Pure: the Kubernetes adapter and
 * `rollouts preview` both act on its answer.
 */
import type { Result } from '../result.js';
import type { TrafficSpec, VirtualServiceRef } from '../model/rollout.js';
import { formatRef, type ObjectRef } from '../model/references.js';
import type { RouteDestination, VirtualService } from '../model/virtualservice.js';
import {
  describeRoute,
  selectManagedRoutes,
  type ManagedRoute,
  type RouteProblem,
  type Section,
} from './routes.js';

export type JsonPatchOperation =
  | { op: 'test'; path: string; value: unknown }
  | { op: 'replace' | 'add'; path: string; value: unknown }
  | { op: 'remove'; path: string };

export interface RouteWeights {
  section: Section;
  index: number;
  name?: string;
  stable: number;
  canary: number;
}

export interface VirtualServicePlan {
  ref: ObjectRef;
  /** JSON Patch (RFC 6902): `test`s of each destination and its weight as read guard the weight written. */
  patch: JsonPatchOperation[];
  /** The VirtualService as the patch leaves it. */
  result: VirtualService;
  changed: boolean;
  routes: RouteWeights[];
}

export interface PlanError extends RouteProblem {
  virtualService: string;
}

export type PlanResult = Result<VirtualServicePlan[], PlanError[]>;

export function formatPlanError(error: PlanError): string {
  const where = error.route
    ? `VirtualService ${error.virtualService}, ${error.route}`
    : `VirtualService ${error.virtualService}`;
  return `${where}: ${error.message}`;
}

export function findVirtualService(
  virtualServices: readonly VirtualService[],
  ref: ObjectRef,
  defaultNamespace: string,
): VirtualService | undefined {
  return virtualServices.find(
    (vs) => vs.metadata.name === ref.name && (vs.metadata.namespace ?? defaultNamespace) === ref.namespace,
  );
}

/** Plans every VirtualService the Rollout names, in its order; all problems are reported, none half-planned. */
export function plan(
  spec: TrafficSpec,
  virtualServices: readonly VirtualService[],
  weight: number,
): PlanResult {
  if (!Number.isInteger(weight) || weight < 0 || weight > 100) {
    return {
      ok: false,
      error: [
        {
          virtualService: '(all)',
          message: `canary weight must be a whole number from 0 to 100, found ${weight}`,
        },
      ],
    };
  }
  const plans: VirtualServicePlan[] = [];
  const errors: PlanError[] = [];
  for (const ref of spec.canary.virtualServices) {
    const planned = planOne(spec, ref, findVirtualService(virtualServices, ref, spec.namespace), weight);
    if (planned.ok) plans.push(planned.value);
    else errors.push(...planned.error);
  }
  return errors.length ? { ok: false, error: errors } : { ok: true, value: plans };
}

/** Plans one VirtualService: what a retry after a conflict re-runs against a fresh read. */
export function planOne(
  spec: TrafficSpec,
  ref: VirtualServiceRef,
  vs: VirtualService | undefined,
  weight: number,
): Result<VirtualServicePlan, PlanError[]> {
  const name = formatRef(ref);
  if (!vs) {
    return {
      ok: false,
      error: [
        { virtualService: name, message: `VirtualService not found (referenced as '${ref.reference}')` },
      ],
    };
  }
  const selection = selectManagedRoutes(spec, ref, vs);
  if (!selection.ok)
    return { ok: false, error: selection.error.map((problem) => ({ virtualService: name, ...problem })) };

  const result = structuredClone(vs);
  const patch: JsonPatchOperation[] = [];
  const desired = { stable: 100 - weight, canary: weight };
  for (const managed of selection.value) {
    const destinations = result.spec[managed.section]?.[managed.index]?.route as RouteDestination[];
    for (const role of ['stable', 'canary'] as const) {
      const position = managed[role];
      const entry = destinations[position] as RouteDestination;
      // As in Argo, a weight left out is 0: it is written only when it must change.
      if ((entry.weight ?? 0) === desired[role]) continue;
      const path = `/spec/${managed.section}/${managed.index}/route/${position}`;
      patch.push({ op: 'test', path: `${path}/destination`, value: entry.destination });
      // The weight we read, too: a writer that changed it since (another runner) makes this a 422.
      if (entry.weight !== undefined) patch.push({ op: 'test', path: `${path}/weight`, value: entry.weight });
      patch.push({
        op: entry.weight === undefined ? 'add' : 'replace',
        path: `${path}/weight`,
        value: desired[role],
      });
      entry.weight = desired[role];
    }
  }
  const routes = selection.value.map((managed) => weightsOf(result, managed));
  const unbalanced = routes.find((route) => sumOfWeights(result, route) !== 100);
  if (unbalanced) {
    return {
      ok: false,
      error: [
        {
          virtualService: name,
          route: describeRoute(
            unbalanced.section,
            unbalanced.index,
            result.spec[unbalanced.section]?.[unbalanced.index],
          ),
          message: `weights would sum to ${sumOfWeights(result, unbalanced)}, not 100; nothing written`,
        },
      ],
    };
  }
  return {
    ok: true,
    value: {
      ref: { namespace: ref.namespace, name: ref.name },
      patch,
      result,
      changed: patch.length > 0,
      routes,
    },
  };
}

/** The weights a Rollout's managed routes carry now, for `rollouts get` and the runner's observation. */
export function readWeights(
  spec: TrafficSpec,
  ref: VirtualServiceRef,
  vs: VirtualService,
): Result<RouteWeights[], PlanError[]> {
  const selection = selectManagedRoutes(spec, ref, vs);
  if (!selection.ok) {
    return {
      ok: false,
      error: selection.error.map((problem) => ({ virtualService: formatRef(ref), ...problem })),
    };
  }
  return { ok: true, value: selection.value.map((managed) => weightsOf(vs, managed)) };
}

function weightsOf(vs: VirtualService, managed: ManagedRoute): RouteWeights {
  const destinations = vs.spec[managed.section]?.[managed.index]?.route ?? [];
  return {
    section: managed.section,
    index: managed.index,
    ...(managed.name ? { name: managed.name } : {}),
    stable: destinations[managed.stable]?.weight ?? 0,
    canary: destinations[managed.canary]?.weight ?? 0,
  };
}

function sumOfWeights(vs: VirtualService, route: RouteWeights): number {
  const destinations = vs.spec[route.section]?.[route.index]?.route ?? [];
  return destinations.reduce((sum, destination) => sum + (destination.weight ?? 0), 0);
}
