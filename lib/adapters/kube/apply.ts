/** Applies manifests with server-side apply, as `kubectl apply --server-side` does: for setup, not for the runner. */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { CONTENT_TYPES, KubeHttp, statusMessage } from './http.js';
import { resourcePath, resourceTypeOf } from './resources.js';

const FIELD_MANAGER = 'serverless-rollouts-setup';

export async function applyObjects(kubeconfig: KubeConfig, objects: KubernetesObject[]): Promise<void> {
  const http = new KubeHttp(kubeconfig);
  for (const object of objects) {
    const type = resourceTypeOf(object.apiVersion as string, object.kind as string);
    const path = `${resourcePath(type, object.metadata?.namespace, object.metadata?.name)}?fieldManager=${FIELD_MANAGER}&force=true`;
    const response = await http.send('PATCH', path, object, CONTENT_TYPES.apply);
    if (response.status >= 300) {
      const where = `${object.kind} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata?.name}`;
      throw new Error(`applying ${where} failed (HTTP ${response.status}): ${statusMessage(response)}`);
    }
  }
}

export async function waitForCrdsEstablished(
  kubeconfig: KubeConfig,
  names: string[],
  timeoutMs = 30_000,
): Promise<void> {
  const http = new KubeHttp(kubeconfig);
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const response = await http.send<{ status?: { conditions?: { type: string; status: string }[] } }>(
        'GET',
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
      );
      if (response.body?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'))
        break;
      if (Date.now() > deadline)
        throw new Error(`CustomResourceDefinition ${name} not Established after ${timeoutMs} ms`);
      await sleep(100);
    }
  }
}
