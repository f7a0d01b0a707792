/**
 * Local mode's analysis path end to end, with real parts: the demo's VirtualService in the real
 * API server at 50/50, a bad canary image, the mesh simulator splitting requests by those weights,
 * a real Prometheus scraping it, and examples/istio-demo's AnalysisTemplate queries read through
 * the prometheus provider. The bad canary's success rate and latency must give it away; stable's not.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createProviders } from '../../lib/adapters/metrics/registry.js';
import { CONTENT_TYPES } from '../../lib/adapters/kube/http.js';
import { startLocalMetrics, type LocalMetrics } from '../../lib/local/mesh.js';
import { waitFor } from '../../lib/local/processes.js';
import type { LocalPrometheus } from '../../lib/local/prometheus.js';
import { REPO_ROOT } from '../../lib/local/testcluster.js';
import { admin, applyDemo, createNamespace, waitForAvailable } from './sandbox.js';

interface Template {
  spec: { metrics: { name: string; provider: { prometheus: { address: string; query: string } } }[] };
}

/** The template's query with its args filled in, as the analysis run will substitute them. */
function templateQuery(file: string, args: Record<string, string>): string {
  const template = parse(
    readFileSync(join(REPO_ROOT, 'examples/istio-demo/analysis', file), 'utf8'),
  ) as Template;
  const query = template.spec.metrics[0]?.provider.prometheus.query ?? '';
  return query.replace(/\{\{args\.([\w-]+)\}\}/g, (_, name: string) => args[name] ?? `{{args.${name}}}`);
}

/** A fixed pseudo-random sequence, so the split does not depend on luck. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

let namespace: string;
let metrics: LocalMetrics;
let prometheus: LocalPrometheus;
const providers = createProviders();

beforeAll(async () => {
  namespace = await createNamespace('mesh');
  await applyDemo(namespace);
  const kube = admin();
  const canary = await kube.send(
    'PATCH',
    `/apis/apps/v1/namespaces/${namespace}/deployments/rollouts-demo-canary`,
    {
      spec: {
        replicas: 1,
        template: {
          spec: { containers: [{ name: 'rollouts-demo', image: 'argoproj/rollouts-demo:bad-red' }] },
        },
      },
    },
    CONTENT_TYPES.strategicMergePatch,
  );
  expect(canary.status).toBe(200);
  const weights = await kube.send(
    'PATCH',
    `/apis/networking.istio.io/v1beta1/namespaces/${namespace}/virtualservices/rollouts-demo-vsvc1`,
    [
      { op: 'replace', path: '/spec/http/0/route/0/weight', value: 50 },
      { op: 'replace', path: '/spec/http/0/route/1/weight', value: 50 },
    ],
    CONTENT_TYPES.jsonPatch,
  );
  expect(weights.status).toBe(200);
  await waitForAvailable(namespace, 'rollouts-demo-stable', 1);
  await waitForAvailable(namespace, 'rollouts-demo-canary', 1);

  metrics = await startLocalMetrics({
    kube,
    namespace,
    virtualServices: ['rollouts-demo-vsvc1'],
    requestsPerSecond: 50,
    random: seeded(7),
    logFile: join(REPO_ROOT, '.tmp/prometheus-mesh-test.log'),
  });
  prometheus = metrics.prometheus;
}, 180_000);

afterAll(async () => {
  await metrics?.stop();
});

const fqdn = (service: string) => `${service}.${namespace}.svc.cluster.local`;

async function measure(file: string, service: string): Promise<number> {
  const query = templateQuery(file, { 'service-name': fqdn(service) });
  return waitFor(
    `${file} for ${service} to have data in Prometheus (${prometheus.logFile})`,
    async () => {
      const result = await providers.measure(
        { prometheus: { address: prometheus.url, query } },
        { now: new Date(), timeoutMs: 5000 },
      );
      if (!result.ok) throw new Error(result.error);
      const values = result.value.value as number[];
      return values.length > 0 && !Number.isNaN(values[0]) ? (values[0] as number) : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
}

describe('the mesh simulator, scraped by a real Prometheus, read through the demo templates', () => {
  it('splits requests by the VirtualService weights', async () => {
    const query = (service: string) =>
      `sum(istio_requests_total{reporter="source",destination_service_name="${service}"})`;
    await measure('success-rate.yaml', 'rollouts-demo-canary');
    const [stable = 0, canary = 0] = await Promise.all(
      ['rollouts-demo-stable', 'rollouts-demo-canary'].map(async (service) => {
        const result = await providers.measure(
          { prometheus: { address: prometheus.url, query: query(service) } },
          { now: new Date(), timeoutMs: 5000 },
        );
        if (!result.ok) throw new Error(result.error);
        return (result.value.value as number[])[0] ?? 0;
      }),
    );
    expect(stable).toBeGreaterThan(0);
    expect(canary / (stable + canary)).toBeGreaterThan(0.35);
    expect(canary / (stable + canary)).toBeLessThan(0.65);
  });

  it('gives the bad canary a success rate far below the template’s 0.95, and stable a perfect one', async () => {
    const canary = await measure('success-rate.yaml', 'rollouts-demo-canary');
    expect(canary).toBeGreaterThan(0.2);
    expect(canary).toBeLessThan(0.8);
    expect(await measure('success-rate.yaml', 'rollouts-demo-stable')).toBe(1);
  });

  it('gives the bad canary a p99 latency above the template’s 250 ms, and stable one below', async () => {
    expect(await measure('latency.yaml', 'rollouts-demo-canary')).toBeGreaterThan(250);
    expect(await measure('latency.yaml', 'rollouts-demo-stable')).toBeLessThan(250);
  });
});
