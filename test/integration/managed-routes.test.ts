/**
 * Header and mirror routes on the real API server: through a full rollout and an abort, against a
 * concurrent writer that reorders routes, and against a self-heal that deletes one.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { CONTENT_TYPES, KubeHttp } from '../../lib/adapters/kube/http.js';
import { VirtualServiceClient } from '../../lib/adapters/kube/virtualservices.js';
import { routesAfterSteps } from '../../lib/core/engine/managed-routes.js';
import { readManagedRoutes } from '../../lib/core/istio/managed-routes.js';
import { runPass } from '../../lib/app/runner/pass.js';
import { setCanaryWeight } from '../../lib/app/runner/traffic.js';
import { get } from '../../lib/app/cli/store-commands.js';
import { keyOf, type RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import type { Rollout } from '../../lib/core/model/rollout.js';
import type { VirtualService } from '../../lib/core/model/virtualservice.js';
import { MANAGED_ROUTES_ANNOTATION } from '../../lib/core/model/runner-access.js';
import { admin, applyDemo, createNamespace, kubeconfig, waitForAvailable } from './sandbox.js';
import {
  clusters,
  createStore,
  demoRolloutIn,
  deployment,
  everyRoute,
  passUntil,
  pausedAt,
  phase,
  registerAndSetImage,
  routeWeights,
  runnerDeps,
} from './runner-harness.js';

let store: RolloutStore;
beforeAll(async () => {
  store = await createStore();
});

const HEADER = {
  setHeaderRoute: {
    name: 'canary-header',
    match: [{ headerName: 'x-canary', headerValue: { exact: 'yes' } }],
  },
};
const MIRROR = {
  setMirrorRoute: {
    name: 'canary-mirror',
    percentage: 50,
    match: [{ method: { exact: 'GET' }, path: { prefix: '/api' } }],
  },
};
const STEPS = [
  HEADER,
  { setWeight: 20 },
  MIRROR,
  { pause: {} },
  { setHeaderRoute: { name: 'canary-header' } },
  { setWeight: 50 },
  { pause: {} },
];

async function freshRollout(prefix: string): Promise<Rollout> {
  const namespace = await createNamespace(prefix);
  await applyDemo(namespace);
  // The admission policy lets the runner write only the routes the VirtualService's owner lists.
  for (const name of ['rollouts-demo-vsvc1', 'rollouts-demo-vsvc2'])
    await admin().send(
      'PATCH',
      `/apis/networking.istio.io/v1beta1/namespaces/${namespace}/virtualservices/${name}`,
      [
        {
          op: 'add',
          path: '/metadata/annotations',
          value: { [MANAGED_ROUTES_ANNOTATION]: 'canary-header,canary-mirror' },
        },
      ],
      CONTENT_TYPES.jsonPatch,
    );
  await waitForAvailable(namespace, 'rollouts-demo-stable', 1);
  return demoRolloutIn(namespace, (doc) => {
    doc.spec.strategy.canary.trafficRouting.managedRoutes = [
      { name: 'canary-header' },
      { name: 'canary-mirror' },
    ];
    doc.spec.strategy.canary.steps = STEPS;
  });
}

/** A rollout paused after the mirror step (header and mirror routes in place), with its runner. */
async function pausedWithRoutes(prefix: string) {
  const rollout = await freshRollout(prefix);
  const deps = runnerDeps(store);
  await registerAndSetImage(store, rollout);
  await passUntil(deps, rollout, pausedAt(20), 'pause after the mirror step');
  return { rollout, key: keyOf(rollout), deps };
}

/** Someone else's JSON Patch, as the admin. */
async function patchAsOtherWriter(rollout: Rollout, name: string, patch: unknown[]): Promise<VirtualService> {
  const response = await admin().send<VirtualService>(
    'PATCH',
    vsPath(rollout, name),
    patch,
    CONTENT_TYPES.jsonPatch,
  );
  expect(response.status).toBe(200);
  return response.body;
}

const vsPath = (rollout: Rollout, name: string) =>
  `/apis/networking.istio.io/v1beta1/namespaces/${rollout.namespace}/virtualservices/${name}`;

