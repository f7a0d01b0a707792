/**
 * Faults injected into the real parts: the system converges with nothing lost. Every injected
 * fault is recorded with where it landed (lib/local/fault-report.ts); after each one the
 * invariants are checked against the API server itself, and what the README claims for its kind
 * is asserted. `npm run faults:update` commits the report the README's Reliability table shows.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { mkdtempSync } from 'node:fs';
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
import { backoffMs, type RunnerDeps } from '../../lib/app/runner/process-rollout.js';
import type { Rollout } from '../../lib/core/model/rollout.js';
import { decide } from '../../lib/core/engine/decide.js';
import { describeError, describeRollout } from '../../lib/app/cli/describe.js';
import { localDynamoDbClient } from '../../lib/adapters/dynamodb/client.js';
import { keyOf, RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import { createTableInput } from '../../lib/adapters/dynamodb/table.js';
import type { StoredRollout } from '../../lib/adapters/dynamodb/types.js';
import { FaultReport } from '../../lib/local/fault-report.js';
import { fleetObjects } from '../../lib/local/fleet.js';
import { KubeProxy, type Fault, type ProxiedRequest } from '../../lib/local/kube-proxy.js';
import {
  createStore,
  demoRolloutIn,
  deployment,
  clusters,
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
import { sdkDocuments } from '../../lib/adapters/dynamodb/sdk-documents.js';

const YELLOW = 'argoproj/rollouts-demo:yellow';
const report = new FaultReport({
  'kubernetes-error': {
    fault:
      'Kubernetes 500, 503, 429 with Retry-After: 1, request timeout, connection reset, and 409 where it is not a race: on a GET and on a PATCH, of the VirtualService and of a Deployment',
    outcome:
      'the pass records the error on the Rollout (`lastError`, shown by `rollouts get`); the next attempt is due after Retry-After, else 10 s; the rollout goes on to Healthy',
  },
  'kubernetes-race': {
    fault: 'Kubernetes 409 on the PATCH of a VirtualService',
    outcome: 'the runner re-reads the VirtualService and patches again in the same pass; no error',
  },
  'writer-before-patch': {
    fault: "a concurrent writer reorders a route's destinations between the runner's GET and its PATCH",
    outcome: 'the guard `test` op fails (422); the runner re-reads and re-plans, and the PATCH lands',
  },
  'writer-before-get': {
    fault: "a concurrent writer reorders a route's destinations just before the runner's GET",
    outcome: 'the runner plans from what it read: no 422, one PATCH',
  },
  'runner-death': {
    fault: 'the runner dies before its first write, after its first write, before saving, after saving',
    outcome:
      'the lease expires, another runner re-decides from the saved status; no step skipped or done twice (history has each transition once)',
  },
  'duplicate-delivery': {
    fault:
      'duplicate and reordered webhook deliveries (same delivery id, same digest, an old delivery after a newer image)',
    outcome: 'one canary per image',
  },
  'dynamodb-restart': {
    fault: 'DynamoDB Local stopped in the middle of a pass and restarted',
    outcome:
      'the saved status is the one the engine derives from the cluster (a fixed point of `decide`), every transition once; the pass is retried and the rollout goes on',
  },
});
let proxy: KubeProxy;
let proxiedKubeconfig: string;

function proxiedClusters(): ClusterConnections {
  return new ClusterConnections([testClusterTarget('runner', proxiedKubeconfig)], undefined, undefined, 1000);
}

/** `VirtualService rollouts-demo-vsvc1` or `Deployment rollouts-demo-stable`, from a request path. */
function resourceOf(path: string): string {
  const match = /\/(virtualservices|deployments)\/([^/?]+)/.exec(path);
  if (!match) return path;
  return `${match[1] === 'virtualservices' ? 'VirtualService' : 'Deployment'} ${match[2]}`;
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
  report.write(process.cwd(), process.env.UPDATE_FAULT_REPORT === '1' ? 'bench/faults.json' : undefined);
});

