/**
 * One rollout across three clusters in waves, on real parts: three test control planes (the run's
 * and two started here, each with its own ports and data), DynamoDB Local, the runner.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubeConfig } from '@kubernetes/client-node';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { applyObjects } from '../../lib/adapters/kube/apply.js';
import { ClusterConnections } from '../../lib/adapters/kube/clusters.js';
import { KubeHttp } from '../../lib/adapters/kube/http.js';
import { VirtualServiceClient } from '../../lib/adapters/kube/virtualservices.js';
import { FleetStore } from '../../lib/adapters/dynamodb/fleets.js';
import type { RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import type { StoredRollout } from '../../lib/adapters/dynamodb/types.js';
import { runPass } from '../../lib/app/runner/pass.js';
import type { RunnerDeps } from '../../lib/app/runner/ports.js';
import { acceptPushes } from '../../lib/app/triggers/pushes.js';
import { findFleet, get, list, sendToFleet } from '../../lib/app/cli/store-commands.js';
import { readWeights } from '../../lib/core/istio/weights.js';
import { fleetKey, memberRollout, type Fleet } from '../../lib/core/model/fleet.js';
import { parseFleet } from '../../lib/core/model/fleet-spec.js';
import { runnerRbac } from '../../lib/core/model/runner-access.js';
import type { ClusterTarget } from '../../lib/core/model/clusters.js';
import { startTestCluster, type TestCluster } from '../../lib/local/testcluster.js';
import { readDocuments } from '../unit/fixtures.js';
import { createStore, runnerDeps, YELLOW } from './runner-harness.js';
import { demoManifests, kubeconfig } from './sandbox.js';

const BLUE = 'argoproj/rollouts-demo:blue';
const CLUSTERS = ['one', 'two', 'three'] as const;
type Name = (typeof CLUSTERS)[number];

let extra: TestCluster[] = [];
const admins = new Map<Name, () => KubeConfig>();
const runnerConfigs = new Map<Name, { path: string }>();
/** The namespaces each test created: every cluster serves them. */
const served: string[] = [];

beforeAll(async () => {
  const logDir = process.env.TEST_CLUSTER_LOG ? join(process.env.TEST_CLUSTER_LOG, '..') : '/tmp';
  extra = await Promise.all(
    ['two', 'three'].map((name) =>
      startTestCluster({ logFile: join(logDir, `waves-${name}.log`), nodes: 1 }),
    ),
  );
  admins.set('one', () => kubeconfig('admin'));
  runnerConfigs.set('one', { path: process.env.TEST_KUBECONFIG as string });
  extra.forEach((cluster, index) => {
    const name = CLUSTERS[index + 1] as Name;
    admins.set(name, () => cluster.admin());
    runnerConfigs.set(name, { path: cluster.kubeconfigPath });
  });
}, 240_000);

afterAll(async () => {
  await Promise.all(extra.map((cluster) => cluster.stop()));
});

function registry(): ClusterTarget[] {
  return CLUSTERS.map((name) => ({
    name,
    namespaces: served,
    kubeconfig: { path: runnerConfigs.get(name)?.path as string, context: 'runner' },
  }));
}

/** A fresh namespace on all three clusters with the runner's RBAC and the demo's objects, stable pods up. */
async function prepareNamespace(prefix: string): Promise<string> {
  const namespace = `${prefix}-${Math.random().toString(16).slice(2, 8)}`;
  served.push(namespace);
  await Promise.all(
    CLUSTERS.map(async (name) => {
      const admin = admins.get(name)!();
      await applyObjects(admin, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
      await applyObjects(admin, runnerRbac({ name, namespaces: [namespace] }));
      await applyObjects(admin, demoManifests(namespace));
    }),
  );
  for (const name of CLUSTERS)
    await deploymentOn(name, namespace, 'rollouts-demo-stable', (d) => d.available === 1);
  return namespace;
}

interface DeploymentState {
  image: string;
  replicas: number;
  available: number;
}

async function readDeployment(name: Name, namespace: string, deployment: string): Promise<DeploymentState> {
  const { body } = await new KubeHttp(admins.get(name)!()).send<any>(
    'GET',
    `/apis/apps/v1/namespaces/${namespace}/deployments/${deployment}`,
  );
  return {
    image: body.spec.template.spec.containers[0].image,
    replicas: body.spec.replicas,
    available: body.status?.availableReplicas ?? 0,
  };
}

async function deploymentOn(
  name: Name,
  namespace: string,
  deployment: string,
  ready: (state: DeploymentState) => boolean,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (ready(await readDeployment(name, namespace, deployment))) return;
    if (Date.now() > deadline) throw new Error(`${name}: ${namespace}/${deployment} not ready`);
    await sleep(250);
  }
}

