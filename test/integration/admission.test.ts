/**
 * The runner's identity on the real API server, with the generated RBAC and admission policy
 * installed as the test cluster's setup installs them: what it may not reach, what it may not
 * change, and what a rollout needs it to change.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { applyObjects } from '../../lib/adapters/kube/apply.js';
import { CONTENT_TYPES } from '../../lib/adapters/kube/http.js';
import { keyOf, type RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import { MANAGED_ROUTES_ANNOTATION } from '../../lib/core/model/runner-access.js';
import { waitFor } from '../../lib/local/processes.js';
import { admin, applyDemo, createNamespace, createUnservedNamespace, kubeconfig, runner } from './sandbox.js';
import {
  createStore,
  demoRolloutIn,
  passUntil,
  phase,
  registerAndSetImage,
  runnerDeps,
} from './runner-harness.js';

let served: string;
let unserved: string;
const deploymentPath = (namespace: string, name = 'rollouts-demo-canary') =>
  `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`;
const vsPath = (namespace: string, name = 'rollouts-demo-vsvc1') =>
  `/apis/networking.istio.io/v1beta1/namespaces/${namespace}/virtualservices/${name}`;
type Op = { op: string; path: string; value?: unknown };
const patch = (path: string, ops: Op[], as = runner()) =>
  as.send<any>('PATCH', path, ops, CONTENT_TYPES.jsonPatch);
const denial = (response: { status: number; body: unknown }) => ({
  status: response.status,
  message: (response.body as { message?: string }).message ?? '',
});

beforeAll(async () => {
  served = await createNamespace('admission');
  unserved = await createUnservedNamespace('unbound');
  await applyDemo(served);
  await applyDemo(unserved);
  // The admission plugin picks new policies up asynchronously: wait until it denies a runner label change.
  await waitFor(
    'the admission policy to deny runner label changes',
    async () => {
      const response = await runner().send(
        'PATCH',
        `${deploymentPath(served)}?dryRun=All`,
        { metadata: { labels: { probe: 'x' } } },
        CONTENT_TYPES.mergePatch,
      );
      return response.status === 403 ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
});

describe('RBAC: the runner reaches only the namespaces its cluster serves', () => {
  it('gets 403 reading or patching in a namespace with no RoleBinding', async () => {
    const read = await runner().send('GET', deploymentPath(unserved));
    expect(read.status).toBe(403);
    const write = await patch(vsPath(unserved), [
      { op: 'replace', path: '/spec/http/0/route/1/weight', value: 5 },
    ]);
    expect(denial(write)).toEqual({
      status: 403,
      message: expect.stringContaining(
        `cannot patch resource "virtualservices" in API group "networking.istio.io" in the namespace "${unserved}"`,
      ),
    });
  });

  it('reads in a namespace it serves', async () => {
    expect((await runner().send('GET', deploymentPath(served))).status).toBe(200);
  });
});

describe('the admission policy denies every other change by the runner', () => {
  const container = '/spec/template/spec/containers';
  const deploymentDenied = "may change only a Deployment's replicas and its containers' images";
  const vsDenied = "may change only the weights of a VirtualService's route destinations";

  it.each<[string, () => string, Op[], string]>([
    [
      'a service account',
      () => deploymentPath(served),
      [{ op: 'add', path: '/spec/template/spec/serviceAccountName', value: 'admin' }],
      deploymentDenied,
    ],
    [
      'a new container',
      () => deploymentPath(served),
      [{ op: 'add', path: `${container}/-`, value: { name: 'miner', image: 'evil:latest' } }],
      deploymentDenied,
    ],
    [
      'a container command',
      () => deploymentPath(served),
      [{ op: 'add', path: `${container}/0/command`, value: ['sh'] }],
      deploymentDenied,
    ],
    [
      'the pod template labels',
      () => deploymentPath(served),
      [{ op: 'add', path: '/spec/template/metadata/labels/extra', value: 'x' }],
      deploymentDenied,
    ],
    [
      'a Deployment label',
      () => deploymentPath(served),
      [{ op: 'add', path: '/metadata/labels', value: { team: 'x' } }],
      'may not change metadata',
    ],
    [
      'a destination host',
      () => vsPath(served),
      [{ op: 'replace', path: '/spec/http/0/route/1/destination/host', value: 'attacker.example.com' }],
      vsDenied,
    ],
    [
      'a tcp destination port',
      () => vsPath(served),
      [{ op: 'add', path: '/spec/tcp/0/route/0/destination/port', value: { number: 1 } }],
      vsDenied,
    ],
    [
      'a new route',
      () => vsPath(served),
      [
        {
          op: 'add',
          path: '/spec/http/0',
          value: { name: 'header-route', route: [{ destination: { host: 'rollouts-demo-canary' } }] },
        },
      ],
      vsDenied,
    ],
    [
      'a new destination',
      () => vsPath(served),
      [{ op: 'add', path: '/spec/http/0/route/-', value: { destination: { host: 'attacker' }, weight: 0 } }],
      vsDenied,
    ],
    [
      'the VirtualService hosts',
      () => vsPath(served),
      [{ op: 'add', path: '/spec/hosts/-', value: 'evil.example.com' }],
      vsDenied,
    ],
    [
      'a VirtualService annotation',
      () => vsPath(served),
      [{ op: 'add', path: '/metadata/annotations', value: { a: 'b' } }],
      'may not change metadata',
    ],
  ])('denies a PATCH of %s (403, with the reason)', async (_, path, ops, reason) => {
    const before = await admin().send<any>('GET', path());
    const response = await patch(path(), ops);
    expect(denial(response)).toEqual({
      status: 403,
      message: expect.stringContaining(`ValidatingAdmissionPolicy 'serverless-rollouts-runner-changes'`),
    });
    expect(denial(response).message).toContain(reason);
    const after = await admin().send<any>('GET', path());
    expect(after.body.metadata.resourceVersion).toBe(before.body.metadata.resourceVersion);
  });

  it('denies what RBAC would allow: a create granted by an extra Role', async () => {
    await applyObjects(kubeconfig('admin'), [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'too-much', namespace: served },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create'] }],
      } as any,
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'too-much', namespace: served },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'too-much' },
        subjects: [
          { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'serverless-rollouts:runners' },
        ],
      } as any,
    ]);
    const created = await waitFor(
      'the extra Role to take effect',
      async () => {
        const response = await runner().send('POST', `/api/v1/namespaces/${served}/configmaps`, {
          metadata: { name: 'x' },
        });
        return response.status === 403 && denial(response).message.includes('ValidatingAdmissionPolicy')
          ? response
          : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    expect(denial(created).message).toContain(
      'the rollouts runner may only update objects, not CREATE configmaps',
    );
  });

  it('leaves everyone else alone: the admin may change labels', async () => {
    const response = await patch(
      deploymentPath(served),
      [{ op: 'add', path: '/metadata/labels/owner', value: 'platform' }],
      admin(),
    );
    expect(response.status).toBe(200);
  });
});

describe('the admission policy admits what a rollout changes', () => {
  it('route weights in http, tls and tcp routes', async () => {
    const weights = [90, 10];
    const ops = ['http', 'tls', 'tcp'].flatMap((section) =>
      weights.map((value, index) => ({
        op: 'replace',
        path: `/spec/${section}/0/route/${index}/weight`,
        value,
      })),
    );
    const response = await patch(vsPath(served), ops);
    expect(response.status).toBe(200);
    expect(response.body.spec.tcp[0].route.map((r: { weight: number }) => r.weight)).toEqual(weights);
  });

  it("a container's image, and replicas on the object and through the scale subresource", async () => {
    const image = await patch(deploymentPath(served), [
      {
        op: 'replace',
        path: '/spec/template/spec/containers/0/image',
        value: 'argoproj/rollouts-demo:yellow',
      },
    ]);
    expect(image.status).toBe(200);
    const replicas = await patch(deploymentPath(served), [
      { op: 'replace', path: '/spec/replicas', value: 2 },
    ]);
    expect(replicas.status).toBe(200);
    const scale = await runner().send(
      'PATCH',
      `${deploymentPath(served)}/scale`,
      { spec: { replicas: 0 } },
      CONTENT_TYPES.mergePatch,
    );
    expect(scale.status).toBe(200);
    const { body } = await admin().send<any>('GET', deploymentPath(served));
    expect([body.spec.template.spec.containers[0].image, body.spec.replicas]).toEqual([
      'argoproj/rollouts-demo:yellow',
      0,
    ]);
  });
});

describe('managed routes: only those the VirtualService owner names, only to its hosts', () => {
  const headerRoute = (name: string, host = 'rollouts-demo-canary') => ({
    name,
    match: [{ headers: { 'x-canary': { exact: 'yes' } } }],
    route: [{ destination: { host, port: { number: 15372 } }, weight: 100 }],
  });
  const add = (route: unknown) =>
    patch(vsPath(served, 'rollouts-demo-vsvc2'), [{ op: 'add', path: '/spec/http/0', value: route }]);

  beforeAll(async () => {
    await patch(
      vsPath(served, 'rollouts-demo-vsvc2'),
      [
        {
          op: 'add',
          path: '/metadata/annotations',
          value: { [MANAGED_ROUTES_ANNOTATION]: 'header-route, mirror-route' },
        },
      ],
      admin(),
    );
  });

  it('denies a route the annotation does not name, and one to a host the VirtualService does not use', async () => {
    expect(denial(await add(headerRoute('other-route')))).toEqual({
      status: 403,
      message: expect.stringContaining(MANAGED_ROUTES_ANNOTATION),
    });
    expect(denial(await add(headerRoute('header-route', 'attacker.example.com')))).toEqual({
      status: 403,
      message: expect.stringContaining('to hosts the VirtualService already routes to'),
    });
    expect(denial(await add({ ...headerRoute('header-route'), redirect: { uri: '/x' } })).status).toBe(403);
  });

  it('admits adding and removing a named header route to the canary, leaving the other routes alone', async () => {
    const added = await add(headerRoute('header-route'));
    expect(added.status).toBe(200);
    expect(added.body.spec.http.map((r: { name: string }) => r.name)).toEqual([
      'header-route',
      'http-secondary',
    ]);
    const changed = await patch(vsPath(served, 'rollouts-demo-vsvc2'), [
      { op: 'replace', path: '/spec/http/1/route/0/destination/host', value: 'x' },
    ]);
    expect(changed.status).toBe(403);
    const removed = await patch(vsPath(served, 'rollouts-demo-vsvc2'), [
      { op: 'remove', path: '/spec/http/0' },
    ]);
    expect(removed.status).toBe(200);
  });
});

describe('managed routes on a VirtualService that names its hosts in full', () => {
  const fqdn = (service: string, namespace = served) => `${service}.${namespace}.svc.cluster.local`;
  const headerRoute = (host: string) => ({
    name: 'header-route',
    match: [{ headers: { 'x-canary': { exact: 'yes' } } }],
    route: [{ destination: { host }, weight: 100 }],
  });
  const add = (name: string, route: unknown) =>
    patch(vsPath(served, name), [{ op: 'add', path: '/spec/http/0', value: route }], runner());
  const virtualService = (name: string, canaryHost: string) => ({
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'VirtualService',
    metadata: { name, namespace: served, annotations: { [MANAGED_ROUTES_ANNOTATION]: 'header-route' } },
    spec: {
      hosts: [name],
      http: [
        {
          name: 'primary',
          route: [
            { destination: { host: fqdn('rollouts-demo-stable') }, weight: 100 },
            { destination: { host: canaryHost }, weight: 0 },
          ],
        },
      ],
    },
  });

  beforeAll(async () => {
    await applyObjects(kubeconfig('admin'), [
      virtualService('full-names', fqdn('rollouts-demo-canary')),
      virtualService('elsewhere', fqdn('rollouts-demo-canary', 'other-team')),
    ]);
  });

  it("admits a header route to the canary Service's short name, as Argo Rollouts writes it", async () => {
    expect((await add('full-names', headerRoute('rollouts-demo-canary'))).status).toBe(200);
  });

  it('denies a short name the VirtualService routes to only in another namespace, and one it does not route to', async () => {
    expect(denial(await add('elsewhere', headerRoute('rollouts-demo-canary')))).toEqual({
      status: 403,
      message: expect.stringContaining('to hosts the VirtualService already routes to'),
    });
    expect((await add('full-names', headerRoute('rollouts-demo-stable-x'))).status).toBe(403);
    expect((await add('full-names', headerRoute(`rollouts-demo-canary.${served}.evil.example`))).status).toBe(
      403,
    );
  });
});

describe('the runner refuses a Rollout outside what its cluster serves', () => {
  let store: RolloutStore;
  beforeAll(async () => {
    store = await createStore();
  });

  it.each([
    [
      'its namespace',
      () => demoRolloutIn(unserved),
      `metadata.namespace: namespace '${'UNSERVED'}' is not allowed`,
    ],
    [
      'a VirtualService reference',
      () =>
        demoRolloutIn(served, (doc) => {
          doc.metadata.name = 'cross-namespace';
          doc.spec.strategy.canary.trafficRouting.istio.virtualServices[1].name = `rollouts-demo-vsvc2.${unserved}`;
        }),
      `virtualServices[1].name: VirtualService 'rollouts-demo-vsvc2.${'UNSERVED'}'`,
    ],
  ])(
    'marks it InvalidSpec naming the cluster and its namespaces, and patches nothing (%s)',
    async (_, build, expected) => {
      const rollout = build();
      const before = await admin().send<any>('GET', vsPath(unserved, 'rollouts-demo-vsvc2'));
      await registerAndSetImage(store, rollout);
      const stored = await passUntil(runnerDeps(store), rollout, phase('InvalidSpec'), 'InvalidSpec');
      expect(stored.status.message).toContain(expected.replace('UNSERVED', unserved));
      expect(stored.status.message).toContain(`cluster 'default' serves namespaces ${served} only`);
      const after = await admin().send<any>('GET', vsPath(unserved, 'rollouts-demo-vsvc2'));
      expect(after.body.metadata.resourceVersion).toBe(before.body.metadata.resourceVersion);
      expect((await store.get(keyOf(rollout)))?.status.phase).toBe('InvalidSpec');
    },
  );
});
