/**
 * The managed-routes planner, beside the weight planner: given a VirtualService (as the weight plan
 * leaves it) and the header and mirror routes that should exist, say exactly which routes to add and
 * remove, as a guarded JSON Patch. Argo Rollouts' shapes: managed routes sit at the top of
 * `spec.http` in `managedRoutes` order; a header route sends its matches to the canary; a mirror
 * route keeps the weighted route's destinations and weights and mirrors to the canary.
 */
import type { TrafficSpec, VirtualServiceRef } from '../model/rollout.js';
import type { RouteStep, SetHeaderRoute, SetMirrorRoute, StringMatch } from '../model/route-steps.js';
import type { Destination, Route, RouteDestination, VirtualService } from '../model/virtualservice.js';
import { isManagedRouteName } from './routes.js';
import type { JsonPatchOperation } from './weights.js';

export type ManagedRouteKind = 'header' | 'mirror' | 'other';

export interface ManagedRouteInPlace {
  index: number;
  name: string;
  kind: ManagedRouteKind;
}

export interface ManagedRoutesPlan {
  patch: JsonPatchOperation[];
  result: VirtualService;
}

/**
 * The HTTP route whose destinations a mirror route copies and whose port header routes use: the
 * first route the entry names, or the lone HTTP route the Rollout does not manage. Undefined for a
 * VirtualService the Rollout weights only through TLS/TCP routes: managed routes skip it.
 */
export function weightedHttpRoute(
  spec: TrafficSpec,
  ref: VirtualServiceRef,
  vs: VirtualService,
): Route | undefined {
  const http = vs.spec.http ?? [];
  const first = ref.routes?.[0];
  if (first !== undefined) return http.find((route) => route.name === first);
  const own = http.filter((route) => !isManagedRouteName(route, spec.canary.managedRoutes));
  return own.length === 1 ? own[0] : undefined;
}

/** The routes named in managedRoutes that are in the VirtualService now, top to bottom, for `rollouts get`. */
export function readManagedRoutes(spec: TrafficSpec, vs: VirtualService): ManagedRouteInPlace[] {
  return (vs.spec.http ?? []).flatMap((route, index) =>
    isManagedRouteName(route, spec.canary.managedRoutes)
      ? [{ index, name: route.name as string, kind: kindOf(route) }]
      : [],
  );
}

function kindOf(route: Route): ManagedRouteKind {
  if (route.mirror !== undefined) return 'mirror';
  return route.match !== undefined && (route.route ?? []).length === 1 ? 'header' : 'other';
}

/** The route a step asks for, exactly as Argo Rollouts writes it (keys in the order the API server returns them). */
export function renderRoute(spec: TrafficSpec, step: RouteStep, weighted: Route): Route {
  const port = (weighted.route ?? [])[0]?.destination?.port;
  if ('setHeaderRoute' in step) return headerRoute(spec, step.setHeaderRoute, port?.number);
  return mirrorRoute(spec, step.setMirrorRoute, weighted, port);
}

function headerRoute(spec: TrafficSpec, step: SetHeaderRoute, port: number | undefined): Route {
  return {
    match: (step.match ?? []).map((entry) => ({
      headers: { [entry.headerName]: stringMatch(entry.headerValue) },
    })),
    name: step.name,
    route: [
      {
        destination: { host: spec.canary.canaryService, ...(port ? { port: { number: port } } : {}) },
        weight: 100,
      },
    ],
  };
}

function mirrorRoute(
  spec: TrafficSpec,
  step: SetMirrorRoute,
  weighted: Route,
  port: Destination['port'] | undefined,
): Route {
  return {
    match: (step.match ?? []).map((entry) => ({
      ...(entry.headers
        ? {
            headers: Object.fromEntries(
              Object.entries(entry.headers).map(([name, value]) => [name, stringMatch(value)]),
            ),
          }
        : {}),
      ...(entry.method ? { method: stringMatch(entry.method) } : {}),
      ...(entry.path ? { uri: stringMatch(entry.path) } : {}),
    })),
    mirror: { host: spec.canary.canaryService, ...(port ? { port: portOf(port) } : {}) },
    mirrorPercentage: { value: step.percentage ?? 100 },
    name: step.name,
    route: (weighted.route ?? []).map(copyDestination),
  };
}

function stringMatch(match: StringMatch): StringMatch {
  if (match.exact) return { exact: match.exact };
  if (match.prefix) return { prefix: match.prefix };
  return { regex: match.regex as string };
}

/** Argo copies host, subset, port number and weight, each only when set (a weight of 0 is left out). */
function copyDestination(entry: RouteDestination): RouteDestination {
  const from = entry.destination ?? {};
  return {
    destination: {
      ...(from.host ? { host: from.host } : {}),
      ...(from.port ? { port: portOf(from.port) } : {}),
      ...(from.subset ? { subset: from.subset } : {}),
    },
    ...(entry.weight ? { weight: entry.weight } : {}),
  };
}