async function virtualService(rollout: Rollout, name: string): Promise<VirtualService> {
  return (await admin().send<VirtualService>('GET', vsPath(rollout, name))).body;
}

/** Route names of spec.http in both VirtualServices, top to bottom. */
async function httpNames(rollout: Rollout): Promise<string[][]> {
  return Promise.all(
    ['rollouts-demo-vsvc1', 'rollouts-demo-vsvc2'].map(async (name) =>
      ((await virtualService(rollout, name)).spec.http ?? []).map((route) => route.name ?? ''),
    ),
  );
}

const HEADER_ROUTE = {
  match: [{ headers: { 'x-canary': { exact: 'yes' } } }],
  name: 'canary-header',
  route: [{ destination: { host: 'rollouts-demo-canary', port: { number: 15372 } }, weight: 100 }],
};
const mirrorRoute = (stable: number, canary: number, port = 15372) => ({
  match: [{ method: { exact: 'GET' }, uri: { prefix: '/api' } }],
  mirror: { host: 'rollouts-demo-canary', port: { number: port } },
  mirrorPercentage: { value: 50 },
  name: 'canary-mirror',
  route: [
    { destination: { host: 'rollouts-demo-stable', port: { number: port } }, weight: stable },
    { destination: { host: 'rollouts-demo-canary', port: { number: port } }, weight: canary },
  ],
});

describe('header and mirror steps', () => {
  it('add the routes once the canary has a pod, keep the mirror on the weights, and remove everything on completion', async () => {
    const rollout = await freshRollout('routes-full');
    const key = keyOf(rollout);
    const deps = runnerDeps(store);
    await registerAndSetImage(store, rollout);

    const paused = await passUntil(deps, rollout, pausedAt(20), 'pause after the mirror step');
    expect(paused.status.stepIndex).toBe(3);
    expect(await httpNames(rollout)).toEqual([
      ['canary-header', 'canary-mirror', 'http-primary'],
      ['canary-header', 'canary-mirror', 'http-secondary'],
    ]);
    const vs1 = await virtualService(rollout, 'rollouts-demo-vsvc1');
    expect(vs1.spec.http?.[0]).toEqual(HEADER_ROUTE);
    expect(vs1.spec.http?.[1]).toEqual(mirrorRoute(80, 20));
    expect(await routeWeights(rollout)).toEqual(everyRoute(80, 20));

    // rollouts get lists what is in place
    const shown = await get({ store, clusters: clusters() }, key);
    expect(shown.ok && shown.stdout).toContain(
      "    managed 'canary-header'      header route at spec.http[0]\n",
    );
    expect(shown.ok && shown.stdout).toContain(
      "    managed 'canary-mirror'      mirror route at spec.http[1]\n",
    );

    await store.enqueueCommand(key, { kind: 'promote' }, 'test', Date.now());
    await passUntil(deps, rollout, pausedAt(50), 'pause at 50 after the header route is removed');
    expect(await httpNames(rollout)).toEqual([
      ['canary-mirror', 'http-primary'],
      ['canary-mirror', 'http-secondary'],
    ]);
    expect((await virtualService(rollout, 'rollouts-demo-vsvc2')).spec.http?.[0]).toEqual(
      mirrorRoute(50, 50, 15373),
    );

    await store.enqueueCommand(key, { kind: 'promote' }, 'test', Date.now());
    await passUntil(deps, rollout, phase('Healthy'), 'Healthy');
    expect(await httpNames(rollout)).toEqual([['http-primary'], ['http-secondary']]);
    expect(await routeWeights(rollout)).toEqual(everyRoute(100, 0));
    expect((await deployment(rollout.namespace, 'rollouts-demo-canary')).replicas).toBe(0);
  });

  it('are gone in the pass that aborts, before the canary scales down', async () => {
    const { rollout, key, deps } = await pausedWithRoutes('routes-abort');
    expect((await httpNames(rollout))[0]).toEqual(['canary-header', 'canary-mirror', 'http-primary']);

    await store.enqueueCommand(key, { kind: 'abort' }, 'test', Date.now());
    await runPass(deps, { only: [key] });
    expect((await store.get(key))?.status.phase).toBe('Degraded');
    expect(await httpNames(rollout)).toEqual([['http-primary'], ['http-secondary']]);
    expect(await routeWeights(rollout)).toEqual(everyRoute(100, 0));
    expect((await deployment(rollout.namespace, 'rollouts-demo-canary')).replicas).toBe(1);

    await passUntil(deps, rollout, (s) => s.status.canaryScaledDown === true, 'canary scaled down');
    expect(await httpNames(rollout)).toEqual([['http-primary'], ['http-secondary']]);
  });
});