interface Injection {
  name: string;
  /** How the report names where it landed: `<label> <method> <resource>`. */
  label: string;
  group: 'kubernetes-error' | 'kubernetes-race' | 'writer-before-patch' | 'writer-before-get';
  method: 'GET' | 'PATCH';
  /** The path segment of the resource it is meant for. */
  resource: '/virtualservices/' | '/deployments/';
  fault: Fault;
  /** What lastError must say for it (kubernetes-error only). */
  says?: RegExp;
}

describe('Kubernetes API faults during the seed scenario and the rollouts after it', () => {
  it('land on the VirtualService and the Deployments, on GET and PATCH, and each has the outcome the README states', async () => {
    const namespace = await createNamespace('faults');
    await applyDemo(namespace);
    await waitForAvailable(namespace, 'rollouts-demo-stable', 1);
    const store = await createStore();
    const rollout = demoRolloutIn(namespace);
    const key = keyOf(rollout);
    // The clock stands still within a pass, so the due time a failure saves can be checked exactly.
    let now = Date.now();
    const deps = runnerDeps(store, 'runner-faults', { clusters: proxiedClusters(), clock: () => now });
    await store.apply(rollout, Date.now());
    await store.enqueueCommand(key, { kind: 'setImage', image: YELLOW }, 'test', Date.now());

    const vsPath = `/apis/networking.istio.io/v1beta1/namespaces/${namespace}/virtualservices/rollouts-demo-vsvc1`;
    const concurrentWriter: Fault = {
      kind: 'before',
      // Another writer swaps the route's destinations, so the runner's guard no longer holds.
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
    const statuses: [string, Fault, RegExp][] = [
      ['500', { kind: 'status', status: 500 }, /HTTP 500: injected 500/],
      ['503', { kind: 'status', status: 503 }, /HTTP 503: injected 503/],
      ['429', { kind: 'status', status: 429, retryAfterSeconds: 1 }, /HTTP 429: injected 429/],
      ['timeout', { kind: 'timeout' }, /timed out after 1000 ms/],
      ['reset', { kind: 'reset' }, /socket hang up|ECONNRESET/],
      ['409', { kind: 'status', status: 409 }, /HTTP 409: injected 409/],
    ];
    const injections: Injection[] = [
      ...statuses.flatMap(([name, fault, says]) =>
        (['GET', 'PATCH'] as const).flatMap((method) =>
          (['/virtualservices/', '/deployments/'] as const).map((resource): Injection => ({
            name: `${name} on ${method} ${resource === '/deployments/' ? 'Deployment' : 'VirtualService'}`,
            label: `${name} on`,
            // A 409 on a VirtualService PATCH is a lost race, which the client retries by design.
            group:
              name === '409' && method === 'PATCH' && resource === '/virtualservices/'
                ? 'kubernetes-race'
                : 'kubernetes-error',
            method,
            resource,
            fault,
            says,
          })),
        ),
      ),
      {
        name: 'writer before PATCH',
        label: 'before',
        group: 'writer-before-patch',
        method: 'PATCH',
        resource: '/virtualservices/',
        fault: concurrentWriter,
      },
      {
        name: 'writer before GET',
        label: 'before',
        group: 'writer-before-get',
        method: 'GET',
        resource: '/virtualservices/',
        fault: concurrentWriter,
      },
    ];
    const fired = new Map<string, number>();
    const images = [
      YELLOW,
      'argoproj/rollouts-demo:orange',
      'argoproj/rollouts-demo:red',
      'argoproj/rollouts-demo:purple',
    ];
    let image = 0;
    let promoted = false;
    // Two rounds, so each injection lands at different steps of the scenario.
    const total = injections.length * 2;
    let next = 0;
    let clean = false;
    for (
      let pass = 0;
      pass < 800 && (next < total || (await store.get(key))?.status.phase !== 'Healthy');
      pass++
    ) {
      proxy.reset();
      const injection = next < total ? injections[next % injections.length] : undefined;
      let hit: ProxiedRequest | undefined;
      // An injection stays armed until it fires (PATCH faults need a pass that writes); the pass after one is clean.
      if (injection && !clean) {
        proxy.rules = [
          ({ method, path }) => {
            const meant = injection.group.startsWith('writer')
              ? path.startsWith(vsPath)
              : path.includes(`/namespaces/${namespace}/`) && path.includes(injection.resource);
            if (hit || method !== injection.method || !meant) return undefined;
            hit = proxy.requests.at(-1);
            return injection.fault;
          },
        ];
      }
      now = Date.now();
      await runPass(deps, { only: [key] });
      clean = hit !== undefined;
      const stored = await store.get(key);
      if (injection && hit) {
        next++;
        fired.set(injection.name, (fired.get(injection.name) ?? 0) + 1);
        report.fault(injection.group, `${injection.label} ${hit.method} ${resourceOf(hit.path)}`);
        // It landed on the resource it was meant for.
        expect(hit.path).toContain(injection.resource);
        const after = proxy.requests.slice(proxy.requests.indexOf(hit) + 1);
        const sameResource = (r: ProxiedRequest) => r.path.split('?')[0] === hit!.path.split('?')[0];
        switch (injection.group) {
          case 'kubernetes-error': {
            expect(stored?.lastError?.message).toMatch(
              new RegExp(`^Rollout ${namespace}/rollouts-demo on cluster default: `),
            );
            expect(stored?.lastError?.message).toMatch(injection.says as RegExp);
            expect(describeRollout(stored as StoredRollout, { unavailable: 'not read' })).toContain(
              `Last error:      ${describeError(stored!.lastError!)}`,
            );
            const retryAfter =
              injection.fault.kind === 'status' ? injection.fault.retryAfterSeconds : undefined;
            // Backoff doubles with each failure in a row; a Retry-After is a floor under it.
            expect(stored?.failures).toBeGreaterThanOrEqual(1);
            expect(stored?.dueAt).toBe(now + backoffMs(stored!.failures!, retryAfter));
            if (retryAfter) expect(stored!.dueAt! - now).toBeGreaterThanOrEqual(retryAfter * 1000);
            break;
          }
          case 'kubernetes-race':
          case 'writer-before-patch': {
            if (injection.group === 'writer-before-patch') expect(hit.status).toBe(422);
            // The re-read, then the PATCH again, which lands.
            expect(after.filter(sameResource).map((r) => [r.method, r.status])).toEqual([
              ['GET', 200],
              ['PATCH', 200],
            ]);
            expect(stored?.lastError).toBeUndefined();
            break;
          }
          case 'writer-before-get': {
            expect(proxy.requests.filter((r) => r.status === 422)).toEqual([]);
            expect(stored?.lastError).toBeUndefined();
            break;
          }
        }
      }
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
    expect(Object.fromEntries(fired)).toEqual(Object.fromEntries(injections.map((i) => [i.name, 2])));
    expect(final?.status).toMatchObject({
      phase: 'Healthy',
      stableImage: images[image % images.length],
      weight: 0,
    });
    expect(final?.lastError).toBeUndefined();
    const transitions = transitionsOf(await store.history(key));
    expect(new Set(transitions).size).toBe(transitions.length);
    expect(transitions.filter((t) => t.startsWith('Rollout Completed'))).toHaveLength(image + 1);
    report.verify('kubernetes-error', 'kubernetes-race', 'writer-before-patch', 'writer-before-get');
  }, 480_000);
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
          report.fault('runner-death', 'before saving');
          throw new Crash('died before saving');
        }
        const saved = await super.savePass(input);
        if (crashAt === 'after-save') {
          report.fault('runner-death', 'after saving');
          throw new Crash('died after saving');
        }
        return saved;
      }
      override async recordError(): Promise<void> {
        if (crashAt) throw new Crash('a dead runner records nothing');
      }
    })(sdkDocuments(client), tableName);
    const clusters = proxiedClusters();
    proxy.rules = [
      ({ method }) => {
        if (method !== 'PATCH' || !crashAt) return undefined;
        writes++;
        if (crashAt === 'before-first-write' || (crashAt === 'after-first-write' && writes === 2)) {
          report.fault(
            'runner-death',
            crashAt === 'before-first-write' ? 'before its first write' : 'after its first write',
          );
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
    report.verify('runner-death');
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
      report.fault('duplicate-delivery', `delivery ${id} of ${push.tag}`);
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
    report.verify('duplicate-delivery');
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
          const command = index % 2 === 0 ? ({ kind: 'promote' } as const) : ({ kind: 'abort' } as const);
          report.command(command.kind);
          await store.enqueueCommand(stored.key, command, 'test', Date.now());
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
    let dynamo = await startDynamoDbLocal({ logFile, port, dbPath, readyTimeoutMs: 240_000 });
    const client = localDynamoDbClient(dynamo.endpoint, { maxAttempts: 2 });
    await client.send(new CreateTableCommand(createTableInput('restart')));
    const store = new RolloutStore(sdkDocuments(client), 'restart');
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
                report.fault('dynamodb-restart', 'before the PATCH of a VirtualService');
                await dynamo.stop();
              },
            }
          : undefined,
    ];
    // Passes until the first weight change, whose PATCH stops DynamoDB Local under the pass.
    for (let i = 0; i < 200 && !stopped; i++) {
      await runPass(deps, { only: [key] }).catch(() => undefined);
      if (!stopped) await sleep(350);
    }
    await runPass(deps, { only: [key] }).catch(() => undefined);
    expect(stopped).toBe(true);
    dynamo = await startDynamoDbLocal({ logFile, port, dbPath, readyTimeoutMs: 240_000 });
    proxy.reset();
    let stored: StoredRollout | undefined;
    for (let i = 0; i < 60; i++) {
      await sleep(350);
      await runPass(deps, { only: [key] });
      stored = await store.get(key);
      if (stored?.status.phase === 'Paused' && stored.status.weight === 5) break;
    }
    // The whole saved status is what the engine derives from the cluster as it now is: deciding
    // again from it, with no command, changes nothing and moves no traffic.
    const saved = stored as StoredRollout;
    const cluster = await clusters().get('default');
    const observation = {
      stable: await cluster.deployments.observe(
        namespace,
        rollout.workload.stableDeployment,
        rollout.workload.container,
      ),
      canary: await cluster.deployments.observe(
        namespace,
        rollout.workload.canaryDeployment,
        rollout.workload.container,
      ),
    };
    const derived = decide(rollout, saved.status, observation, null, Date.now(), deps.engine);
    expect(derived.status).toEqual(saved.status);
    // Every action it asks for already holds in the cluster: nothing is left to do.
    for (const action of derived.actions) {
      if (action.type === 'setCanaryImage') expect(action.image).toBe(observation.canary.image);
      else if (action.type === 'scaleCanary') expect(action.replicas).toBe(observation.canary.replicas);
      else expect(action).toEqual({ type: 'setWeight', weight: 5 });
    }
    expect(saved.status).toEqual({
      phase: 'Paused',
      revision: 2,
      stableImage: 'argoproj/rollouts-demo:blue',
      canaryImage: YELLOW,
      stepIndex: 1,
      weight: 5,
      pauseStartedAt: expect.any(String),
      canaryScaledDown: false,
      message: 'paused until promoted',
    });
    expect(saved.lastError).toBeUndefined();
    await checkInvariants(rollout, saved);
    const transitions = transitionsOf(await store.history(key));
    expect(new Set(transitions).size).toBe(transitions.length);
    report.verify('dynamodb-restart');
    await dynamo.stop();
  }, 600_000);
});
