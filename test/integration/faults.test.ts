/**
 * Faults injected into the real parts: the system converges with nothing lost. Every injected
 * fault is counted; after each one the invariants are checked against the API server itself.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { applyObjects } from '../../lib/adapters/kube/apply.js';
import { CONTENT_TYPES } from '../../lib/adapters/kube/http.js';
import { ClusterConnections } from '../../lib/adapters/kube/clusters.js';
import { startDynamoDbLocal } from '../../lib/local/dynamodb-local.js';
import { freePort } from '../../lib/local/ports.js';
import { runPass } from '../../lib/app/runner/pass.js';
import { acceptPushes } from '../../lib/app/triggers/pushes.js';
import type { RunnerDeps } from '../../lib/app/runner/process-rollout.js';
import type { Rollout } from '../../lib/core/model/rollout.js';
import { localDynamoDbClient } from '../../lib/adapters/dynamodb/client.js';
import { keyOf, RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import { createTableInput } from '../../lib/adapters/dynamodb/table.js';
import type { StoredRollout } from '../../lib/adapters/dynamodb/types.js';
import { KubeProxy, type Fault } from '../support/kube-proxy.js';
import {
  createStore,
  demoRolloutIn,
  deployment,
  dynamoClient,
  routeWeights,
  runnerDeps,
} from './runner-harness.js';
import {
  admin,
  applyDemo,
  createNamespace,
  kubeconfig,
  testClusterTarget,
  waitForAvailable,
} from './sandbox.js';

const YELLOW = 'argoproj/rollouts-demo:yellow';
const injected: Record<string, number> = {};
let proxy: KubeProxy;
let proxiedKubeconfig: string;

function count(kind: string) {
  injected[kind] = (injected[kind] ?? 0) + 1;
}

function proxiedClusters(): ClusterConnections {
  return new ClusterConnections([testClusterTarget('runner', proxiedKubeconfig)], undefined, undefined, 1000);
}

/** Every route's weights sum to 100; the canary has traffic only with available pods; an abort ends at 100/0. */
async function checkInvariants(rollout: Rollout, stored: StoredRollout | undefined) {
  const weights = await routeWeights(rollout);
  const routes = Object.values(weights).flat();
  for (const [, stable, canary] of routes) expect(stable + canary).toBe(100);
  const canaryTraffic = Math.max(...routes.map(([, , canary]) => canary));
  if (canaryTraffic > 0)
    expect(
      (await deployment(rollout.namespace, rollout.workload.canaryDeployment)).available,
    ).toBeGreaterThanOrEqual(1);
  if (stored?.status.phase === 'Degraded') expect(canaryTraffic).toBe(0);
}

function transitionsOf(history: { kind: string; message: string }[]) {
  return history.filter((entry) => entry.kind === 'transition').map((entry) => entry.message);
}

beforeAll(async () => {
  proxy = await new KubeProxy(
    process.env.TEST_CLUSTER_SERVER as string,
    { cert: process.env.TEST_CLUSTER_CERT as string, key: process.env.TEST_CLUSTER_KEY as string },
    process.env.TEST_CLUSTER_CERT as string,
  ).start();
  proxiedKubeconfig = proxy.kubeconfigThrough(
    process.env.TEST_KUBECONFIG as string,
    join(mkdtempSync(join(tmpdir(), 'faults-')), 'kubeconfig'),
  );
});

afterAll(async () => {
  await proxy.stop();
  const lines = Object.entries(injected).map(([kind, n]) => `${kind}: ${n}`);
  writeFileSync(
    join(process.cwd(), '.tmp/faults-report.txt'),
    `${lines.join('\n')}\ntotal: ${Object.values(injected).reduce((a, b) => a + b, 0)}\n`,
  );
});

