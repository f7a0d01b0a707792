/** Access to the run's control plane for integration tests: a namespace per test file, the demo manifests, waits. */
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { applyObjects } from '../../lib/adapters/kube/apply.js';
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

export async function createNamespace(prefix: string): Promise<string> {
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
