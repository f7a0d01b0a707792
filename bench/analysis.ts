/**
 * Issue 13's figures for `npm run bench`:
 *  - measurement cost per pass: a runner pass (DynamoDB Local store, in-memory cluster) whose step
 *    analysis has N metrics due, each a PromQL query to a real Prometheus with backfilled series,
 *    against a pass of the same Rollout with nothing due. Prometheus's own request counter says how
 *    many queries reached it.
 *  - wake lateness of a 20-minute pause on the SQS path, simulated clock (lib/local/wake-simulation.ts),
 *    from several start instants within the schedule's minute, with and without arming the wake-up
 *    once it is within SQS's reach (without: the one-minute schedule alone ends the pause).
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { MemorySecrets } from '../lib/adapters/memory/analysis.js';
import { MemoryCluster, MemoryClusters } from '../lib/adapters/memory/cluster.js';
import { MemoryPublisher } from '../lib/adapters/memory/events.js';
import { RecordedWakeups } from '../lib/adapters/memory/wakeups.js';
import { createProviders } from '../lib/adapters/metrics/registry.js';
import { localDynamoDbClient } from '../lib/adapters/dynamodb/client.js';
import { keyOf, RolloutStore } from '../lib/adapters/dynamodb/repository.js';
import { createTableInput } from '../lib/adapters/dynamodb/table.js';
import { runPass } from '../lib/app/runner/pass.js';
import type { RunnerDeps } from '../lib/app/runner/ports.js';
import { parseAnalysisTemplate } from '../lib/core/analysis/template.js';
import { parseRollout, type Rollout } from '../lib/core/model/rollout.js';
import { isVirtualService } from '../lib/core/model/virtualservice.js';
import { openMetrics, startPrometheus, type LocalPrometheus } from '../lib/local/prometheus.js';
import { readManifests, REPO_ROOT } from '../lib/local/testcluster.js';
import { simulatePause } from '../lib/local/wake-simulation.js';
import { sdkDocuments } from '../lib/adapters/dynamodb/sdk-documents.js';

const NAMESPACE = 'bench-analysis';
/** 2026-01-01T00:00:00Z: the backfilled series end 30 minutes after it; the runner's clock starts there. */
const T = 1_767_225_600;
const SERVICE = 'canary.bench-analysis.svc.cluster.local';
const QUERY = `sum(irate(istio_requests_total{reporter="source",destination_service=~"${SERVICE}",response_code!~"5.*"}[1m])) / sum(irate(istio_requests_total{reporter="source",destination_service=~"${SERVICE}"}[1m]))`;

export interface MeasurementCost {
  metrics: number;
  /** Passes measured (each with every metric due), medians below. */
  passes: number;
  prometheusQueries: number;
  passMs: number;
  /** The same Rollout's pass with nothing due, for comparison. */
  idlePassMs: number;
}

export interface WakeLateness {
  pauseSeconds: number;
  /** Start instants tried, spread over the schedule's minute. */
  starts: number;
  armed: { maxMs: number; passes: number; sqsMessages: number };
  /** The same pause with the schedule alone ending it (no wake-up beyond SQS's reach armed). */
  scheduleOnly: { maxMs: number; p50Ms: number };
}

export interface AnalysisBench {
  date: string;
  loadAverage: number[];
  measurementCost: MeasurementCost[];
  wakeLateness: WakeLateness;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? (sorted[Math.floor((sorted.length - 1) / 2)] as number) : NaN;
};

/** Prometheus's own count of /api/v1/query requests, from its /metrics (reading it is not a query). */
async function queriesServed(prometheus: LocalPrometheus): Promise<number> {
  const text = await (await fetch(`${prometheus.url}/metrics`)).text();
  return [
    ...text.matchAll(/^prometheus_http_requests_total\{[^}]*handler="\/api\/v1\/query"[^}]*\} (\S+)$/gm),
  ]
    .map((match) => Number(match[1]))
    .reduce((sum, value) => sum + value, 0);
}

function rolloutWith(name: string, template: string, address: string): Rollout {
  const document = structuredClone(
    readManifests(join(REPO_ROOT, 'examples/istio-demo'), 'rollout.yaml')[0],
  ) as { metadata: unknown; spec: { strategy: { canary: { steps: unknown[] } } } };
  document.metadata = { name, namespace: NAMESPACE };
  document.spec.strategy.canary.steps = [
    { setWeight: 20 },
    {
      analysis: { templates: [{ templateName: template }], args: [{ name: 'address', value: address }] },
    },
    { setWeight: 50 },
  ];
  const parsed = parseRollout(document);
  if (!parsed.ok) throw new Error(parsed.error.join('; '));
  return parsed.value;
}

function templateDocument(name: string, metrics: number, count: number) {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: { name, namespace: NAMESPACE },
    spec: {
      args: [{ name: 'address' }],
      metrics: Array.from({ length: metrics }, (_, index) => ({
        name: `success-rate-${index + 1}`,
        interval: '10s',
        count,
        successCondition: 'result[0] >= 0.95',
        provider: { prometheus: { address: '{{args.address}}', query: QUERY } },
      })),
    },
  };
}