function portOf(port: NonNullable<Destination['port']>): { number?: number } {
  return port.number ? { number: port.number } : {};
}

/**
 * Plans one VirtualService. `desired` lists the routes that should exist (their steps have a
 * match), in any order; every other route named in managedRoutes is removed. `vs` is not changed.
 * `read`, when the weights were planned first, is the VirtualService as read: as in Argo, where
 * SetMirrorRoute runs before SetWeight, a new mirror route copies the weighted route as it was and
 * its weights then follow the new ones (so a weight the pass takes to 0 stays written as 0).
 */
export function planManagedRoutes(
  spec: TrafficSpec,
  ref: VirtualServiceRef,
  vs: VirtualService,
  desired: readonly RouteStep[],
  read: VirtualService = vs,
): ManagedRoutesPlan {
  const result = structuredClone(vs);
  const patch: JsonPatchOperation[] = [];
  const managed = spec.canary.managedRoutes;
  const weighted = weightedHttpRoute(spec, ref, result);
  const http = result.spec.http;
  if (managed.length === 0 || !weighted || !http) return { patch, result };
  const copied = weightedHttpRoute(spec, ref, read);
  const source = copied && sameApartFromWeights(copied, weighted) ? copied : weighted;

  const wanted = new Map<string, Route>();
  for (const step of desired) {
    const rendered = withWeightsOf(renderRoute(spec, step, source), weighted);
    if (managed.includes(rendered.name as string)) wanted.set(rendered.name as string, rendered);
  }
  const order = managed.filter((name) => wanted.has(name));

  // Keep a managed route only where it belongs: above every other route, in managedRoutes order,
  // once, with the content its step asks for (weights aside: those are brought along in place).
  const kept = new Set<string>();
  let lastRank = -1;
  let below = false;
  for (let index = 0; index < http.length;) {
    const route = http[index] as Route;
    if (!isManagedRouteName(route, managed)) {
      below = true;
      index++;
      continue;
    }
    const name = route.name as string;
    const target = wanted.get(name);
    const rank = order.indexOf(name);
    if (!below && target && !kept.has(name) && rank > lastRank && sameApartFromWeights(route, target)) {
      patch.push(...followWeights(index, route, target));
      kept.add(name);
      lastRank = rank;
      index++;
      continue;
    }
    patch.push({ op: 'test', path: `/spec/http/${index}`, value: structuredClone(route) });
    patch.push({ op: 'remove', path: `/spec/http/${index}` });
    http.splice(index, 1);
  }
  order.forEach((name, position) => {
    if (kept.has(name)) return;
    patch.push(...neighbourTests(http, position));
    const route = wanted.get(name) as Route;
    patch.push({ op: 'add', path: `/spec/http/${position}`, value: structuredClone(route) });
    http.splice(position, 0, route);
  });
  return { patch, result };
}

/** An insert lands between the same two routes it was planned between, or not at all. */
function neighbourTests(http: Route[], position: number): JsonPatchOperation[] {
  const tests: JsonPatchOperation[] = [];
  for (const index of [position - 1, position]) {
    if (index >= 0 && index < http.length)
      tests.push({ op: 'test', path: `/spec/http/${index}`, value: structuredClone(http[index]) });
  }
  return tests;
}

/** A mirror route's weights follow the weighted route: changed in place, each guarded by its destination. */
function followWeights(index: number, route: Route, target: Route): JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  (target.route ?? []).forEach((wanted, position) => {
    const entry = (route.route ?? [])[position] as RouteDestination;
    const weight = wanted.weight ?? 0;
    if ((entry.weight ?? 0) === weight) return;
    const path = `/spec/http/${index}/route/${position}`;
    ops.push({ op: 'test', path: `${path}/destination`, value: structuredClone(entry.destination) });
    ops.push({ op: entry.weight === undefined ? 'add' : 'replace', path: `${path}/weight`, value: weight });
    entry.weight = weight;
  });
  return ops;
}

/** A copied mirror route with the weights of the weighted route as planned, each set only where it differs. */
function withWeightsOf(route: Route, weighted: Route): Route {
  if (route.mirror === undefined) return route;
  const destinations = (route.route ?? []).map((entry, position) => {
    const weight = weighted.route?.[position]?.weight ?? 0;
    return (entry.weight ?? 0) === weight ? entry : { ...entry, weight };
  });
  return { ...route, route: destinations };
}

function sameApartFromWeights(route: Route, target: Route): boolean {
  const strip = (value: Route) => ({
    ...value,
    route: (value.route ?? []).map(({ weight: _weight, ...rest }) => rest),
  });
  return canonical(strip(route)) === canonical(strip(target));
}

/** JSON with sorted keys: equality that ignores key order, as the API server's does. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}
