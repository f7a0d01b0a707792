/**
 * A cluster in memory: Deployments that roll out at once and VirtualServices patched with the
 * same RFC 6902 semantics as the API server (a failed `test` is a conflict). Every request is
 * logged, and `onRequest` may throw (a 403, a 5xx, a lost lease's competitor writing) before it
 * takes effect, so unit tests can put the runner in any situation.
 */
import type { ClusterScope } from '../../core/model/clusters.js';
import { formatRef, type ObjectRef } from '../../core/model/references.js';
import type { JsonPatchOperation } from '../../core/istio/weights.js';
import type { VirtualService } from '../../core/model/virtualservice.js';
import { err, ok, type Result } from '../../core/result.js';
import {
  InvalidReferenceError,
  UnknownClusterError,
  type ClusterPort,
  type ClusterResolver,
  type ObservedDeployment,
  type TrafficRouter,
  type WorkloadPort,
} from '../../app/runner/ports.js';
import { applyPatch } from './json-patch.js';

export type ClusterRequest =
  | { kind: 'observe'; deployment: string }
  | { kind: 'setImage'; deployment: string; image: string }
  | { kind: 'scale'; deployment: string; replicas: number }
  | { kind: 'get'; virtualService: string }
  | { kind: 'patch'; virtualService: string; patch: JsonPatchOperation[] };

export interface MemoryDeployment {
  /** The one container's name and image. */
  container: string;
  image: string;
  replicas: number;
}

export class MemoryCluster implements ClusterPort {
  readonly deploymentsByName = new Map<string, MemoryDeployment>();
  readonly virtualServicesByName = new Map<string, VirtualService>();
  /** Requests that took effect, in order. */
  readonly requests: ClusterRequest[] = [];
  /** Runs before a request takes effect; throwing fails the request. */
  onRequest: (request: ClusterRequest) => void | Promise<void> = () => undefined;

  constructor(
    deployments: Record<string, MemoryDeployment> = {},
    virtualServices: VirtualService[] = [],
    /** The registry entry the runner checks Rollouts against; the demo's `default` namespace by default. */
    readonly scope: ClusterScope = { name: 'default', namespaces: ['default'] },
  ) {
    for (const [name, deployment] of Object.entries(deployments))
      this.deploymentsByName.set(name, deployment);
    for (const vs of virtualServices)
      this.virtualServicesByName.set(
        formatRef({ namespace: vs.metadata.namespace ?? 'default', name: vs.metadata.name }),
        structuredClone(vs),
      );
  }

  private async request(request: ClusterRequest): Promise<void> {
    await this.onRequest(request);
    this.requests.push(request);
  }

  /** Writes only: what the runner changed, in order. */
  writes(): ClusterRequest[] {
    return this.requests.filter((r) => r.kind === 'setImage' || r.kind === 'scale' || r.kind === 'patch');
  }

  readonly deployments: WorkloadPort = {
    observe: async (namespace, name, container): Promise<ObservedDeployment> => {
      const id = `${namespace}/${name}`;
      await this.request({ kind: 'observe', deployment: id });
      const found = this.deploymentsByName.get(id);
      if (!found) throw new InvalidReferenceError([`Deployment ${id} not found`]);
      if (container && container !== found.container)
        throw new InvalidReferenceError([
          `Deployment ${id} has no container '${container}' (found: ${found.container})`,
        ]);
      return {
        containerIndex: 0,
        image: found.image,
        replicas: found.replicas,
        generation: 1,
        observedGeneration: 1,
        statusReplicas: found.replicas,
        updatedReplicas: found.replicas,
        availableReplicas: found.replicas,
      };
    },
    setImage: async (namespace, name, current, _container, image) => {
      if (current.image === image) return false;
      const id = `${namespace}/${name}`;
      await this.request({ kind: 'setImage', deployment: id, image });
      this.deploymentsByName.set(id, { ...(this.deploymentsByName.get(id) as MemoryDeployment), image });
      return true;
    },
    scale: async (namespace, name, current, replicas) => {
      if (current.replicas === replicas) return false;
      const id = `${namespace}/${name}`;
      await this.request({ kind: 'scale', deployment: id, replicas });
      this.deploymentsByName.set(id, { ...(this.deploymentsByName.get(id) as MemoryDeployment), replicas });
      return true;
    },
  };

  readonly virtualServices: TrafficRouter = {
    get: async (ref: ObjectRef) => {
      const id = formatRef(ref);
      await this.request({ kind: 'get', virtualService: id });
      const found = this.virtualServicesByName.get(id);
      if (!found) throw new InvalidReferenceError([`VirtualService ${id} not found`]);
      return structuredClone(found);
    },
    apply: async (
      ref: ObjectRef,
      patch: JsonPatchOperation[],
    ): Promise<Result<VirtualService, 'conflict'>> => {
      const id = formatRef(ref);
      await this.request({ kind: 'patch', virtualService: id, patch });
      const found = this.virtualServicesByName.get(id);
      if (!found) throw new InvalidReferenceError([`VirtualService ${id} not found`]);
      let patched: VirtualService;
      try {
        patched = applyPatch(found, patch);
      } catch {
        return err('conflict');
      }
      this.virtualServicesByName.set(id, patched);
      return ok(structuredClone(patched));
    },
  };
}

export class MemoryClusters implements ClusterResolver {
  readonly forgotten: string[] = [];
  constructor(readonly clusters: Record<string, MemoryCluster>) {}

  async get(name: string): Promise<ClusterPort> {
    const cluster = this.clusters[name];
    if (!cluster) throw new UnknownClusterError(name, Object.keys(this.clusters));
    return cluster;
  }

  forget(name: string): void {
    this.forgotten.push(name);
  }
}