async function measurementCost(
  store: RolloutStore,
  prometheus: LocalPrometheus,
  metrics: number,
  passes: number,
  name = `analysis-${metrics}`,
): Promise<MeasurementCost> {
  const document = templateDocument(`bench-${name}`, metrics, passes + 1);
  const template = parseAnalysisTemplate(document);
  if (!template.ok) throw new Error(template.error.join('; '));
  let now = T * 1000;
  await store.applyTemplate(template.value, document, now);
  const rollout = rolloutWith(name, `bench-${name}`, prometheus.url);
  await store.apply(rollout, now);
  const key = keyOf(rollout);
  await store.enqueueCommand(key, { kind: 'setImage', image: 'argoproj/rollouts-demo:yellow' }, 'bench', now);
  const cluster = new MemoryCluster(
    {
      [`${NAMESPACE}/rollouts-demo-stable`]: {
        container: 'rollouts-demo',
        image: 'argoproj/rollouts-demo:blue',
        replicas: 1,
      },
      [`${NAMESPACE}/rollouts-demo-canary`]: {
        container: 'rollouts-demo',
        image: 'argoproj/rollouts-demo:blue',
        replicas: 0,
      },
    },
    readManifests(join(REPO_ROOT, 'examples/istio-demo'), 'virtualservices.yaml')
      .filter(isVirtualService)
      .map((vs) => ({ ...vs, metadata: { ...vs.metadata, namespace: NAMESPACE } })),
    { name: 'default', namespaces: [NAMESPACE] },
  );
  const deps: RunnerDeps = {
    store,
    clusters: new MemoryClusters({ default: cluster }),
    events: new MemoryPublisher(),
    wakeups: new RecordedWakeups(),
    metrics: createProviders(),
    secrets: new MemorySecrets(),
    owner: 'bench-analysis',
    clock: () => now,
  };
  const pass = async () => {
    const before = await queriesServed(prometheus);
    const started = performance.now();
    await runPass(deps, { only: [key] });
    const ms = performance.now() - started;
    return { ms, queries: (await queriesServed(prometheus)) - before };
  };
  // Up to the analysis step: the pass that starts the run takes its first measurements.
  for (let attempt = 0; ; attempt++) {
    await pass();
    if ((await store.get(key))?.status.analysis?.step?.results[0]?.taken) break;
    if (attempt > 10)
      throw new Error(
        `${name}: the analysis step did not start: ${JSON.stringify((await store.get(key))?.status)}`,
      );
    now += 1000;
  }
  const measured: { ms: number; queries: number }[] = [];
  const idle: { ms: number; queries: number }[] = [];
  for (let index = 0; index < passes; index++) {
    now += 1000; // nothing due yet
    idle.push(await pass());
    now += 9000; // the interval since the last measurement is over: every metric is due
    measured.push(await pass());
  }
  const status = (await store.get(key))?.status;
  const taken = status?.analysis?.step?.results.map((result) => result.taken) ?? [];
  if (taken.some((count) => count !== passes + 1) || idle.some((entry) => entry.queries !== 0))
    throw new Error(`${name}: expected ${passes + 1} measurements of each metric, and none in idle passes`);
  return {
    metrics,
    passes,
    prometheusQueries: median(measured.map((entry) => entry.queries)),
    passMs: Math.round(median(measured.map((entry) => entry.ms))),
    idlePassMs: Math.round(median(idle.map((entry) => entry.ms))),
  };
}

async function wakeLateness(starts: number): Promise<WakeLateness> {
  const pauseSeconds = 20 * 60;
  const offsets = Array.from({ length: starts }, (_, index) => Math.round((index * 60_000) / starts) + 500);
  const armed = [];
  const scheduleOnly = [];
  for (const startAfterTickMs of offsets) {
    // A resync longer than the pause: only the wake-up design ends it, not a resync that happens to.
    armed.push(await simulatePause({ pauseSeconds, resyncSeconds: 3600, startAfterTickMs }));
    scheduleOnly.push(
      await simulatePause({ pauseSeconds, resyncSeconds: 3600, startAfterTickMs, armBeyondReach: false }),
    );
  }
  return {
    pauseSeconds,
    starts,
    armed: {
      maxMs: Math.max(...armed.map((run) => run.latenessMs)),
      passes: Math.max(...armed.map((run) => run.passes)),
      sqsMessages: Math.max(...armed.map((run) => run.messages.length)),
    },
    scheduleOnly: {
      maxMs: Math.max(...scheduleOnly.map((run) => run.latenessMs)),
      p50Ms: median(scheduleOnly.map((run) => run.latenessMs)),
    },
  };
}

export async function analysisBench(
  dynamoEndpoint: string,
  smoke: boolean,
  log: (message: string) => void,
): Promise<AnalysisBench> {
  log('analysis: a real Prometheus with backfilled Istio series');
  const times = Array.from({ length: 160 }, (_, k) => T - 600 + 15 * k + 7);
  const series = (code: string, perStep: number) => ({
    name: 'istio_requests_total',
    type: 'counter' as const,
    labels: { reporter: 'source', destination_service: SERVICE, response_code: code },
    samples: times.map((t, k): [number, number] => [t, perStep * k]),
  });
  const prometheus = await startPrometheus({
    logFile: join(REPO_ROOT, '.tmp/bench-prometheus.log'),
    backfill: openMetrics([series('200', 99), series('503', 1)]),
  });
  try {
    const client = localDynamoDbClient(dynamoEndpoint);
    await client.send(new CreateTableCommand(createTableInput('analysis')));
    const store = new RolloutStore(sdkDocuments(client), 'analysis');
    const passes = smoke ? 2 : 5;
    // A first Rollout's passes pay for warming up (modules, connections, DynamoDB Local): not counted.
    await measurementCost(store, prometheus, 1, 1, 'warm-up');
    const cost: MeasurementCost[] = [];
    for (const metrics of smoke ? [1, 5] : [1, 5, 20]) {
      log(`analysis: passes measuring ${metrics} metric(s)`);
      cost.push(await measurementCost(store, prometheus, metrics, passes));
    }
    log('analysis: a 20-minute pause on the SQS wake-up path, simulated clock');
    return {
      date: new Date().toISOString(),
      loadAverage: loadavg(),
      measurementCost: cost,
      wakeLateness: await wakeLateness(smoke ? 3 : 12),
    };
  } finally {
    await prometheus.stop();
  }
}
