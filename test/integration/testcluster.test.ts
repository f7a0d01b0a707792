/** The test control plane behaves as a real cluster: what the runner relies on, checked against kube-apiserver itself. */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { CONTENT_TYPES } from '../../lib/adapters/kube/http.js';
import type { VirtualService } from '../../lib/core/model/virtualservice.js';
import { admin, applyDemo, createNamespace, runner, waitForAvailable } from './sandbox.js';

let namespace: string;
const vsPath = (name = 'rollouts-demo-vsvc1') =>
  `/apis/networking.istio.io/v1beta1/namespaces/${namespace}/virtualservices/${name}`;

beforeAll(async () => {
  namespace = await createNamespace('cluster');
  await applyDemo(namespace);
});

describe('the seed manifests on the test control plane', () => {
  it('bring the stable Deployment up Available with Ready pods', async () => {
    const deployment = await waitForAvailable(namespace, 'rollouts-demo-stable', 1);
    expect(deployment.status?.conditions).toContainEqual(
      expect.objectContaining({ type: 'Available', status: 'True' }),
    );
    const pods = await admin().send<{
      items: { status: { phase: string; conditions: { type: string; status: string }[] } }[];
    }>('GET', `/api/v1/namespaces/${namespace}/pods?labelSelector=track%3Dstable`);
    expect(pods.body.items).toHaveLength(1);
    expect(pods.body.items[0]?.status.phase).toBe('Running');
    expect(pods.body.items[0]?.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Ready', status: 'True' }),
    );
  });

  it('scale the canary to 2 available replicas through the scale subresource, as the runner', async () => {
    const scaled = await runner().send(
      'PATCH',
      `/apis/apps/v1/namespaces/${namespace}/deployments/rollouts-demo-canary/scale`,
      { spec: { replicas: 2 } },
      CONTENT_TYPES.mergePatch,
    );
    expect(scaled.status).toBe(200);
    await waitForAvailable(namespace, 'rollouts-demo-canary', 2);
  });
});

describe('VirtualService writes as the runner identity', () => {
  it('applies a JSON Patch guarded by a test op', async () => {
    const response = await runner().send<VirtualService>(
      'PATCH',
      vsPath(),
      [
        { op: 'test', path: '/spec/http/0/route/1/destination/host', value: 'rollouts-demo-canary' },
        { op: 'replace', path: '/spec/http/0/route/1/weight', value: 10 },
        { op: 'replace', path: '/spec/http/0/route/0/weight', value: 90 },
      ],
      CONTENT_TYPES.jsonPatch,
    );
    expect(response.status).toBe(200);
    expect(response.body.spec.http?.[0]?.route?.map((r) => r.weight)).toEqual([90, 10]);
  });

  it('gets 422 for a failed test op, and nothing changes', async () => {
    const before = await runner().send<VirtualService>('GET', vsPath());
    const response = await runner().send(
      'PATCH',
      vsPath(),
      [
        { op: 'test', path: '/spec/http/0/route/1/destination/host', value: 'someone-else' },
        { op: 'replace', path: '/spec/http/0/route/1/weight', value: 77 },
      ],
      CONTENT_TYPES.jsonPatch,
    );
    expect(response.status).toBe(422);
    const after = await runner().send<VirtualService>('GET', vsPath());
    expect(after.body.metadata.resourceVersion).toBe(before.body.metadata.resourceVersion);
    expect(after.body.spec).toEqual(before.body.spec);
  });

  it('gets 409 for a stale resourceVersion', async () => {
    const before = await runner().send<VirtualService>('GET', vsPath());
    await runner().send(
      'PATCH',
      vsPath(),
      [{ op: 'replace', path: '/spec/http/0/route/1/weight', value: 11 }],
      CONTENT_TYPES.jsonPatch,
    );
    const stale = await runner().send(
      'PATCH',
      vsPath(),
      [
        { op: 'replace', path: '/metadata/resourceVersion', value: before.body.metadata.resourceVersion },
        { op: 'replace', path: '/spec/http/0/route/1/weight', value: 12 },
      ],
      CONTENT_TYPES.jsonPatch,
    );
    expect(stale.status).toBe(409);
  });

  it('gets 415 for a strategic-merge patch on a custom resource', async () => {
    const response = await runner().send(
      'PATCH',
      vsPath(),
      { spec: { hosts: ['x'] } },
      CONTENT_TYPES.strategicMergePatch,
    );
    expect(response.status).toBe(415);
  });

  it('gets 422 from the CRD schema for a string weight', async () => {
    const response = await runner().send(
      'PATCH',
      vsPath(),
      [{ op: 'replace', path: '/spec/http/0/route/1/weight', value: '50' }],
      CONTENT_TYPES.jsonPatch,
    );
    expect(response.status).toBe(422);
    expect(JSON.stringify(response.body)).toContain('weight');
  });
});

describe('the generated RBAC gives the runner nothing more', () => {
  it.each([
    ['read a Secret', 'GET', () => `/api/v1/namespaces/${namespace}/secrets`],
    ['delete a VirtualService', 'DELETE', () => vsPath()],
    ['create a Deployment', 'POST', () => `/apis/apps/v1/namespaces/${namespace}/deployments`],
    ['list pods', 'GET', () => `/api/v1/namespaces/${namespace}/pods`],
    [
      'read a Service (no code reads them)',
      'GET',
      () => `/api/v1/namespaces/${namespace}/services/rollouts-demo-stable`,
    ],
  ])('forbids it to %s (403)', async (_, method, path) => {
    const response = await runner().send(
      method,
      path(),
      method === 'POST' ? { metadata: { name: 'x' } } : undefined,
    );
    expect(response.status).toBe(403);
  });
});
