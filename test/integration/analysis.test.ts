/**
 * Analysis on real parts: the runner against the test control plane and DynamoDB Local, the
 * templates stored by `rollouts apply`, measured by the prometheus provider against a real
 * Prometheus whose Istio request series were backfilled with promtool. The runner's clock starts
 * at the backfilled instant and moves 5 s a pass, so every query's answer is known.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyOf, type RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import type { StoredRollout } from '../../lib/adapters/dynamodb/types.js';
import { applyFiles, get } from '../../lib/app/cli/store-commands.js';
import { runPass } from '../../lib/app/runner/pass.js';
import type { RunnerDeps } from '../../lib/app/runner/ports.js';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgePublisher } from '../../lib/adapters/aws/events.js';
import type { Rollout } from '../../lib/core/model/rollout.js';
import {
  openMetrics,
  startPrometheus,
  type LocalPrometheus,
  type Series,
} from '../../lib/local/prometheus.js';
import { REPO_ROOT } from '../../lib/local/testcluster.js';
import { createNamespace, applyDemo, waitForAvailable } from './sandbox.js';
import {
  createStore,
  demoRolloutIn,
  everyRoute,
  routeWeights,
  runnerDeps,
  YELLOW,
} from './runner-harness.js';

/** 2026-01-01T00:00:00Z: the runner's clock starts here. */
const T = 1_767_225_600;
/** A sample every 15 s from 10 minutes before T to 30 minutes after, 7 s off the quarter-minute. */
const times = Array.from({ length: 160 }, (_, k) => T - 600 + 15 * k + 7);

/** istio_requests_total as a source proxy reports it, for one destination: `ok` 200s and `failed` 503s per 15 s. */
function requests(service: string, ok: number, failed: number): Series[] {
  const labels = (code: string) => ({
    reporter: 'source',
    destination_service: service,
    response_code: code,
  });
  return [
    {
      name: 'istio_requests_total',
      type: 'counter',
      labels: labels('200'),
      samples: times.map((t, k) => [t, ok * k]),
    },
    {
      name: 'istio_requests_total',
      type: 'counter',
      labels: labels('503'),
      samples: times.map((t, k) => [t, failed * k]),
    },
  ];
}

let prometheus: LocalPrometheus;
let store: RolloutStore;

beforeAll(async () => {
  prometheus = await startPrometheus({
    logFile: join(REPO_ROOT, '.tmp/analysis-test-prometheus.log'),
    backfill: openMetrics([...requests('good-canary', 99, 1), ...requests('bad-canary', 50, 50)]),
  });
  store = await createStore();
}, 120_000);

afterAll(async () => {
  await prometheus?.stop();
});

/** The demo in a fresh namespace, its success-rate template applied with `rollouts apply`, and a Rollout analysing `service`. */
async function analysedDemo(prefix: string, service: string): Promise<Rollout> {
  const namespace = await createNamespace(prefix);
  await applyDemo(namespace);
  await waitForAvailable(namespace, 'rollouts-demo-stable', 1);
  const template = readFileSync('examples/istio-demo/analysis/success-rate.yaml', 'utf8').replace(
    'namespace: default',
    `namespace: ${namespace}`,
  );
  const applied = await applyFiles({ store }, [{ path: 'success-rate.yaml', text: template }], Date.now());
  expect(applied).toEqual({ ok: true, stdout: `AnalysisTemplate ${namespace}/success-rate configured\n` });
  const rollout = demoRolloutIn(namespace, (doc) => {
    doc.spec.strategy.canary.steps = [
      { setWeight: 20 },
      {
        analysis: {
          templates: [{ templateName: 'success-rate' }],
          args: [
            { name: 'service-name', value: service },
            { name: 'prometheus-address', value: prometheus.url },
          ],
        },
      },
      { pause: {} },
    ];
  });
  await store.apply(rollout, Date.now());
  await store.enqueueCommand(keyOf(rollout), { kind: 'setImage', image: YELLOW }, 'test', Date.now());
  return rollout;
}