describe('Kubernetes API faults at every step of the seed scenario', () => {
  it('are survived: 500, 503, 429 with Retry-After, timeouts, resets and conflicts, on GET and on PATCH', async () => {
    const namespace = await createNamespace('faults');
    await applyDemo(namespace);
    await waitForAvailable(namespace, 'rollouts-demo-stable', 1);
    const store = await createStore();
    const rollout = demoRolloutIn(namespace);
    const key = keyOf(rollout);
    const deps = runnerDeps(store, 'runner-faults', { clusters: proxiedClusters() });
    await store.apply(rollout, Date.now());
    await store.enqueueCommand(key, { kind: 'setImage', image: YELLOW }, 'test', Date.now());

    const vsPath = `/apis/networking.istio.io/v1beta1/namespaces/${namespace}/virtualservices/rollouts-demo-vsvc1`;
    const concurrentWriter: Fault = {
      kind: 'before',
      // Another writer reorders the route's destinations: the guard fails, the runner re-reads and re-plans.
      run: async () => {
        const { body } = await admin().send<any>('GET', vsPath);
        const route = body.spec.http[0].route;
        await admin().send(
          'PATCH',
          vsPath,
          [{ op: 'replace', path: '/spec/http/0/route', value: [route[1], route[0]] }],
          CONTENT_TYPES.jsonPatch,
        );
      },
    };
    const kinds: [string, Fault][] = [
      ['500', { kind: 'status', status: 500 }],
      ['503', { kind: 'status', status: 503 }],
      ['429', { kind: 'status', status: 429, retryAfterSeconds: 1 }],
      ['timeout', { kind: 'timeout' }],
      ['reset', { kind: 'reset' }],
      ['409', { kind: 'status', status: 409 }],
      ['concurrent-writer', concurrentWriter],
    ];
    const combos = kinds.flatMap(([name, fault]) =>
      (['GET', 'PATCH'] as const).map((method) => ({ name: `${name} on ${method}`, method, fault })),
    );
    const fired = new Set<string>();
    const images = [
      YELLOW,
      'argoproj/rollouts-demo:orange',
      'argoproj/rollouts-demo:red',
      'argoproj/rollouts-demo:purple',
    ];
    let image = 0;
    let promoted = false;
    // Three rounds, so each kind lands at different steps of the scenario.
    const total = combos.length * 3;
    let next = 0;
    let clean = false;
    for (
      let pass = 0;
      pass < 600 && (next < total || (await store.get(key))?.status.phase !== 'Healthy');
      pass++
    ) {
      proxy.reset();
      const combo = next < total ? combos[next % combos.length] : undefined;
      let armed = true;
      // A fault stays armed until it fires (PATCH faults need a pass that writes); the pass after one is clean.
      if (combo && !clean) {
        proxy.rules = [
          ({ method, path }) => {
            const target = combo.name.startsWith('concurrent')
              ? path.includes('/virtualservices/rollouts-demo-vsvc1')
              : path.includes(`/namespaces/${namespace}/`);
            if (!armed || method !== combo.method || !target) return undefined;
            armed = false;
            fired.add(combo.name);
            count(combo.name);
            next++;
            return combo.fault;
          },
        ];
      }
      const firedBefore = next;
      await runPass(deps, { only: [key] });
      clean = next > firedBefore;
      const stored = await store.get(key);
      await checkInvariants(rollout, stored);
      if (stored?.status.phase === 'Paused' && stored.status.pauseUntil === undefined && !promoted) {
        await store.enqueueCommand(key, { kind: 'promote' }, 'test', Date.now());
        promoted = true;
      }
      if (
        stored?.status.phase === 'Healthy' &&
        stored.status.stableImage === images[image % images.length] &&
        next < total
      ) {
        // Faults are left: roll the next image out so there are writes to fail.
        image++;
        promoted = false;
        await store.enqueueCommand(
          key,
          { kind: 'setImage', image: images[image % images.length] as string },
          'test',
          Date.now(),
        );
      }
      await sleep(50);
    }
    proxy.reset();
    const final = await store.get(key);
    expect([...fired].sort()).toEqual(combos.map((c) => c.name).sort());
    expect(final?.status).toMatchObject({
      phase: 'Healthy',
      stableImage: images[image % images.length],
      weight: 0,
    });
    const transitions = transitionsOf(await store.history(key));
    expect(new Set(transitions).size).toBe(transitions.length);
    expect(transitions.filter((t) => t.startsWith('Rollout Completed'))).toHaveLength(image + 1);
  }, 300_000);
});

class Crash extends Error {}

