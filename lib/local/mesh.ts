/**
 * The mesh simulator for local mode and the demo: a steady loop of synthetic requests through the
 * real VirtualServices in the sandbox API server, split by their current weights (and header,
 * method and uri matches; a mirror route's share also reaches its mirror as a shadow copy),
 * answered as the serving Deployment's image would, and counted in Istio's standard metrics
 * (`istio_requests_total`, `istio_request_duration_milliseconds`) with Istio's labels on a
 * loopback /metrics that the local Prometheus scrapes. AnalysisTemplates written for a real Istio
 * mesh therefore run unchanged against it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, Registry } from 'prom-client';
import type { Destination, VirtualService } from '../core/model/virtualservice.js';
import type { KubeHttp } from '../adapters/kube/http.js';
import { DEPLOYMENTS, resourcePath, VIRTUAL_SERVICES } from '../adapters/kube/resources.js';
import { answer, routeRequest, type SimulatedRequest } from './mesh-routing.js';
import { startPrometheus, type LocalPrometheus } from './prometheus.js';

/** Istio's default buckets for request durations, in milliseconds. */
const ISTIO_DURATION_BUCKETS = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
  3600000,
];
const LABELS = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_app',
  'source_canonical_service',
  'destination_workload',
  'destination_workload_namespace',
  'destination_app',
  'destination_canonical_service',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'request_protocol',
  'response_code',
  'response_flags',
  'connection_security_policy',
] as const;

export interface MeshOptions {
  /** Admin access to the sandbox API server. */
  kube: KubeHttp;
  namespace: string;
  /** The VirtualServices whose HTTP routes the requests go through. */
  virtualServices: string[];
  /** Requests per second through each VirtualService (default 20). */
  requestsPerSecond?: number;
  /** Share of failed requests from a `bad-*` image (default 0.5). */
  badErrorRate?: number;
  /** A share of the requests carries this header (for header-based routes). */
  testHeader?: { name: string; value: string; share: number };
  /** Where requests come from, as Istio names the ingress (default istio-ingressgateway). */
  sourceWorkload?: string;
  random?: () => number;
  /** Called when reading the cluster fails; the loop goes on with what it knew. */
  onError?: (error: Error) => void;
}

export interface MeshSimulator {
  /** host:port of /metrics, for a Prometheus scrape target. */
  target: string;
  metricsUrl: string;
  /** Requests simulated so far. */
  requests(): number;
  stop(): Promise<void>;
}

interface Backend {
  workload: string;
  app: string;
  image?: string;
  ready: boolean;
}

const TICK_MS = 100;
const REFRESH_MS = 1000;

