/**
 * The parts of an Istio VirtualService the planner reads. Everything else is kept as it is, so the
 * types are open: a VirtualService is plain JSON and only weights are ever changed.
 */
import { z } from 'zod';
import type { Result } from '../result.js';
import { formatIssueList } from './issues.js';

export interface Destination {
  host?: string;
  subset?: string;
  port?: { number?: number };
  [field: string]: unknown;
}
export interface RouteDestination {
  destination?: Destination;
  weight?: number;
  [field: string]: unknown;
}
export interface L4Match {
  port?: number;
  sniHosts?: string[];
  [field: string]: unknown;
}
export interface Route {
  name?: string;
  match?: L4Match[] | unknown[];
  route?: RouteDestination[];
  [field: string]: unknown;
}
export interface VirtualService {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; [field: string]: unknown };
  spec: { http?: Route[]; tls?: Route[]; tcp?: Route[]; [field: string]: unknown };
  [field: string]: unknown;
}

export function isVirtualService(value: unknown): value is VirtualService {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { kind?: unknown; metadata?: { name?: unknown }; spec?: unknown };
  return (
    candidate.kind === 'VirtualService' &&
    typeof candidate.metadata?.name === 'string' &&
    typeof candidate.spec === 'object' &&
    candidate.spec !== null
  );
}

// The shape of the fields the planner reads; everything else passes through as it is. A field set
// to null reads as left out, as the API server prunes it.
const port = z.looseObject({ number: z.number().int().min(0).max(65535).nullish() });
const destination = z.looseObject({
  host: z.string().nullish(),
  subset: z.string().nullish(),
  port: port.nullish(),
});
const routeSchema = z.looseObject({
  name: z.string().nullish(),
  match: z.array(z.looseObject({})).nullish(),
  route: z
    .array(z.looseObject({ destination: destination.nullish(), weight: z.number().int().min(0).nullish() }))
    .nullish(),
  mirror: destination.nullish(),
  mirrorPercentage: z.looseObject({ value: z.number().min(0).max(100).nullish() }).nullish(),
});
const virtualServiceSchema = z.looseObject({
  kind: z.literal('VirtualService'),
  metadata: z.looseObject({ name: z.string().min(1), namespace: z.string().min(1).nullish() }),
  spec: z.looseObject({
    http: z.array(routeSchema).nullish(),
    tls: z.array(routeSchema).nullish(),
    tcp: z.array(routeSchema).nullish(),
  }),
});

/**
 * A VirtualService read from a file, checked where the planner reads it (routes, destinations,
 * weights, ports, mirror): each problem with its field path, instead of a planner that trips on it.
 */
export function parseVirtualService(value: unknown): Result<VirtualService, string[]> {
  const parsed = virtualServiceSchema.safeParse(value);
  return parsed.success
    ? { ok: true, value: value as VirtualService }
    : { ok: false, error: formatIssueList(parsed.error) };
}
