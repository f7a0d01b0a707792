/**
 * The runner's own logic on the in-memory ports: leases, save conflicts, error recording and
 * back-off, command order, events after the save, wake-ups. The real-part tests in
 * test/integration cover the same pass against DynamoDB Local and a real API server.
 */
import { describe, expect, it } from '@jest/globals';
import { MemoryClusters, MemoryCluster, type ClusterRequest } from '../../lib/adapters/memory/cluster.js';
import { MemoryPublisher } from '../../lib/adapters/memory/events.js';
import { RecordingLogger } from '../../lib/adapters/memory/logger.js';
import { MemorySecrets, ScriptedProvider } from '../../lib/adapters/memory/analysis.js';
import { MemoryStore } from '../../lib/adapters/memory/store.js';
import { RecordedWakeups } from '../../lib/adapters/memory/wakeups.js';
import { handleRunnerInput } from '../../lib/app/runner/handle.js';
import { runPass } from '../../lib/app/runner/pass.js';
import { ClusterApiError, type RunnerDeps, type StoredRollout } from '../../lib/app/runner/ports.js';
import { describeRollout } from '../../lib/app/cli/describe.js';
import { err, ok } from '../../lib/core/result.js';
import {
  backoffMs,
  DEFAULT_LEASE_MS,
  MAX_SAVE_ATTEMPTS,
  processRollout,
  REFUSED_RETRY_MS,
} from '../../lib/app/runner/process-rollout.js';
import type { Rollout } from '../../lib/core/model/rollout.js';
import { demoRollout, demoVirtualServices } from './fixtures.js';

const T0 = Date.parse('2026-11-26T10:00:00Z');
const BLUE = 'argoproj/rollouts-demo:blue';
const YELLOW = 'argoproj/rollouts-demo:yellow';
const RED = 'argoproj/rollouts-demo:red';
const STABLE = 'default/rollouts-demo-stable';
const CANARY = 'default/rollouts-demo-canary';

function world(change?: (doc: any) => void) {
  let now = T0;
  const rollout: Rollout = demoRollout(change);
  const store = new MemoryStore();
  const key = store.register(rollout, now);
  const cluster = new MemoryCluster(
    {
      [STABLE]: { container: 'rollouts-demo', image: BLUE, replicas: 1 },
      [CANARY]: { container: 'rollouts-demo', image: BLUE, replicas: 0 },
    },
    demoVirtualServices(),
  );
  const clusters = new MemoryClusters({ default: cluster });
  const events = new MemoryPublisher();
  const wakeups = new RecordedWakeups();
  const logger = new RecordingLogger();
  const provider = new ScriptedProvider();
  const secrets = new MemorySecrets();
  const deps: RunnerDeps = {
    store,
    clusters,
    events,
    wakeups,
    metrics: provider,
    secrets,
    owner: 'runner-a',
    clock: () => now,
    engine: { pollSeconds: 1, resyncSeconds: 10 },
    logger,
  };
  return {
    rollout,
    key,
    store,
    provider,
    secrets,
    cluster,
    clusters,
    events,
    wakeups,
    logger,
    deps,
    advance: (ms: number) => (now += ms),
    now: () => now,
    setImage: (image: string) => store.enqueueCommand(key, { kind: 'setImage', image }, 'test', now),
  };
}

const onWrite = (request: ClusterRequest) =>
  request.kind === 'setImage' || request.kind === 'scale' || request.kind === 'patch';

