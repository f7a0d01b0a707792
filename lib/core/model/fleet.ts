/**
 * A fleet: one Rollout across several clusters, rolled out in waves. The document is an ordinary
 * Rollout whose `spec.clusters` replaces `spec.cluster`; `spec.waves` orders the clusters (without
 * it every cluster is one wave) and `spec.onAbort` says what an abort does to clusters that had
 * completed. Each cluster gets a member: the same Rollout with that cluster (and the wave's steps).
 * The document is parsed in fleet-spec.ts; this module is what the stores and the CLI's views need,
 * without the schemas.
 */
import type { Rollout, Step, Trigger } from './rollout.js';

export type CompletedClusters = 'Keep' | 'Revert';

export interface Wave {
  name: string;
  clusters: string[];
  /** How long the wave's clusters must stay Healthy before the next wave opens. */
  bakeSeconds: number;
  /** At most this many of the wave's clusters roll out at once. */
  maxParallel: number;
  /** The wave's own canary steps; absent: the Rollout's. */
  steps?: Step[];
}

export interface Fleet {
  name: string;
  namespace: string;
  clusters: string[];
  waves: Wave[];
  onAbort: { completedClusters: CompletedClusters };
  trigger?: Trigger;
  /** The Rollout every member is made from (its cluster is the first listed; members set their own). */
  template: Rollout;
}

/**
 * The cluster part of a fleet's key: the fleet record is kept and addressed like a Rollout on this
 * cluster, which no registered cluster can be called (it is not a DNS label).
 */
export const FLEET_CLUSTER = '*';

export function fleetKey(fleet: Pick<Fleet, 'namespace' | 'name'>): {
  cluster: string;
  namespace: string;
  name: string;
} {
  return { cluster: FLEET_CLUSTER, namespace: fleet.namespace, name: fleet.name };
}

/**
 * The member Rollout on `cluster`: the fleet's Rollout there, with its wave's steps. Members carry
 * no trigger: a push starts the fleet, never a member on its own.
 */
export function memberRollout(fleet: Fleet, cluster: string): Rollout {
  const wave = fleet.waves.find((candidate) => candidate.clusters.includes(cluster));
  const steps = wave?.steps ?? fleet.template.canary.steps;
  return { ...fleet.template, cluster, canary: { ...fleet.template.canary, steps } };
}
