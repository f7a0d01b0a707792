/**
 * Which routes of a VirtualService a Rollout manages, by Argo Rollouts' rules: HTTP routes by
 * name, TLS/TCP routes by an exact port and SNI-host match, and a lone route when none is named.
 */
import type { Result } from '../result.js';
import type { TrafficSpec, VirtualServiceRef, TlsRouteMatch } from '../model/rollout.js';
import type { L4Match, Route, RouteDestination, VirtualService } from '../model/virtualservice.js';

export type Section = 'http' | 'tls' | 'tcp';
export const SECTIONS: readonly Section[] = ['http', 'tls', 'tcp'];

export const ROUTE_MESSAGES = {
  httpNotFound: (name: string) => `HTTP Route '${name}' is not found in the defined Virtual Service.`,
  exactlyOne: (section: Section, field: string) =>
    `spec.${section}[] should be set in VirtualService and it must have exactly one route when omitting spec.strategy.canary.trafficRouting.istio.virtualService.${field}`,
  noTls: 'No matching TLS routes found in the defined Virtual Service.',
  noTcp: 'No matching TCP routes found in the defined Virtual Service.',
  canaryMissing: (service: string) => `Canary Service '${service}' not found in route`,
  stableMissing: (service: string) => `Stable Service '${service}' not found in route`,
} as const;

/** A managed route with the positions of its stable and canary destinations. */
export interface ManagedRoute {
  section: Section;
  index: number;
  name?: string;
  stable: number;
  canary: number;
}

export interface RouteProblem {
  /** Which route, for the message: e.g. `http route 'http-primary' (spec.http[0])`; absent when no route was found. */
  route?: string;
  message: string;
}

export type Selection = Result<ManagedRoute[], RouteProblem[]>;

export function describeRoute(section: Section, index: number, route: Route | undefined): string {
  const position = `spec.${section}[${index}]`;
  return route?.name ? `${section} route '${route.name}' (${position})` : `${section} route ${position}`;
}

export function selectManagedRoutes(
  spec: TrafficSpec,
  ref: VirtualServiceRef,
  vs: VirtualService,
): Selection {
  const problems: RouteProblem[] = [];
  const routes: ManagedRoute[] = [];
  for (const section of SECTIONS) {
    const indexes = selectIndexes(section, ref, vs.spec[section] ?? [], spec.canary.managedRoutes);
    if (!indexes.ok) {
      problems.push({ message: indexes.message });
      continue;
    }
    for (const index of indexes.value) {
      const route = vs.spec[section]?.[index];
      const located = locateDestinations(spec, route?.route ?? []);
      if (located.ok)
        routes.push({ section, index, ...(route?.name ? { name: route.name } : {}), ...located.value });
      else problems.push({ route: describeRoute(section, index, route), message: located.message });
    }
  }
  return problems.length ? { ok: false, error: problems } : { ok: true, value: routes };
}

type Indexes = { ok: true; value: number[] } | { ok: false; message: string };

function selectIndexes(
  section: Section,
  ref: VirtualServiceRef,
  routes: Route[],
  managedRoutes: readonly string[],
): Indexes {
  const wanted = section === 'http' ? ref.routes : section === 'tls' ? ref.tlsRoutes : ref.tcpRoutes;
  if (!wanted || wanted.length === 0) {
    // As in Argo, the routes a Rollout adds itself (managedRoutes) do not count against the lone route.
    const candidates = routes.flatMap((route, index) =>
      section === 'http' && isManagedRouteName(route, managedRoutes) ? [] : [index],
    );
    if (candidates.length === 0) return { ok: true, value: [] };
    if (candidates.length > 1) {
      const field = section === 'http' ? 'routes' : section === 'tls' ? 'tlsRoutes' : 'tcpRoutes';
      return {
        ok: false,
        message: `${ROUTE_MESSAGES.exactlyOne(section, field)} (found ${candidates.length} ${section} routes)`,
      };
    }
    return { ok: true, value: candidates };
  }
  if (section === 'http') return selectHttp(ref.routes ?? [], routes);
  const indexes = new Set<number>();
  for (const match of wanted as TlsRouteMatch[]) {
    const found = routes.flatMap((route, index) => (l4Matches(match, route) ? [index] : []));
    if (found.length === 0) {
      const noMatch = section === 'tls' ? ROUTE_MESSAGES.noTls : ROUTE_MESSAGES.noTcp;
      return {
        ok: false,
        message: `${noMatch} Wanted ${describeMatch(match)}; found ${describeL4Routes(routes)}.`,
      };
    }
    found.forEach((index) => indexes.add(index));
  }
  return { ok: true, value: [...indexes].sort((a, b) => a - b) };
}