describe('a runner pass on the in-memory ports', () => {
  it('applies queued commands in the order they were received', async () => {
    const w = world();
    await w.setImage(YELLOW);
    await w.setImage(RED);
    const outcome = await processRollout(w.deps, w.key);
    expect(outcome).toMatchObject({ result: 'done', status: { canaryImage: RED } });
    const commands = w.store.history(w.key).filter((entry) => entry.kind === 'command');
    expect(commands.map((entry) => entry.message)).toEqual([
      expect.stringMatching(/^set image argoproj\/rollouts-demo:yellow from test: /),
      expect.stringMatching(/^set image argoproj\/rollouts-demo:red from test: /),
    ]);
    expect(w.cluster.writes().filter((r) => r.kind === 'setImage')).toEqual([
      { kind: 'setImage', deployment: CANARY, image: YELLOW },
      { kind: 'setImage', deployment: CANARY, image: RED },
    ]);
    expect(await w.store.pendingCommands(w.key)).toEqual([]);
  });

  it('publishes lifecycle events only after the transition is saved, and schedules the wake-up it saved', async () => {
    const w = world();
    await w.setImage(YELLOW);
    const seenAtPublish: unknown[] = [];
    w.deps.events = {
      publish: async (events) => {
        seenAtPublish.push(
          w.store.get(w.key)?.status.canaryImage,
          events.map((e) => e.event.type),
        );
      },
    };
    const outcome = await processRollout(w.deps, w.key);
    expect(seenAtPublish).toEqual([YELLOW, ['Rollout Started']]);
    const saved = w.store.get(w.key);
    expect(outcome).toMatchObject({ result: 'done', dueAt: saved?.dueAt });
    expect(w.wakeups.scheduled).toEqual([{ key: w.key, at: saved?.dueAt, now: T0 }]);
  });

  it('times a wake-up from the instant it is scheduled, so a slow pass does not end a pause late', async () => {
    const w = world((doc) => (doc.spec.strategy.canary.steps = [{ pause: { duration: '10s' } }]));
    await w.setImage(YELLOW);
    w.cluster.onRequest = () => void w.advance(100);
    await processRollout(w.deps, w.key);
    const saved = w.store.get(w.key);
    // The pause began at the pass's start; the pass then took its time before scheduling.
    expect(saved?.status.pauseUntil).toBe(new Date(T0 + 10_000).toISOString());
    expect(w.now()).toBeGreaterThan(T0);
    expect(w.wakeups.scheduled).toEqual([{ key: w.key, at: T0 + 10_000, now: w.now() }]);
  });

  it('watches the pods it waits for from before its save, and ends that watch when the save loses', async () => {
    const w = world();
    await w.setImage(YELLOW);
    const order: string[] = [];
    w.deps.watchSeconds = 30;
    w.cluster.deployments.waitFor = async (_ns, name, _after, _container, _seconds, _ready, signal) => {
      order.push(`watch ${name}`);
      signal?.addEventListener('abort', () => order.push('watch aborted'));
      return undefined; // timed out: the pass falls back to its wake-up
    };
    const savePass = w.store.savePass.bind(w.store);
    w.store.savePass = async (input) => {
      order.push('save');
      return savePass(input);
    };
    expect(await processRollout(w.deps, w.key)).toMatchObject({ result: 'done' });
    expect(order).toEqual(['watch rollouts-demo-canary', 'save']);
    expect(w.wakeups.scheduled).toHaveLength(1);

    // The next attempt to save loses to a concurrent change: the watch it started is ended.
    order.length = 0;
    await w.setImage(RED);
    w.store.savePass = async (input) => {
      order.push('save');
      return order.filter((o) => o === 'save').length === 1 ? err('conflict') : savePass(input);
    };
    await processRollout(w.deps, w.key);
    expect(order.slice(0, 3)).toEqual(['watch rollouts-demo-canary', 'save', 'watch aborted']);
  });

  it('publishes nothing when the status was never saved; only the retry is scheduled', async () => {
    const w = world();
    await w.setImage(YELLOW);
    // A command arrives during every attempt: no save can win.
    w.cluster.onRequest = async (request) => {
      if (request.kind === 'observe' && request.deployment === STABLE)
        await w.store.enqueueCommand(w.key, { kind: 'promote' }, 'cli', w.now());
    };
    const outcome = await processRollout(w.deps, w.key);
    expect(outcome).toMatchObject({ result: 'error', retryAt: T0 + 10_000 });
    expect(w.events.events).toEqual([]);
    expect(w.wakeups.scheduled).toEqual([{ key: w.key, at: T0 + 10_000, now: T0 }]);
    expect(w.store.get(w.key)?.status.phase).toBe('Healthy');
  });

  it('re-reads and retries when a command arrives during the pass, and applies that command too', async () => {
    const w = world();
    await w.setImage(YELLOW);
    let raced = false;
    w.cluster.onRequest = async (request) => {
      if (!raced && onWrite(request)) {
        raced = true;
        await w.store.enqueueCommand(w.key, { kind: 'abort' }, 'cli', w.now());
      }
    };
    const outcome = await processRollout(w.deps, w.key);
    expect(w.store.calls.filter((c) => c.method === 'savePass')).toHaveLength(2);
    expect(outcome).toMatchObject({ result: 'done', status: { phase: 'Degraded' } });
    // Only the attempt that saved published: one start, and the abort last.
    const types = w.events.events.map((e) => e.event.type);
    expect(types.filter((type) => type === 'Rollout Started')).toHaveLength(1);
    expect(types.at(-1)).toBe('Rollout Aborted');
  });

  it(`gives up after ${MAX_SAVE_ATTEMPTS} conflicting saves and records why`, async () => {
    const w = world();
    await w.setImage(YELLOW);
    w.cluster.onRequest = async (request) => {
      if (request.kind === 'observe' && request.deployment === STABLE)
        await w.store.enqueueCommand(w.key, { kind: 'promote' }, 'cli', w.now());
    };
    const outcome = await processRollout(w.deps, w.key);
    expect(w.store.calls.filter((c) => c.method === 'savePass')).toHaveLength(MAX_SAVE_ATTEMPTS);
    expect(outcome).toMatchObject({
      result: 'error',
      message: `status not saved: the rollout changed during ${MAX_SAVE_ATTEMPTS} passes in a row`,
    });
    expect(w.store.get(w.key)?.lastError).toMatchObject({
      message: `status not saved: the rollout changed during ${MAX_SAVE_ATTEMPTS} passes in a row`,
      count: 1,
    });
  });

  it('does nothing with a Rollout another runner holds', async () => {
    const w = world();
    await w.setImage(YELLOW);
    await w.store.acquireLease(w.key, 'runner-b', w.now(), w.now() + DEFAULT_LEASE_MS);
    expect(await processRollout(w.deps, w.key)).toEqual({ key: w.key, result: 'leased-elsewhere' });
    expect(w.cluster.requests).toEqual([]);
  });

  it('stops before its next cluster write when another runner took the lease mid-pass', async () => {
    const w = world();
    await w.setImage(YELLOW);
    let writes = 0;
    w.cluster.onRequest = async (request) => {
      if (!onWrite(request) || ++writes !== 1) return;
      // The API server was slow: the lease ran out and runner-b took the Rollout.
      w.advance(DEFAULT_LEASE_MS + 1);
      expect(
        await w.store.acquireLease(w.key, 'runner-b', w.now(), w.now() + DEFAULT_LEASE_MS),
      ).toBeDefined();
    };
    const outcome = await processRollout(w.deps, w.key);
    expect(outcome).toMatchObject({ result: 'lease-lost' });
    expect(w.cluster.writes()).toEqual([{ kind: 'setImage', deployment: CANARY, image: YELLOW }]);
    expect(w.store.leaseOf(w.key).owner).toBe('runner-b');
    expect(w.store.get(w.key)?.status.phase).toBe('Healthy');
    expect(w.logger.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'rollout pass stopped: lease lost' }),
    );
  });

  it('writes without a store round trip while three quarters of its lease remain', async () => {
    const w = world();
    await w.setImage(YELLOW);
    w.cluster.onRequest = () => void w.advance(1000);
    expect(await processRollout(w.deps, w.key)).toMatchObject({ result: 'done' });
    expect(w.cluster.writes().length).toBeGreaterThan(0);
    expect(w.store.calls.filter((c) => c.method === 'renewLease')).toEqual([]);
  });

  it('renews its lease before a cluster write once a quarter of it has run, so a slow pass keeps the Rollout', async () => {
    const w = world();
    await w.setImage(YELLOW);
    w.cluster.onRequest = (request) => {
      if (onWrite(request))
        expect(w.store.leaseOf(w.key)).toEqual({ owner: 'runner-a', until: w.now() + DEFAULT_LEASE_MS });
      w.advance(DEFAULT_LEASE_MS / 2);
    };
    expect(await processRollout(w.deps, w.key)).toMatchObject({ result: 'done' });
    const renewals = w.store.calls.filter((c) => c.method === 'renewLease').length;
    expect(renewals).toBe(w.cluster.writes().length);
    expect(renewals).toBeGreaterThan(0);
  });

  it('re-reads and re-plans a VirtualService another writer changed, guarded by the weights it read', async () => {
    const w = world((doc) => (doc.spec.strategy.canary.steps = [{ setWeight: 20 }, { pause: {} }]));
    await w.setImage(YELLOW);
    await processRollout(w.deps, w.key); // canary image and replicas
    w.advance(1000);
    let moved = false;
    w.cluster.onRequest = (request) => {
      if (request.kind !== 'patch' || moved) return;
      moved = true;
      const vs = w.cluster.virtualServicesByName.get('default/rollouts-demo-vsvc1');
      const route = vs?.spec.http?.[0]?.route ?? [];
      (route[0] as { weight?: number }).weight = 90;
      (route[1] as { weight?: number }).weight = 10;
    };
    for (let i = 0; i < 5 && w.store.get(w.key)?.status.weight !== 20; i++) {
      await processRollout(w.deps, w.key);
      w.advance(1000);
    }
    const vsvc1 = w.cluster.requests.filter(
      (r) => 'virtualService' in r && r.virtualService.endsWith('vsvc1'),
    );
    // The first patch fails its weight test (422), so the runner reads again and patches again.
    const kinds = vsvc1.map((r) => r.kind);
    expect(kinds.slice(kinds.indexOf('patch'), kinds.indexOf('patch') + 3)).toEqual([
      'patch',
      'get',
      'patch',
    ]);
    const http = w.cluster.virtualServicesByName.get('default/rollouts-demo-vsvc1')?.spec.http?.[0]?.route;
    expect(http?.map((d) => d.weight)).toEqual([80, 20]);
  });
});