/** Every route of both VirtualServices on `name`, as [stable, canary]. */
async function weightsOn(fleet: Fleet, name: Name): Promise<[number, number][]> {
  const rollout = memberRollout(fleet, name);
  const client = new VirtualServiceClient(new KubeHttp(admins.get(name)!()));
  const pairs: [number, number][] = [];
  for (const ref of rollout.canary.virtualServices) {
    const read = readWeights(rollout, ref, await client.get(ref));
    if (!read.ok) throw new Error(JSON.stringify(read.error));
    pairs.push(...read.value.map((route): [number, number] => [route.stable, route.canary]));
  }
  return pairs;
}

const allStable = (pairs: [number, number][]) =>
  pairs.every(([stable, canary]) => stable === 100 && canary === 0);

function fleetIn(namespace: string, waves: unknown[], completedClusters = 'Keep'): Fleet {
  const doc = structuredClone(readDocuments('examples/istio-demo/rollout.yaml')[0]) as any;
  doc.metadata.namespace = namespace;
  delete doc.spec.cluster;
  doc.spec.clusters = [...CLUSTERS];
  doc.spec.waves = waves;
  doc.spec.onAbort = { completedClusters };
  doc.spec.strategy.canary.steps = [{ setWeight: 20 }, { pause: { duration: '1s' } }];
  doc.spec.strategy.canary.abortScaleDownDelaySeconds = 1;
  const parsed = parseFleet(doc);
  if (!parsed.ok) throw new Error(parsed.error.join('\n'));
  return parsed.value;
}

function depsFor(store: RolloutStore, owner: string, fleets: FleetStore = new FleetStore(store)): RunnerDeps {
  return runnerDeps(store, owner, {
    clusters: new ClusterConnections(registry()),
    fleets,
    fleet: { pollSeconds: 0.2 },
    leaseMs: 500,
  });
}

async function members(fleets: FleetStore, fleet: Fleet): Promise<Record<string, StoredRollout | undefined>> {
  return fleets.memberRecords(fleet);
}