describe('other writers', () => {
  it('a concurrent writer reorders routes between read and write: the guard fails (422), the client re-reads and re-plans', async () => {
    const rollout = await freshRollout('routes-race');
    const ref = rollout.canary.virtualServices[0]!;
    const desired = routesAfterSteps(rollout.canary, 3);
    // The header route in place; then, just before the PATCH that adds the mirror route under it,
    // a writer moves the header route below http-primary.
    const plain = new VirtualServiceClient(new KubeHttp(kubeconfig('runner')));
    await setCanaryWeight(plain, rollout, 20, new Map(), undefined, [desired[0]!]);
    let raced = 0;
    const statuses: Record<string, number[]> = {};
    class RacingHttp extends KubeHttp {
      override async send<T>(method: string, path: string, body?: unknown, contentType?: string) {
        if (method === 'PATCH' && raced === 0 && path.split('?')[0]!.endsWith(`/${ref.name}`)) {
          raced++;
          await patchAsOtherWriter(rollout, ref.name, [
            { op: 'move', from: '/spec/http/0', path: '/spec/http/1' },
          ]);
        }
        const response = await super.send<T>(method, path, body, contentType);
        const name = path.split('?')[0]!.split('/').at(-1)!;
        if (method === 'PATCH') (statuses[name] ??= []).push(response.status);
        return response;
      }
    }
    const racing = new VirtualServiceClient(new RacingHttp(kubeconfig('runner')));
    const writes = await setCanaryWeight(racing, rollout, 20, new Map(), undefined, desired);
    // vsvc1 raced and retried; vsvc2 was not touched by the writer (the two are written side by side).
    expect(statuses).toEqual({ [ref.name]: [422, 200], 'rollouts-demo-vsvc2': [200] });
    expect(writes.map((write) => write.attempts)).toEqual([2, 1]);
    const vs1 = await virtualService(rollout, ref.name);
    expect(vs1.spec.http?.map((route) => route.name)).toEqual([
      'canary-header',
      'canary-mirror',
      'http-primary',
    ]);
    expect(vs1.spec.http?.[0]).toEqual(HEADER_ROUTE);
  });

  it('a writer reorders managed routes mid-rollout: the next pass puts them back in managedRoutes order', async () => {
    const { rollout, key, deps } = await pausedWithRoutes('routes-order');
    const before = await virtualService(rollout, 'rollouts-demo-vsvc2');
    await patchAsOtherWriter(rollout, 'rollouts-demo-vsvc2', [
      { op: 'move', from: '/spec/http/0', path: '/spec/http/2' },
    ]);
    expect((await httpNames(rollout))[1]).toEqual(['canary-mirror', 'http-secondary', 'canary-header']);
    await runPass(deps, { only: [key] });
    expect((await virtualService(rollout, 'rollouts-demo-vsvc2')).spec).toEqual(before.spec);
  });

  it('a GitOps self-heal deletes a managed route: the next pass restores it exactly', async () => {
    const { rollout, key, deps } = await pausedWithRoutes('routes-heal');
    const before = await virtualService(rollout, 'rollouts-demo-vsvc1');
    const healed = await patchAsOtherWriter(rollout, 'rollouts-demo-vsvc1', [
      { op: 'remove', path: '/spec/http/1' },
    ]);
    expect(readManagedRoutes(rollout, healed).map((r) => r.name)).toEqual(['canary-header']);
    await runPass(deps, { only: [key] });
    expect((await virtualService(rollout, 'rollouts-demo-vsvc1')).spec).toEqual(before.spec);
  });
});