describe('errors', () => {
  it('are recorded once with a count and the last time, backing off from 10 s doubling to 5 minutes', async () => {
    const w = world();
    await w.setImage(YELLOW);
    w.cluster.onRequest = () => {
      throw new ClusterApiError(500, 'GET Deployment default/rollouts-demo-stable: HTTP 500: etcd timeout');
    };
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const outcome = await processRollout(w.deps, w.key);
      if (outcome.result !== 'error') throw new Error(`expected an error, got ${outcome.result}`);
      delays.push(outcome.retryAt - w.now());
      expect(w.store.get(w.key)?.dueAt).toBe(outcome.retryAt);
      w.advance(outcome.retryAt - w.now());
    }
    expect(delays).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
    const stored = w.store.get(w.key);
    expect(stored?.lastError).toEqual({
      message:
        'Rollout default/rollouts-demo on cluster default: GET Deployment default/rollouts-demo-stable: HTTP 500: etcd timeout',
      count: 7,
      firstAt: new Date(T0).toISOString(),
      lastAt: new Date(w.now() - 300_000).toISOString(),
    });
    expect(w.store.history(w.key).filter((entry) => entry.kind === 'error')).toHaveLength(1);
    expect(
      w.logger.lines.filter((l) => l.level === 'error' && l.message === 'rollout pass failed'),
    ).toHaveLength(7);
    // `rollouts get` shows it once, with how often and when last.
    expect(describeRollout(stored as StoredRollout, { unavailable: 'not read' })).toContain(
      `Last error:      ${stored?.lastError?.message} (7 times since 2026-11-26T10:00:00.000Z, last at ${stored?.lastError?.lastAt})`,
    );
  });

  it('honour Retry-After when it asks for longer than the back-off', async () => {
    const w = world();
    w.cluster.onRequest = () => {
      throw new ClusterApiError(429, 'GET Deployment: HTTP 429: too many requests', 45);
    };
    const outcome = await processRollout(w.deps, w.key);
    expect(outcome).toMatchObject({ result: 'error', retryAt: T0 + 45_000 });
    expect(w.wakeups.scheduled).toEqual([{ key: w.key, at: T0 + 45_000, now: T0 }]);
    expect(backoffMs(1, 3)).toBe(10_000);
  });

  it('start counting afresh after a pass that saves', async () => {
    const w = world();
    let failing = true;
    w.cluster.onRequest = () => {
      if (failing) throw new ClusterApiError(500, 'HTTP 500');
    };
    await processRollout(w.deps, w.key);
    w.advance(10_000);
    await processRollout(w.deps, w.key);
    expect(w.store.get(w.key)?.failures).toBe(2);
    failing = false;
    w.advance(20_000);
    await processRollout(w.deps, w.key);
    expect(w.store.get(w.key)).not.toHaveProperty('lastError');
    failing = true;
    w.advance(20_000);
    expect(await processRollout(w.deps, w.key)).toMatchObject({ retryAt: w.now() + 10_000 });
  });

  it('a 403 makes the Rollout InvalidSpec, shown and retried every 5 minutes, not every pass', async () => {
    const w = world();
    await w.setImage(YELLOW);
    const forbidden = 'PATCH Deployment default/rollouts-demo-canary image: HTTP 403: forbidden';
    w.cluster.onRequest = (request) => {
      if (onWrite(request)) throw new ClusterApiError(403, forbidden);
    };
    for (let i = 0; i < 3; i++) {
      expect(await processRollout(w.deps, w.key)).toMatchObject({ result: 'invalid-spec' });
      const stored = w.store.get(w.key);
      expect(stored?.status).toMatchObject({
        phase: 'InvalidSpec',
        message: `Rollout default/rollouts-demo: ${forbidden}`,
      });
      expect(stored?.dueAt).toBe(w.now() + REFUSED_RETRY_MS);
      w.advance(REFUSED_RETRY_MS);
    }
    expect(w.store.history(w.key).filter((e) => e.phase === 'InvalidSpec')).toHaveLength(1);
    // The command is kept for when the rights are granted.
    expect(await w.store.pendingCommands(w.key)).toHaveLength(1);
  });

  it('an unregistered cluster makes the Rollout InvalidSpec, retried every 5 minutes', async () => {
    const w = world((doc) => (doc.spec.cluster = 'prod-eu'));
    expect(await processRollout(w.deps, w.key)).toMatchObject({
      result: 'invalid-spec',
      message: "Rollout default/rollouts-demo: cluster 'prod-eu' is not registered (known: default)",
    });
    expect(w.store.get(w.key)?.dueAt).toBe(T0 + REFUSED_RETRY_MS);
  });

  it('a 401 drops the cached cluster connection, so the next pass connects with fresh credentials', async () => {
    const w = world();
    w.cluster.onRequest = () => {
      throw new ClusterApiError(401, 'GET Deployment: HTTP 401: Unauthorized');
    };
    expect(await processRollout(w.deps, w.key)).toMatchObject({ result: 'error', retryAt: T0 + 10_000 });
    expect(w.clusters.forgotten).toEqual(['default']);
  });
});