/** Runs every due pass until `done`, calling `check` after each. */
async function passUntil(
  deps: RunnerDeps,
  done: () => Promise<boolean>,
  what: string,
  check: () => Promise<void> = async () => {},
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await runPass(deps);
    await check();
    if (await done()) return;
    await sleep(150);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('a fleet of three clusters in waves', () => {
  it('a push starts the fleet; wave 2 stays at 100/0 until wave 1 completes and bakes; a member abort aborts the fleet and nothing later moves; retry resumes from the first unfinished wave', async () => {
    const namespace = await prepareNamespace('waves');
    const store = await createStore();
    const fleets = new FleetStore(store);
    const fleet = fleetIn(namespace, [
      { name: 'first', clusters: ['one'], bake: '3s' },
      { name: 'second', clusters: ['two'] },
      { name: 'third', clusters: ['three'] },
    ]);
    await fleets.apply(fleet, Date.now());
    const deps = depsFor(store, 'runner-a');
    // Each member observes its stable image first.
    await passUntil(
      deps,
      async () =>
        Object.values(await members(fleets, fleet)).every((m) => m?.status.stableImage !== undefined),
      'members to observe their stable images',
    );

    const pushed = await acceptPushes(
      store,
      [{ registry: 'docker.io', repository: 'argoproj/rollouts-demo', tag: 'yellow' }],
      { deliveryKeys: ['delivery-1'], source: 'test', now: Date.now() },
    );
    expect(pushed.results).toEqual([
      { rollout: `*/${namespace}/rollouts-demo`, image: YELLOW, result: 'queued' },
    ]);

    // Until the fleet opens wave 2, clusters two and three stay at 100/0 with nothing queued.
    let sawWaveOneInFlight = false;
    await passUntil(
      deps,
      async () => (await fleets.get(fleet))?.status.phase === 'Healthy',
      'the fleet to roll out on every cluster',
      async () => {
        const status = (await fleets.get(fleet))?.status;
        if (!status || status.wave > 0) return;
        const one = await weightsOn(fleet, 'one');
        if (!allStable(one)) sawWaveOneInFlight = true;
        expect(allStable(await weightsOn(fleet, 'two'))).toBe(true);
        expect(allStable(await weightsOn(fleet, 'three'))).toBe(true);
        const later = await members(fleets, fleet);
        expect(later.two?.status.phase).toBe('Healthy');
        expect(later.two?.status.canaryImage).toBeUndefined();
        expect(later.three?.status.canaryImage).toBeUndefined();
      },
    );
    expect(sawWaveOneInFlight).toBe(true);
    for (const name of CLUSTERS) {
      expect((await readDeployment(name, namespace, 'rollouts-demo-stable')).image).toBe(YELLOW);
      expect(allStable(await weightsOn(fleet, name))).toBe(true);
    }
    // The CLI: get shows waves x clusters with each member's step and live weights; list one line for the fleet.
    const connection = { store, clusters: new ClusterConnections(registry()) };
    const shown = await get(connection, { cluster: 'default', namespace, name: fleet.name });
    expect(shown.ok).toBe(true);
    const text = shown.ok ? shown.stdout : '';
    expect(text).toContain('Fleet:           3 cluster(s) in 3 wave(s); on abort, completed clusters: Keep');
    expect(text).toContain(`Image:           ${YELLOW} (revision 1)`);
    for (const [wave, cluster] of [
      ['first', 'one'],
      ['second', 'two'],
      ['third', 'three'],
    ])
      expect(text).toMatch(
        new RegExp(
          `  ${wave}\\s+${cluster}\\s+✔ Healthy\\s+2/2\\s+argoproj/rollouts-demo:yellow\\s+rollouts-demo-vsvc1 100/0 100/0 100/0, rollouts-demo-vsvc2 100/0 100/0 100/0\\s+complete`,
        ),
      );
    const listed = await list(connection);
    const lines = (listed.ok ? listed.stdout : '').trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^FLEET\s+NAMESPACE\s+NAME\s+STATUS\s+WAVE\s+CLUSTERS\s+IMAGE$/),
      expect.stringMatching(
        new RegExp(
          `^3 clusters\\s+${namespace}\\s+rollouts-demo\\s+Healthy\\s+3/3\\s+one,two,three\\s+argoproj/rollouts-demo:yellow$`,
        ),
      ),
    ]);

    // Wave 2 opened at the end of wave 1's bake, not before.
    const history = await fleets.history(fleet);
    const at = (prefix: string) =>
      Date.parse(history.find((entry) => entry.message.startsWith(prefix))?.at ?? '');
    expect(
      at('Wave Started, revision 1, wave second') - at('Wave Completed, revision 1, wave first'),
    ).toBeGreaterThanOrEqual(3000);
    const published = (deps.events as any).events.map((e: any) => `${e.event.type} ${e.event.wave}`);
    expect(published).toEqual(
      expect.arrayContaining([
        'Wave Started first',
        'Wave Completed first',
        'Wave Started second',
        'Wave Completed third',
      ]),
    );

    // A second image; the member on `two` is forced to abort mid-canary: the fleet aborts, `three` never moves.
    await fleets.enqueueFleetCommand(fleetKey(fleet), { kind: 'setImage', image: BLUE }, 'test', Date.now());
    await passUntil(
      deps,
      async () => {
        const two = (await members(fleets, fleet)).two?.status;
        return two?.canaryImage === BLUE && two.weight > 0;
      },
      'the member on two to carry canary traffic',
    );
    await store.enqueueCommand(
      { cluster: 'two', namespace, name: fleet.name },
      { kind: 'abort' },
      'test',
      Date.now(),
    );
    await passUntil(
      deps,
      async () => {
        const status = (await fleets.get(fleet))?.status;
        const two = (await members(fleets, fleet)).two?.status;
        return status?.phase === 'Degraded' && two?.canaryScaledDown === true;
      },
      'the fleet to abort',
    );
    const after = await members(fleets, fleet);
    expect(after.one?.status).toMatchObject({ phase: 'Healthy', stableImage: BLUE }); // Keep
    expect(after.two?.status).toMatchObject({ phase: 'Degraded', canaryImage: BLUE, weight: 0 });
    expect(after.three?.status).toMatchObject({ phase: 'Healthy', stableImage: YELLOW });
    expect(after.three?.status.canaryImage).toBeUndefined();
    expect(
      (await store.history({ cluster: 'three', namespace, name: fleet.name })).map((e) => e.message),
    ).not.toEqual(expect.arrayContaining([expect.stringContaining(BLUE)]));
    for (const name of CLUSTERS) expect(allStable(await weightsOn(fleet, name))).toBe(true);
    expect((await readDeployment('three', namespace, 'rollouts-demo-canary')).image).not.toBe(BLUE);
    expect((await fleets.get(fleet))?.status.message).toContain('member on two aborted');
    const stored = await findFleet(connection, fleet);
    const refused = await sendToFleet(
      connection,
      stored!,
      { kind: 'promote' },
      { wave: true, now: Date.now() },
    );
    expect(refused).toEqual({
      ok: false,
      stderr:
        'fleet ' + namespace + '/rollouts-demo: no wave is baking: the fleet is Degraded; nothing sent\n',
    });

    // retry resumes from the first unfinished wave: one (complete) is not touched again.
    const retried = await sendToFleet(
      connection,
      (await findFleet(connection, fleet))!,
      { kind: 'retry' },
      { now: Date.now() },
    );
    expect(retried).toEqual({
      ok: true,
      stdout: `fleet ${namespace}/rollouts-demo: retrying revision 2 from wave second\n`,
    });
    await passUntil(
      deps,
      async () => (await fleets.get(fleet))?.status.phase === 'Healthy',
      'the retried fleet to finish',
    );
    for (const name of CLUSTERS) {
      expect((await readDeployment(name, namespace, 'rollouts-demo-stable')).image).toBe(BLUE);
      expect(allStable(await weightsOn(fleet, name))).toBe(true);
    }
    const oneHistory = await store.history({ cluster: 'one', namespace, name: fleet.name });
    expect(
      oneHistory.filter((entry) => entry.event === 'Rollout Started' && entry.message.includes(BLUE)),
    ).toHaveLength(1);
  }, 300_000);

  it('a runner that dies between member commands still leaves every member aborted exactly once', async () => {
    const namespace = await prepareNamespace('waves-crash');
    const store = await createStore();
    class Crash extends Error {}
    let crashAfter: number | undefined;
    const crashing = new (class extends FleetStore {
      override async enqueueMember(...args: Parameters<FleetStore['enqueueMember']>) {
        if (crashAfter !== undefined && crashAfter-- <= 0)
          throw new Crash('runner died between member commands');
        return super.enqueueMember(...args);
      }
      override async recordError(): Promise<void> {
        if (crashAfter !== undefined) throw new Crash('a dead runner records nothing');
      }
    })(store);
    const fleet = fleetIn(namespace, [{ name: 'all', clusters: [...CLUSTERS] }]);
    // A pause the members hold until the abort.
    (fleet.template.canary.steps as unknown[]) = [{ setWeight: 20 }, { pause: {} }];
    await crashing.apply(fleet, Date.now());
    const healthy = depsFor(store, 'runner-healthy', crashing);
    await crashing.enqueueFleetCommand(
      fleetKey(fleet),
      { kind: 'setImage', image: YELLOW },
      'test',
      Date.now(),
    );
    await passUntil(
      healthy,
      async () => Object.values(await members(crashing, fleet)).every((m) => m?.status.phase === 'Paused'),
      'every member to pause at 80/20',
    );
    for (const name of CLUSTERS) expect(await weightsOn(fleet, name)).toContainEqual([80, 20]);

    await crashing.enqueueFleetCommand(fleetKey(fleet), { kind: 'abort' }, 'test', Date.now());
    // The dying runner queues one member's abort, then dies before the next and before saving.
    crashAfter = 1;
    await runPass(depsFor(store, 'runner-dying', crashing), { only: [fleetKey(fleet)] });
    crashAfter = undefined;
    expect((await crashing.get(fleet))?.status.phase).toBe('Progressing');
    const queued = await Promise.all(
      CLUSTERS.map(
        async (cluster) => (await store.pendingCommands({ cluster, namespace, name: fleet.name })).length,
      ),
    );
    expect(queued.sort()).toEqual([0, 0, 1]);
    await sleep(600); // its lease runs out
    await passUntil(
      healthy,
      async () =>
        (await crashing.get(fleet))?.status.phase === 'Degraded' &&
        Object.values(await members(crashing, fleet)).every((m) => m?.status.canaryScaledDown === true),
      'every member aborted and scaled down',
    );
    for (const name of CLUSTERS) {
      expect(allStable(await weightsOn(fleet, name))).toBe(true);
      const history = await store.history({ cluster: name, namespace, name: fleet.name });
      const aborts = history.filter(
        (entry) => entry.kind === 'command' && entry.message.startsWith('abort from fleet:'),
      );
      expect([name, aborts.length, aborts[0]?.message]).toEqual([
        name,
        1,
        `abort from fleet:rollouts-demo: Rollout aborted update to revision 2`,
      ]);
      expect(history.filter((entry) => entry.event === 'Rollout Aborted')).toHaveLength(1);
    }
  }, 300_000);
  it('abort with Revert puts the previous stable image back on completed clusters and takes the rest back to 100/0', async () => {
    const namespace = await prepareNamespace('waves-revert');
    const store = await createStore();
    const fleets = new FleetStore(store);
    const fleet = fleetIn(
      namespace,
      [
        { name: 'first', clusters: ['one'] },
        // Held at 80/20 until promoted, so it is in flight when the fleet aborts.
        { name: 'rest', clusters: ['two', 'three'], steps: [{ setWeight: 20 }, { pause: {} }] },
      ],
      'Revert',
    );
    await fleets.apply(fleet, Date.now());
    const deps = depsFor(store, 'runner-revert');
    await passUntil(
      deps,
      async () => Object.values(await members(fleets, fleet)).every((m) => m?.status.stableImage === BLUE),
      'members to observe their stable images',
    );
    const connection = { store, clusters: new ClusterConnections(registry()) };
    const started = await sendToFleet(
      connection,
      (await findFleet(connection, fleet))!,
      { kind: 'setImageAssignment', assignment: `rollouts-demo=${YELLOW}` },
      { now: Date.now() },
    );
    expect(started).toEqual({
      ok: true,
      stdout: `fleet ${namespace}/rollouts-demo: rolling out ${YELLOW} as revision 1\n`,
    });
    await passUntil(
      deps,
      async () => {
        const current = await members(fleets, fleet);
        return (
          current.one?.status.stableImage === YELLOW &&
          [current.two, current.three].every((m) => m?.status.phase === 'Paused')
        );
      },
      'wave 1 complete and wave 2 paused at 80/20',
    );
    expect((await readDeployment('one', namespace, 'rollouts-demo-stable')).image).toBe(YELLOW);
    expect(await weightsOn(fleet, 'two')).toContainEqual([80, 20]);

    const aborted = await sendToFleet(
      connection,
      (await findFleet(connection, fleet))!,
      { kind: 'abort' },
      { now: Date.now() },
    );
    expect(aborted).toEqual({
      ok: true,
      stdout: `fleet ${namespace}/rollouts-demo: fleet aborted revision 1\n`,
    });
    await passUntil(
      deps,
      async () => {
        const current = await members(fleets, fleet);
        return (
          current.one?.status.phase === 'Healthy' &&
          current.one.status.stableImage === BLUE &&
          [current.two, current.three].every((m) => m?.status.canaryScaledDown === true)
        );
      },
      'one reverted to its previous image, two and three aborted',
    );
    expect((await fleets.get(fleet))?.status.phase).toBe('Degraded');
    expect((await readDeployment('one', namespace, 'rollouts-demo-stable')).image).toBe(BLUE);
    for (const name of CLUSTERS) expect(allStable(await weightsOn(fleet, name))).toBe(true);
    const current = await members(fleets, fleet);
    expect(current.two?.status).toMatchObject({ phase: 'Degraded', stableImage: BLUE, canaryImage: YELLOW });
    expect(current.three?.status).toMatchObject({
      phase: 'Degraded',
      stableImage: BLUE,
      canaryImage: YELLOW,
    });
  }, 300_000);
});