/** Whether a route carries a name the Rollout's managedRoutes declares. */
export function isManagedRouteName(route: Route | undefined, managedRoutes: readonly string[]): boolean {
  return typeof route?.name === 'string' && managedRoutes.includes(route.name);
}

function selectHttp(names: string[], routes: Route[]): Indexes {
  const indexes: number[] = [];
  for (const name of names) {
    const index = routes.findIndex((route) => route.name === name);
    if (index < 0) {
      const present = routes.map((route) => (route.name ? `'${route.name}'` : '(unnamed)'));
      return {
        ok: false,
        message: `${ROUTE_MESSAGES.httpNotFound(name)} Found HTTP routes: ${present.length ? present.join(', ') : 'none'}.`,
      };
    }
    if (!indexes.includes(index)) indexes.push(index);
  }
  return { ok: true, value: indexes.sort((a, b) => a - b) };
}

/** A route matches when its match blocks name exactly one port (or none), equal to the wanted one, and exactly the wanted SNI hosts. */
function l4Matches(wanted: TlsRouteMatch, route: Route): boolean {
  const blocks = (route.match ?? []) as L4Match[];
  const ports = new Set(blocks.map((block) => block.port ?? 0));
  if (ports.size > 1) return false;
  const port = ports.size === 1 ? [...ports][0] : 0;
  if (port !== (wanted.port ?? 0)) return false;
  const hosts = new Set(blocks.flatMap((block) => block.sniHosts ?? []));
  const wantedHosts = new Set(wanted.sniHosts ?? []);
  return hosts.size === wantedHosts.size && [...wantedHosts].every((host) => hosts.has(host));
}

function describeMatch(match: TlsRouteMatch): string {
  const parts = [`port ${match.port ?? '(none)'}`];
  if (match.sniHosts) parts.push(`sniHosts [${match.sniHosts.join(', ')}]`);
  return parts.join(' and ');
}

function describeL4Routes(routes: Route[]): string {
  if (routes.length === 0) return 'no routes in this section';
  return routes
    .map((route, index) => {
      const blocks = (route.match ?? []) as L4Match[];
      const ports = [...new Set(blocks.map((block) => block.port ?? '(none)'))].join(', ') || '(none)';
      const hosts = [...new Set(blocks.flatMap((block) => block.sniHosts ?? []))];
      return `[${index}] port ${ports}${hosts.length ? ` sniHosts [${hosts.join(', ')}]` : ''}`;
    })
    .join('; ');
}

type Located = { ok: true; value: { stable: number; canary: number } } | { ok: false; message: string };

function locateDestinations(spec: TrafficSpec, destinations: RouteDestination[]): Located {
  const { canaryService, stableService } = spec.canary;
  const canary = positionsOf(destinations, canaryService, spec.namespace);
  const stable = positionsOf(destinations, stableService, spec.namespace);
  const found = `found destinations: ${describeDestinations(destinations)}`;
  if (canary.length === 0)
    return { ok: false, message: `${ROUTE_MESSAGES.canaryMissing(canaryService)} (${found})` };
  if (stable.length === 0)
    return { ok: false, message: `${ROUTE_MESSAGES.stableMissing(stableService)} (${found})` };
  if (canary.length > 1 || stable.length > 1) {
    return {
      ok: false,
      message: `expected one destination each for the stable and canary services, ${found}`,
    };
  }
  const others = destinations.filter((_, index) => index !== canary[0] && index !== stable[0]);
  const weighted = others.filter((destination) => (destination.weight ?? 0) !== 0);
  if (weighted.length > 0) {
    return {
      ok: false,
      message: `destination ${weighted
        .map((d) => `'${d.destination?.host ?? '(no host)'}' has weight ${d.weight}`)
        .join(
          ', ',
        )}, but only the stable service '${stableService}' and canary service '${canaryService}' may carry traffic in a managed route; set the other weights to 0`,
    };
  }
  return { ok: true, value: { stable: stable[0] as number, canary: canary[0] as number } };
}

function positionsOf(destinations: RouteDestination[], service: string, namespace: string): number[] {
  const names = new Set([
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ]);
  return destinations.flatMap((entry, index) => (names.has(entry.destination?.host ?? '') ? [index] : []));
}

function describeDestinations(destinations: RouteDestination[]): string {
  if (destinations.length === 0) return 'none';
  return destinations
    .map((d) => `${d.destination?.host ?? '(no host)'}=${d.weight ?? '(no weight)'}`)
    .join(', ');
}