describe('runner inputs', () => {
  it('an SQS batch naming the same Rollout twice runs it once', async () => {
    const w = world();
    await w.setImage(YELLOW);
    const result = await handleRunnerInput(w.deps, {
      kind: 'wakeups',
      keys: [
        { key: w.key, messageId: 'm1' },
        { key: { ...w.key }, messageId: 'm2' },
      ],
      malformed: [],
    });
    expect(result.report?.outcomes).toHaveLength(1);
    expect(w.store.calls.filter((c) => c.method === 'acquireLease')).toHaveLength(1);
  });

  it('a pass runs every due Rollout and skips those not due', async () => {
    const w = world();
    w.advance(1000);
    const other = w.store.register(
      demoRollout((doc) => (doc.metadata.name = 'later')),
      w.now() + 60_000,
    );
    const report = await runPass(w.deps);
    expect(report.outcomes.map((o) => o.key)).toEqual([w.key]);
    expect(w.store.calls.some((c) => c.key === `default/default/${other.name}`)).toBe(false);
  });
});

const SUCCESS_RATE_REF = { kind: 'AnalysisTemplate' as const, namespace: 'default', name: 'success-rate' };

/** A Rollout whose second step is an analysis with one measurement of a web metric. */
function analysisWorld(template: (doc: any) => void = () => {}) {
  const w = world((doc) => {
    doc.spec.strategy.canary.steps = [
      { setWeight: 20 },
      { analysis: { templates: [{ templateName: 'success-rate' }] } },
      { pause: {} },
    ];
  });
  const document = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: { name: 'success-rate', namespace: 'default' },
    spec: {
      metrics: [
        {
          name: 'success-rate',
          count: 1,
          successCondition: 'result >= 0.95',
          failureCondition: 'result < 0.95',
          provider: { web: { url: 'http://metrics.test/rate', jsonPath: '{$.rate}' } },
        },
      ],
    },
  };
  template(document);
  w.store.putTemplate(SUCCESS_RATE_REF, document);
  return w;
}

