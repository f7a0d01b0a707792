/** Access to the run's control plane for integration tests: a namespace per test file, the demo manifests, waits. */
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { applyObjects } from '../../lib/adapters/kube/apply.js';
import type { ClusterTarget } from '../../lib/core/model/clusters.js';
import { runnerRbac } from '../../lib/core/model/runner-access.js';
import { KubeHttp } from '../../lib/adapters/kube/http.js';
import { waitFor } from '../../lib/local/processes.js';
import { readManifests, REPO_ROOT } from '../../lib/local/testcluster.js';

export function kubeconfig(context: 'admin' | 'runner'): KubeConfig {
  const path = process.env.TEST_KUBECONFIG;
  if (!path)
    throw new Error(
      'TEST_KUBECONFIG is not set: run integration tests through jest, which starts the control plane',
    );
  const config = new KubeConfig();
  config.loadFromFile(path);
  config.setCurrentContext(context);
  return config;
}

export const admin = () => new KubeHttp(kubeconfig('admin'));
export const runner = () => new KubeHttp(kubeconfig('runner'));

/**
 * The namespaces the test cluster serves: those this test file created with `createNamespace`. Live,
 * so a registry built before a namespace exists serves it once created, as after a cdk.json edit.
 */
const served: string[] = [];

/** The test cluster as the registry lists it, reached as `context` through `path`. */
export function testClusterTarget(
  context: 'admin' | 'runner' = 'runner',
  path = process.env.TEST_KUBECONFIG as string,
): ClusterTarget {
  return { name: 'default', namespaces: served, kubeconfig: { path, context } };
}

/** A fresh namespace the test cluster serves, with the generated runner RBAC in it. */
export async function createNamespace(prefix: string): Promise<string> {
  const name = await createUnservedNamespace(prefix);
  await applyObjects(kubeconfig('admin'), runnerRbac({ name: 'default', namespaces: [name] }));
  served.push(name);
  return name;
}

/** A fresh namespace outside the registry: no runner RBAC there. */
export async function createUnservedNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await applyObjects(kubeconfig('admin'), [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }]);
  return name;
}

/** The demo's Deployments, Services, Gateway and VirtualServices, moved into `namespace`. */
export function demoManifests(namespace: string): KubernetesObject[] {
  return readManifests(join(REPO_ROOT, 'examples/istio-demo'))
    .filter((object) => object.kind !== 'Rollout')
    .map((object) => ({ ...object, metadata: { ...object.metadata, namespace } }));
}

export async function applyDemo(namespace: string): Promise<void> {
  await applyObjects(kubeconfig('admin'), demoManifests(namespace));
}

interface DeploymentStatus {
  spec: { replicas: number };
  status?: {
    availableReplicas?: number;
    readyReplicas?: number;
    conditions?: { type: string; status: string }[];
  };
}

export async function waitForAvailable(
  namespace: string,
  name: string,
  replicas: number,
  timeoutMs = 60_000,
): Promise<DeploymentStatus> {
  return waitFor(
    `Deployment ${namespace}/${name} to have ${replicas} available replicas (control plane logs: ${process.env.TEST_CLUSTER_LOG})`,
    async () => {
      const { body } = await admin().send<DeploymentStatus>(
        'GET',
        `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`,
      );
      const available = body.status?.availableReplicas ?? 0;
      return available === replicas && body.spec.replicas === replicas ? body : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
}
