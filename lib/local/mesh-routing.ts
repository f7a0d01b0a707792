/**
 * How the mesh simulator's synthetic requests travel, as pure functions of a VirtualService, the
 * request and random draws: the first HTTP route whose match applies (method, uri, headers), then
 * one of its destinations by weight, plus a shadow copy to the route's `mirror` for the
 * `mirrorPercentage` share of requests (Istio's default: all); and how the serving image answers
 * (the demo's `bad-*` images fail a share of requests and answer slower, as
 * argoproj/rollouts-demo's bad images are used to show).
 */
import { RE2JS } from 're2js';
import type { Destination, Route, RouteDestination, VirtualService } from '../core/model/virtualservice.js';

export interface SimulatedRequest {
  /** Upper-case HTTP method; GET when absent. */
  method?: string;
  path: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
}

export interface Routed {
  route?: string;
  destination: Destination;
  /** Where a shadow copy of the request goes (its answer is dropped), when the route mirrors this one. */
  mirror?: Destination;
}

type StringMatch = { exact?: string; prefix?: string; regex?: string };

/**
 * The destination of one request, or undefined when no route matches (Istio answers 404).
 * `draw` picks the destination by weight, `mirrorDraw` whether the request is mirrored; both in [0, 1).
 */
export function routeRequest(
  vs: VirtualService,
  request: SimulatedRequest,
  draw: number,
  mirrorDraw = 0,
): Routed | undefined {
  const route = (vs.spec.http ?? []).find((candidate) => routeMatches(candidate, request));
  const destination = route && pickDestination(route.route ?? [], draw);
  if (!destination) return undefined;
  const mirror = route.mirror as Destination | undefined;
  const mirrored = mirror && mirrorDraw * 100 < mirrorShare(route);
  return { route: route.name, destination, ...(mirrored ? { mirror } : {}) };
}

/** The percentage of a route's requests Istio mirrors: `mirrorPercentage.value`, all when absent. */
function mirrorShare(route: Route): number {
  const value = (route.mirrorPercentage as { value?: unknown } | undefined)?.value;
  return typeof value === 'number' ? value : 100;
}

/** Istio: no match list matches everything; otherwise any one match, all of whose conditions hold. */
export function routeMatches(route: Route, request: SimulatedRequest): boolean {
  const matches = (route.match ?? []) as {
    headers?: Record<string, StringMatch>;
    withoutHeaders?: Record<string, StringMatch>;
    uri?: StringMatch;
    method?: StringMatch;
  }[];
  if (matches.length === 0) return true;
  return matches.some(
    (match) =>
      Object.entries(match.headers ?? {}).every(([name, want]) =>
        stringMatches(want, request.headers[name.toLowerCase()]),
      ) &&
      Object.entries(match.withoutHeaders ?? {}).every(
        ([name, want]) => !stringMatches(want, request.headers[name.toLowerCase()]),
      ) &&
      (match.uri === undefined || stringMatches(match.uri, request.path)) &&
      (match.method === undefined || stringMatches(match.method, request.method ?? 'GET')),
  );
}

const compiled = new Map<string, RE2JS>();

/** Envoy matches Istio's regex with RE2, against the whole value. */
function fullMatch(regex: string, value: string): boolean {
  let pattern = compiled.get(regex);
  if (!pattern) {
    try {
      pattern = RE2JS.compile(regex);
    } catch {
      return false; // Istio refuses such a VirtualService; the simulator routes nothing through the match.
    }
    compiled.set(regex, pattern);
  }
  return pattern.matches(value);
}

function stringMatches(want: StringMatch, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (want.exact !== undefined) return value === want.exact;
  if (want.prefix !== undefined) return value.startsWith(want.prefix);
  if (want.regex !== undefined) return fullMatch(want.regex, value);
  return true; // An empty match ({}) asks only that the header be present.
}

/** One destination by weight for a draw in [0, 1); a lone destination needs no weight. */
export function pickDestination(route: RouteDestination[], draw: number): Destination | undefined {
  if (route.length === 1) return route[0]?.destination;
  const total = route.reduce((sum, one) => sum + (one.weight ?? 0), 0);
  if (total <= 0) return undefined;
  let point = draw * total;
  for (const one of route) {
    const weight = one.weight ?? 0;
    if (weight > 0 && point < weight) return one.destination;
    point -= weight;
  }
  return route.findLast((one) => (one.weight ?? 0) > 0)?.destination;
}

export interface Answer {
  code: number;
  durationMs: number;
}

/** The demo app's images are `argoproj/rollouts-demo:<color>`; `bad-<color>` ones misbehave. */
export function isBadImage(image: string | undefined): boolean {
  return /:bad-[^:/]*$/.test(image ?? '');
}

/**
 * How a pod running `image` answers, from two draws in [0, 1): a bad image fails `badErrorRate`
 * of its requests with 500 and takes 300-700 ms; a good one 10-50 ms. No ready pod: 503 at once.
 */
export function answer(
  image: string | undefined,
  ready: boolean,
  draws: [number, number],
  badErrorRate: number,
): Answer {
  if (!ready || image === undefined) return { code: 503, durationMs: 0 };
  if (isBadImage(image))
    return { code: draws[0] < badErrorRate ? 500 : 200, durationMs: Math.round(300 + 400 * draws[1]) };
  return { code: 200, durationMs: Math.round(10 + 40 * draws[1]) };
}