/** Passes, a second apart, until the Rollout leaves the analysis step (or `limit` passes). */
async function passUntilPastAnalysis(w: ReturnType<typeof world>, limit = 20) {
  for (let pass = 0; pass < limit; pass++) {
    await processRollout(w.deps, w.key);
    const status = w.store.get(w.key)?.status;
    if (status && (status.stepIndex >= 2 || status.phase === 'Degraded')) return status;
    w.advance(1000);
  }
  throw new Error(
    `still in the analysis step after ${limit} passes: ${JSON.stringify(w.store.get(w.key)?.status)}`,
  );
}

describe('analysis', () => {
  it('takes the measurement the engine asks for and feeds it to decide: the analysis step completes', async () => {
    const w = analysisWorld();
    w.provider.calls.length = 0;
    (w.provider as any).script.push(ok({ value: 0.99 }));
    await w.setImage(YELLOW);
    const status = await passUntilPastAnalysis(w);
    expect(w.provider.calls).toEqual([
      {
        block: { web: { url: 'http://metrics.test/rate', jsonPath: '{$.rate}' } },
        now: expect.any(Date),
        timeoutMs: 30_000,
      },
    ]);
    expect(status).toMatchObject({ stepIndex: 2, phase: 'Paused', weight: 20 });
    expect(status.analysis?.step).toMatchObject({
      phase: 'Successful',
      results: [{ name: 'success-rate', successful: 1, taken: 1, measurements: [{ phase: 'Successful' }] }],
    });
    const types = w.events.events.map((e) => e.event.type);
    expect(types).toEqual(expect.arrayContaining(['Analysis Run Started', 'Analysis Run Successful']));
  });

  it('aborts the rollout when the measurement fails its condition, traffic back to stable', async () => {
    const w = analysisWorld();
    (w.provider as any).script.push(ok({ value: 0.5 }));
    await w.setImage(YELLOW);
    const status = await passUntilPastAnalysis(w);
    expect(status).toMatchObject({ phase: 'Degraded', weight: 0 });
    expect(status.message).toBe(
      'Rollout aborted update to revision 2: Step-based analysis phase failed: Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0)',
    );
    expect(w.events.events.map((e) => e.event.type)).toEqual(
      expect.arrayContaining(['Analysis Run Failed', 'Rollout Aborted']),
    );
  });

  it('a pass whose save loses discards its measurement: the retry measures again and it counts once', async () => {
    const w = analysisWorld();
    await w.setImage(YELLOW);
    // Reach the analysis step with nothing measured yet (no measurement scripted: the first errors).
    let raced = false;
    w.provider.measure = async (block, options) => {
      w.provider.calls.push({ block, now: options.now, timeoutMs: options.timeoutMs });
      if (!raced) {
        raced = true;
        // Another writer changes the Rollout while this measurement is in flight.
        await w.store.enqueueCommand(w.key, { kind: 'retry' }, 'cli', w.now());
      }
      return ok({ value: 0.99 });
    };
    const status = await passUntilPastAnalysis(w);
    expect(raced).toBe(true);
    expect(w.provider.calls).toHaveLength(2);
    expect(status.analysis?.step?.results[0]).toMatchObject({ taken: 1, successful: 1 });
    expect(status.analysis?.step?.results[0]?.measurements).toHaveLength(1);
  });

  it('reads secret args from Secrets Manager for the provider and masks them in the error it stores', async () => {
    const w = analysisWorld((doc) => {
      doc.spec.args = [
        { name: 'token', valueFrom: { secretsManager: { secretId: 'rollouts/metrics', jsonKey: 'token' } } },
      ];
      doc.spec.metrics[0].consecutiveErrorLimit = 0;
      doc.spec.metrics[0].provider.web.headers = [{ key: 'Authorization', value: 'Bearer {{args.token}}' }];
    });
    const secret = 's3cr3t-value';
    w.deps.secrets = new MemorySecrets({ 'rollouts/metrics': JSON.stringify({ token: secret }) });
    (w.provider as any).script.push(err(`GET http://metrics.test/rate with Bearer ${secret}: 500`));
    await w.setImage(YELLOW);
    const status = await passUntilPastAnalysis(w);
    expect(w.provider.calls[0]?.block).toMatchObject({
      web: { headers: [{ key: 'Authorization', value: `Bearer ${secret}` }] },
    });
    const measurement = status.analysis?.step?.results[0]?.measurements[0];
    expect(measurement).toMatchObject({
      phase: 'Error',
      message: 'GET http://metrics.test/rate with Bearer *****: 500',
    });
    expect(JSON.stringify(w.store.get(w.key))).not.toContain(secret);
    expect(JSON.stringify(w.store.history(w.key))).not.toContain(secret);
    expect(JSON.stringify(w.events.events)).not.toContain(secret);
  });

  it('a stored template that no longer parses makes the Rollout InvalidSpec, naming it and the problem', async () => {
    const w = analysisWorld((doc) => (doc.spec.metrics = []));
    await w.setImage(YELLOW);
    const outcome = await processRollout(w.deps, w.key);
    expect(outcome).toMatchObject({ result: 'invalid-spec' });
    expect(w.store.get(w.key)?.status).toMatchObject({
      phase: 'InvalidSpec',
      message: expect.stringMatching(
        /^Rollout default\/rollouts-demo: stored AnalysisTemplate default\/success-rate is invalid: .*metrics/,
      ),
    });
    expect(w.provider.calls).toEqual([]);
  });
});