describe('a runner that dies mid-pass', () => {
  it('leaves the next pass to finish the step: none skipped, none done twice', async () => {
    const namespace = await createNamespace('crash');
    await applyDemo(namespace);
    await waitForAvailable(namespace, 'rollouts-demo-stable', 1);
    const client = dynamoClient();
    const tableName = `crash-${Date.now()}`;
    await client.send(new CreateTableCommand(createTableInput(tableName)));
    const rollout = demoRolloutIn(namespace);
    const key = keyOf(rollout);
    let crashAt: 'before-first-write' | 'after-first-write' | 'before-save' | 'after-save' | undefined;
    let writes = 0;
    const crashing = new (class extends RolloutStore {
      override async savePass(input: Parameters<RolloutStore['savePass']>[0]) {
        if (crashAt === 'before-save') {
          count('runner death before-save');
          throw new Crash('died before saving');
        }
        const saved = await super.savePass(input);
        if (crashAt === 'after-save') {
          count('runner death after-save');
          throw new Crash('died after saving');
        }
        return saved;
      }
      override async recordError(): Promise<void> {
        if (crashAt) throw new Crash('a dead runner records nothing');
      }
    })(client, tableName);
    const clusters = proxiedClusters();
    proxy.rules = [
      ({ method }) => {
        if (method !== 'PATCH' || !crashAt) return undefined;
        writes++;
        if (crashAt === 'before-first-write' || (crashAt === 'after-first-write' && writes === 2)) {
          count(`runner death ${crashAt}`);
          return { kind: 'reset' };
        }
        return undefined;
      },
    ];
    const dying: RunnerDeps = { ...runnerDeps(crashing, 'runner-dying'), clusters, leaseMs: 300 };
    const healthy: RunnerDeps = { ...runnerDeps(crashing, 'runner-healthy'), clusters, leaseMs: 300 };
    await crashing.apply(rollout, Date.now());
    await crashing.enqueueCommand(key, { kind: 'setImage', image: YELLOW }, 'test', Date.now());
    const points = ['before-first-write', 'after-first-write', 'before-save', 'after-save'] as const;
    let promoted = false;
    for (let pass = 0; pass < 200; pass++) {
      crashAt = pass % 2 === 0 ? points[(pass / 2) % points.length] : undefined;
      writes = 0;
      await runPass(crashAt ? dying : healthy, { only: [key] });
      crashAt = undefined;
      await sleep(320);
      const stored = await crashing.get(key);
      await checkInvariants(rollout, stored);
      if (stored?.status.phase === 'Paused' && stored.status.pauseUntil === undefined && !promoted) {
        await crashing.enqueueCommand(key, { kind: 'promote' }, 'test', Date.now());
        promoted = true;
      }
      if (stored?.status.phase === 'Healthy' && stored.status.stableImage === YELLOW) break;
    }
    proxy.reset();
    expect((await crashing.get(key))?.status).toMatchObject({ phase: 'Healthy', stableImage: YELLOW });
    const transitions = transitionsOf(await crashing.history(key));
    expect(new Set(transitions).size).toBe(transitions.length);
    expect(transitions.filter((t) => t.startsWith('Rollout Step Completed'))).toHaveLength(3);
    expect(transitions.filter((t) => t.startsWith('Rollout Promoted'))).toHaveLength(1);
    expect(transitions.filter((t) => t.startsWith('Rollout Completed'))).toHaveLength(1);
    expect(await routeWeights(rollout)).toEqual({
      'rollouts-demo-vsvc1': [
        ['http', 100, 0],
        ['tls', 100, 0],
        ['tcp', 100, 0],
      ],
      'rollouts-demo-vsvc2': [
        ['http', 100, 0],
        ['tls', 100, 0],
        ['tcp', 100, 0],
      ],
    });
  }, 300_000);
});

