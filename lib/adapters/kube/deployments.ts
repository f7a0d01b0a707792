/**
 * Deployments: read availability, set a container's image, scale through the scale subresource,
 * watch until pods are available.
 */
import type { ObservedDeployment, WorkloadPort } from '../../app/runner/ports.js';
import { KubeApiError, InvalidReferenceError } from './errors.js';
import { CONTENT_TYPES, type KubeHttp } from './http.js';
import { DEPLOYMENTS, resourcePath } from './resources.js';
import { watchUntil } from './watch.js';

interface Deployment {
  metadata: { generation?: number; resourceVersion?: string };
  spec: { replicas?: number; template: { spec: { containers: { name: string; image?: string }[] } } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
  };
}

export type { ObservedDeployment };

export class DeploymentClient implements WorkloadPort {
  constructor(private readonly http: KubeHttp) {}

  async observe(namespace: string, name: string, container: string | undefined): Promise<ObservedDeployment> {
    const response = await this.http.send<Deployment>('GET', resourcePath(DEPLOYMENTS, namespace, name));
    if (response.status === 404)
      throw new InvalidReferenceError([`Deployment ${namespace}/${name} not found`]);
    if (response.status !== 200) throw KubeApiError.from(`GET Deployment ${namespace}/${name}`, response);
    return observation(response.body, namespace, name, container);
  }

  /** A bounded watch (one request): the observation that satisfied `ready`, or undefined. */
  async waitFor(
    namespace: string,
    name: string,
    after: ObservedDeployment,
    container: string | undefined,
    timeoutSeconds: number,
    ready: (deployment: ObservedDeployment) => boolean,
    signal?: AbortSignal,
  ): Promise<ObservedDeployment | undefined> {
    const watched = await watchUntil<Deployment>(
      this.http,
      {
        collection: resourcePath(DEPLOYMENTS, namespace),
        name,
        ...(after.resourceVersion ? { resourceVersion: after.resourceVersion } : {}),
        timeoutSeconds,
        ...(signal ? { signal } : {}),
      },
      (deployment) => {
        try {
          return ready(observation(deployment, namespace, name, container));
        } catch {
          return false; // The container went away: the next pass reports it.
        }
      },
    );
    return watched.outcome === 'matched'
      ? observation(watched.object, namespace, name, container)
      : undefined;
  }

  /** Sets one container's image; the test op makes sure it is still the container we read. */
  async setImage(
    namespace: string,
    name: string,
    current: ObservedDeployment,
    containerName: string | undefined,
    image: string,
  ): Promise<boolean> {
    if (current.image === image) return false;
    const path = `/spec/template/spec/containers/${current.containerIndex}`;
    const patch = [
      ...(containerName ? [{ op: 'test', path: `${path}/name`, value: containerName }] : []),
      { op: 'replace', path: `${path}/image`, value: image },
    ];
    const response = await this.http.send(
      'PATCH',
      resourcePath(DEPLOYMENTS, namespace, name),
      patch,
      CONTENT_TYPES.jsonPatch,
    );
    if (response.status !== 200)
      throw KubeApiError.from(`PATCH Deployment ${namespace}/${name} image`, response);
    return true;
  }

  async scale(
    namespace: string,
    name: string,
    current: ObservedDeployment,
    replicas: number,
  ): Promise<boolean> {
    if (current.replicas === replicas) return false;
    const response = await this.http.send(
      'PATCH',
      resourcePath(DEPLOYMENTS, namespace, name, 'scale'),
      { spec: { replicas } },
      CONTENT_TYPES.mergePatch,
    );
    if (response.status !== 200)
      throw KubeApiError.from(`PATCH Deployment ${namespace}/${name} scale`, response);
    return true;
  }
}

function observation(
  deployment: Deployment,
  namespace: string,
  name: string,
  container: string | undefined,
): ObservedDeployment {
  const containers = deployment.spec.template.spec.containers;
  const containerIndex = container
    ? containers.findIndex((c) => c.name === container)
    : containers.length === 1
      ? 0
      : -1;
  if (containerIndex < 0) {
    const names = containers.map((c) => c.name).join(', ');
    throw new InvalidReferenceError([
      container
        ? `Deployment ${namespace}/${name} has no container '${container}' (found: ${names})`
        : `Deployment ${namespace}/${name} has ${containers.length} containers (${names}); set spec.workload.container`,
    ]);
  }
  return {
    containerIndex,
    image: containers[containerIndex]?.image,
    replicas: deployment.spec.replicas ?? 1,
    generation: deployment.metadata.generation ?? 0,
    observedGeneration: deployment.status?.observedGeneration ?? 0,
    statusReplicas: deployment.status?.replicas ?? 0,
    updatedReplicas: deployment.status?.updatedReplicas ?? 0,
    availableReplicas: deployment.status?.availableReplicas ?? 0,
    ...(deployment.metadata.resourceVersion ? { resourceVersion: deployment.metadata.resourceVersion } : {}),
  };
}
