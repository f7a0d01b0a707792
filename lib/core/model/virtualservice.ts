/**
 * The parts of an Istio VirtualService the planner reads. Everything else is kept as it is, so the
 * types are open: a VirtualService is plain JSON and only weights are ever changed.
 */
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