describe('duplicate and reordered webhook deliveries', () => {
  it('start one canary per image', async () => {
    const namespace = await createNamespace('dupes');
    await applyDemo(namespace);
    await waitForAvailable(namespace, 'rollouts-demo-stable', 1);
    const store = await createStore();
    const rollout = demoRolloutIn(namespace);
    const key = keyOf(rollout);
    await store.apply(rollout, Date.now());
    const yellow = {
      registry: 'docker.io',
      repository: 'argoproj/rollouts-demo',
      tag: 'yellow',
      digest: `sha256:${'1'.repeat(64)}`,
    };
    const red = {
      registry: 'docker.io',
      repository: 'argoproj/rollouts-demo',
      tag: 'red',
      digest: `sha256:${'2'.repeat(64)}`,
    };
    const deliveries = [
      { push: yellow, id: 'd1' },
      { push: yellow, id: 'd1' },
      { push: yellow, id: 'd2' },
      { push: red, id: 'd3' },
      { push: yellow, id: 'd1' },
      { push: red, id: 'd3' },
    ];
    const results = [];
    for (const { push, id } of deliveries) {
      count('duplicate or reordered delivery');
      results.push(
        (
          await acceptPushes(store, [push], {
            deliveryKeys: [`delivery:${id}`],
            source: 'test',
            now: Date.now(),
          })
        ).results[0]?.result,
      );
    }
    expect(results).toEqual(['queued', 'duplicate', 'duplicate', 'queued', 'duplicate', 'duplicate']);
    const deps = runnerDeps(store);
    for (let i = 0; i < 40 && (await store.get(key))?.status.weight !== 5; i++) {
      await runPass(deps, { only: [key] });
      await sleep(150);
    }
    const stored = await store.get(key);
    expect(stored?.status).toMatchObject({
      revision: 3,
      canaryImage: `argoproj/rollouts-demo:red@${red.digest}`,
      phase: 'Paused',
    });
    const started = transitionsOf(await store.history(key)).filter((t) => t.startsWith('Rollout Started'));
    expect(started).toHaveLength(2);
  });
});

describe('four runners in parallel on 50 Rollouts', () => {
  it('make each transition once and lose no promote or abort sent during passes', async () => {
    const namespace = await createNamespace('fleet');
    const size = 50;
    const objects = Array.from({ length: size }, (_, i) => fleetObjects(namespace, `app-${i}`)).flat();
    await applyObjects(kubeconfig('admin'), objects);
    const store = await createStore();
    const rollouts = Array.from({ length: size }, (_, i) =>
      demoRolloutIn(namespace, (doc) => {
        doc.metadata.name = `app-${i}`;
        doc.spec.workload = { stableDeployment: `app-${i}-stable`, canaryDeployment: `app-${i}-canary` };
        delete doc.spec.trigger;
        doc.spec.strategy.canary.canaryService = `app-${i}-canary`;
        doc.spec.strategy.canary.stableService = `app-${i}-stable`;
        doc.spec.strategy.canary.abortScaleDownDelaySeconds = 1;
        doc.spec.strategy.canary.trafficRouting.istio = { virtualService: { name: `app-${i}` } };
        doc.spec.strategy.canary.steps = [{ setWeight: 20 }, { pause: {} }, { setWeight: 60 }];
      }),
    );
    for (const rollout of rollouts) {
      await store.apply(rollout, Date.now());
      await store.enqueueCommand(keyOf(rollout), { kind: 'setImage', image: 'app:v2' }, 'test', Date.now());
    }
    const runners = ['a', 'b', 'c', 'd'].map((name) => runnerDeps(store, `runner-${name}`));
    const sent = new Set<string>();
    let stop = false;
    const loops = runners.map(async (deps) => {
      while (!stop) {
        await runPass(deps, { concurrency: 4 });
        await sleep(100);
      }
    });
    const deadline = Date.now() + 240_000;
    let finished = false;
    while (!finished && Date.now() < deadline) {
      const all = await store.list();
      for (const stored of all) {
        const index = Number(stored.key.name.split('-')[1]);
        if (stored.status.phase === 'Paused' && !sent.has(stored.key.name)) {
          sent.add(stored.key.name);
          count('command sent during passes');
          await store.enqueueCommand(
            stored.key,
            index % 2 === 0 ? { kind: 'promote' } : { kind: 'abort' },
            'test',
            Date.now(),
          );
        }
      }
      finished = all.every((s) =>
        Number(s.key.name.split('-')[1]) % 2 === 0
          ? s.status.phase === 'Healthy' && s.status.stableImage === 'app:v2'
          : s.status.phase === 'Degraded' && s.status.canaryScaledDown,
      );
      await sleep(250);
    }
    stop = true;
    await Promise.all(loops);
    expect(sent.size).toBe(size);
    for (const rollout of rollouts) {
      const stored = await store.get(keyOf(rollout));
      const even = Number(rollout.name.split('-')[1]) % 2 === 0;
      expect(stored?.status.phase).toBe(even ? 'Healthy' : 'Degraded');
      const transitions = transitionsOf(await store.history(keyOf(rollout)));
      expect(new Set(transitions).size).toBe(transitions.length);
      expect(
        transitions.filter((t) => t.startsWith(even ? 'Rollout Completed' : 'Rollout Aborted')),
      ).toHaveLength(1);
    }
  }, 300_000);
});