export async function startMesh(options: MeshOptions): Promise<MeshSimulator> {
  const random = options.random ?? Math.random;
  const registry = new Registry();
  const requestsTotal = new Counter({
    name: 'istio_requests_total',
    help: 'Requests handled by the simulated mesh',
    labelNames: LABELS,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'istio_request_duration_milliseconds',
    help: 'Request durations in the simulated mesh',
    labelNames: LABELS,
    buckets: ISTIO_DURATION_BUCKETS,
    registers: [registry],
  });

  let virtualServices: VirtualService[] = [];
  let backends = new Map<string, Backend>();
  const refresh = async () => {
    try {
      [virtualServices, backends] = await Promise.all([
        readVirtualServices(options.kube, options.namespace, options.virtualServices),
        readBackends(options.kube, options.namespace),
      ]);
    } catch (error) {
      options.onError?.(error as Error);
    }
  };
  await refresh();

  let count = 0;
  let carry = 0;
  const perTick = ((options.requestsPerSecond ?? 20) * TICK_MS) / 1000;
  const source = options.sourceWorkload ?? 'istio-ingressgateway';
  const namespace = options.namespace;
  /** One request to `destination` (undefined: no route matched) as the given reporters count it. */
  const send = (destination: Destination | undefined, reporters: readonly ('source' | 'destination')[]) => {
    const service = destination?.host?.split('.')[0];
    const backend = service ? backends.get(service) : undefined;
    const reply = destination
      ? answer(backend?.image, backend?.ready ?? false, [random(), random()], options.badErrorRate ?? 0.5)
      : { code: 404, durationMs: 0 };
    for (const reporter of reporters) {
      const labels = {
        reporter,
        source_workload: source,
        source_workload_namespace: 'istio-system',
        source_app: source,
        source_canonical_service: source,
        destination_workload: backend?.workload ?? 'unknown',
        destination_workload_namespace: backend ? namespace : 'unknown',
        destination_app: backend?.app ?? 'unknown',
        destination_canonical_service: backend?.app ?? 'unknown',
        destination_service: service ? `${service}.${namespace}.svc.cluster.local` : 'unknown',
        destination_service_name: service ?? 'unknown',
        destination_service_namespace: service ? namespace : 'unknown',
        request_protocol: 'http',
        response_code: String(reply.code),
        response_flags: reply.code === 503 ? 'UH' : reply.code === 404 ? 'NR' : '-',
        connection_security_policy: reporter === 'destination' ? 'mutual_tls' : 'unknown',
      };
      requestsTotal.inc(labels);
      duration.observe(labels, reply.durationMs);
    }
  };
  const simulate = () => {
    carry += perTick;
    const n = Math.floor(carry);
    carry -= n;
    for (const vs of virtualServices)
      for (let i = 0; i < n; i++) {
        const request = syntheticRequest(options.testHeader, random());
        const routed = routeRequest(vs, request, random(), random());
        send(routed?.destination, ['source', 'destination']);
        // A mirrored (shadow) copy is seen only by the mirror's own sidecar: Istio's gateway reports
        // the request it answers, so analyses on reporter="source" never count the shadow traffic.
        if (routed?.mirror) send(routed.mirror, ['destination']);
        count++;
      }
  };

  const loop = setInterval(simulate, TICK_MS);
  const refresher = setInterval(() => void refresh(), REFRESH_MS);
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: Error) => res.writeHead(500).end(error.message),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    target,
    metricsUrl: `http://${target}/metrics`,
    requests: () => count,
    stop: async () => {
      clearInterval(loop);
      clearInterval(refresher);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function syntheticRequest(testHeader: MeshOptions['testHeader'], draw: number): SimulatedRequest {
  const headers: Record<string, string> = { 'user-agent': 'mesh-simulator' };
  if (testHeader && draw < testHeader.share) headers[testHeader.name.toLowerCase()] = testHeader.value;
  return { path: '/color', headers };
}

async function readVirtualServices(
  kube: KubeHttp,
  namespace: string,
  names: string[],
): Promise<VirtualService[]> {
  return Promise.all(
    names.map(async (name) => {
      const response = await kube.send<VirtualService>(
        'GET',
        resourcePath(VIRTUAL_SERVICES, namespace, name),
      );
      if (response.status !== 200)
        throw new Error(`mesh simulator: GET VirtualService ${namespace}/${name}: HTTP ${response.status}`);
      return response.body;
    }),
  );
}

interface ServiceList {
  items: { metadata: { name: string }; spec?: { selector?: Record<string, string> } }[];
}
interface DeploymentList {
  items: {
    metadata: { name: string };
    spec: {
      template: {
        metadata?: { labels?: Record<string, string> };
        spec: { containers: { image?: string }[] };
      };
    };
    status?: { availableReplicas?: number };
  }[];
}

/** Each Service of the namespace with the Deployment its selector picks (by pod template labels). */
async function readBackends(kube: KubeHttp, namespace: string): Promise<Map<string, Backend>> {
  const [services, deployments] = await Promise.all([
    kube.send<ServiceList>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/services`),
    kube.send<DeploymentList>('GET', resourcePath(DEPLOYMENTS, namespace)),
  ]);
  if (services.status !== 200 || deployments.status !== 200)
    throw new Error(
      `mesh simulator: listing Services and Deployments in ${namespace}: HTTP ${services.status}/${deployments.status}`,
    );
  const backends = new Map<string, Backend>();
  for (const service of services.body.items) {
    const selector = Object.entries(service.spec?.selector ?? {});
    if (selector.length === 0) continue;
    const deployment = deployments.body.items.find((candidate) => {
      const labels = candidate.spec.template.metadata?.labels ?? {};
      return selector.every(([key, value]) => labels[key] === value);
    });
    if (!deployment) continue;
    const labels = deployment.spec.template.metadata?.labels ?? {};
    backends.set(service.metadata.name, {
      workload: deployment.metadata.name,
      app: labels.app ?? deployment.metadata.name,
      image: deployment.spec.template.spec.containers[0]?.image,
      ready: (deployment.status?.availableReplicas ?? 0) > 0,
    });
  }
  return backends;
}

export interface LocalMetrics {
  mesh: MeshSimulator;
  prometheus: LocalPrometheus;
  /** The `prometheus-address` arg for examples/istio-demo/analysis templates. */
  prometheusUrl: string;
  stop(): Promise<void>;
}

/** Local mode's metrics: the mesh simulator and a real Prometheus scraping it every second. */
export async function startLocalMetrics(options: MeshOptions & { logFile: string }): Promise<LocalMetrics> {
  const mesh = await startMesh(options);
  try {
    const prometheus = await startPrometheus({
      logFile: options.logFile,
      scrape: [{ job: 'mesh', target: mesh.target, intervalSeconds: 1 }],
    });
    return {
      mesh,
      prometheus,
      prometheusUrl: prometheus.url,
      stop: async () => {
        await prometheus.stop();
        await mesh.stop();
      },
    };
  } catch (error) {
    await mesh.stop();
    throw error;
  }
}