/** Passes with the injected clock 5 s further each time, until `done` (at most 60 passes). */
async function passUntil(
  rollout: Rollout,
  done: (stored: StoredRollout) => boolean,
  overrides: Partial<RunnerDeps> = {},
): Promise<StoredRollout> {
  let now = T * 1000;
  const deps = runnerDeps(store, 'runner-analysis', { clock: () => now, ...overrides });
  let last: StoredRollout | undefined;
  for (let pass = 0; pass < 60; pass++) {
    await runPass(deps, { only: [keyOf(rollout)] });
    last = await store.get(keyOf(rollout));
    if (last && done(last)) return last;
    now += 5000;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `rollout did not get there: ${JSON.stringify(last?.status)} ${JSON.stringify(last?.lastError)}`,
  );
}

describe('step analysis against a real Prometheus', () => {
  it('a failing success rate aborts the rollout by itself, both VirtualServices back at 100/0', async () => {
    const rollout = await analysedDemo('analysis-bad', 'bad-canary');
    const eventBridge = mockClient(EventBridgeClient);
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const events = new EventBridgePublisher(new EventBridgeClient({ region: 'us-east-1' }), 'rollouts-bus');
    const aborted = await passUntil(rollout, (s) => s.status.phase === 'Degraded', { events });
    expect(aborted.status.message).toBe(
      'Rollout aborted update to revision 2: Step-based analysis phase failed: Metric "success-rate" assessed Failed due to failed (2) > failureLimit (1)',
    );
    expect(aborted.status.analysis?.step?.results[0]).toMatchObject({ failed: 2, successful: 0 });
    expect(aborted.status.analysis?.step?.results[0]?.measurements.map((m) => m.value)).toEqual([
      '[0.5]',
      '[0.5]',
    ]);
    expect(await routeWeights(rollout)).toEqual(everyRoute(100, 0));

    // The engine's analysis lifecycle events reach EventBridge with the run's message.
    const runId = aborted.status.analysis?.step?.id;
    const published = eventBridge
      .commandCalls(PutEventsCommand)
      .flatMap((call) => call.args[0].input.Entries ?? [])
      .map((entry) => ({ type: entry.DetailType, detail: JSON.parse(entry.Detail as string) }));
    expect(published.filter((entry) => entry.type?.startsWith('Analysis Run'))).toEqual([
      {
        type: 'Analysis Run Started',
        detail: expect.objectContaining({
          rollout: 'rollouts-demo',
          stepIndex: 1,
          message: `Step-based analysis run ${runId} started (AnalysisTemplate ${rollout.namespace}/success-rate)`,
        }),
      },
      {
        type: 'Analysis Run Failed',
        detail: expect.objectContaining({
          phase: 'Degraded',
          stepIndex: 1,
          message: `Step-based analysis run ${runId} Failed: Metric "success-rate" assessed Failed due to failed (2) > failureLimit (1)`,
        }),
      },
    ]);
    eventBridge.restore();

    const shown = await get({ store }, keyOf(rollout));
    if (!shown.ok) throw new Error(shown.stderr);
    const run = aborted.status.analysis?.step;
    const [first, second] = run?.results[0]?.measurements ?? [];
    expect(shown.stdout).toContain(
      [
        'Analysis:',
        `  Step-based (step 2) ${run?.id}: Failed: Metric "success-rate" assessed Failed due to failed (2) > failureLimit (1)`,
        '    success-rate: Failed (successful 0, failed 2, inconclusive 0, error 0): Metric assessed Failed due to failed (2) > failureLimit (1)',
        `      #0 ${first?.at} Failed [0.5]`,
        `      #1 ${second?.at} Failed [0.5]`,
        '',
      ].join('\n'),
    );
  });

  it('a passing success rate completes the analysis step', async () => {
    const rollout = await analysedDemo('analysis-good', 'good-canary');
    const paused = await passUntil(rollout, (s) => s.status.stepIndex === 2 || s.status.phase === 'Degraded');
    expect(paused.status).toMatchObject({ phase: 'Paused', stepIndex: 2, weight: 20 });
    expect(paused.status.analysis?.step).toMatchObject({
      phase: 'Successful',
      results: [{ name: 'success-rate', successful: 3, failed: 0 }],
    });
    expect(await routeWeights(rollout)).toEqual(everyRoute(80, 20));
  });
});