describe('DynamoDB Local stopped mid-pass and restarted', () => {
  it('leaves no corrupt status, and the pass is retried to completion', async () => {
    const namespace = await createNamespace('ddb');
    await applyDemo(namespace);
    await waitForAvailable(namespace, 'rollouts-demo-stable', 1);
    const port = await freePort();
    const dbPath = mkdtempSync(join(tmpdir(), 'ddb-'));
    const logFile = join(process.cwd(), '.tmp/faults-dynamodb.log');
    let dynamo = await startDynamoDbLocal({ logFile, port, dbPath });
    const client = localDynamoDbClient(dynamo.endpoint, { maxAttempts: 2 });
    await client.send(new CreateTableCommand(createTableInput('restart')));
    const store = new RolloutStore(client, 'restart');
    const rollout = demoRolloutIn(namespace);
    const key = keyOf(rollout);
    await store.apply(rollout, Date.now());
    await store.enqueueCommand(key, { kind: 'setImage', image: YELLOW }, 'test', Date.now());
    const deps = { ...runnerDeps(store, 'runner-ddb'), clusters: proxiedClusters(), leaseMs: 300 };
    let stopped = false;
    proxy.rules = [
      ({ method, path }) =>
        method === 'PATCH' && path.includes('/virtualservices/') && !stopped
          ? {
              kind: 'before',
              run: async () => {
                stopped = true;
                count('DynamoDB Local stopped mid-pass');
                await dynamo.stop();
              },
            }
          : undefined,
    ];
    await runPass(deps, { only: [key] }).catch(() => undefined);
    await runPass(deps, { only: [key] }).catch(() => undefined);
    expect(stopped).toBe(true);
    dynamo = await startDynamoDbLocal({ logFile, port, dbPath });
    proxy.reset();
    let stored: StoredRollout | undefined;
    for (let i = 0; i < 60; i++) {
      await sleep(350);
      await runPass(deps, { only: [key] });
      stored = await store.get(key);
      if (stored?.status.phase === 'Paused' && stored.status.weight === 5) break;
    }
    expect(stored?.status).toMatchObject({ phase: 'Paused', weight: 5, revision: 2, canaryImage: YELLOW });
    expect(Number.isInteger(stored?.version)).toBe(true);
    await checkInvariants(rollout, stored);
    const transitions = transitionsOf(await store.history(key));
    expect(new Set(transitions).size).toBe(transitions.length);
    await dynamo.stop();
  }, 180_000);
});

function fleetObjects(namespace: string, name: string) {
  const deploymentOf = (track: string, replicas: number) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `${name}-${track}`, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name, track } },
      template: {
        metadata: { labels: { app: name, track } },
        spec: { containers: [{ name: 'app', image: 'app:v1' }] },
      },
    },
  });
  const serviceOf = (track: string) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `${name}-${track}`, namespace },
    spec: { selector: { app: name, track }, ports: [{ port: 80 }] },
  });
  return [
    deploymentOf('stable', 1),
    deploymentOf('canary', 0),
    serviceOf('stable'),
    serviceOf('canary'),
    {
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'VirtualService',
      metadata: { name, namespace },
      spec: {
        hosts: [`${name}.local`],
        http: [
          {
            route: [
              { destination: { host: `${name}-stable` }, weight: 100 },
              { destination: { host: `${name}-canary` }, weight: 0 },
            ],
          },
        ],
      },
    },
  ];
}
