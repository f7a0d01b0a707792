/**
 * What `rollouts get`/`list` and the dashboard show of a fleet, as data: its wave and each wave's
 * members with their phase, step and weight. Pure; describe-fleet.ts words it, the dashboard sends it.
 */
import { memberState, type MemberState } from '../../core/fleet/decide.js';
import type { FleetPhase } from '../../core/fleet/types.js';
import type { StoredFleet } from '../runner/ports.js';
import type { StoredRollout } from '../../adapters/dynamodb/types.js';

export interface FleetSummary {
  namespace: string;
  name: string;
  phase: FleetPhase;
  message?: string;
  image?: string;
  revision: number;
  clusters: string[];
  /** The wave in flight (index from 0), or undefined once every wave is done. */
  wave?: { index: number; name: string };
  waves: number;
  bakeUntil?: string;
}

export interface FleetMember {
  cluster: string;
  /** Absent when the member's Rollout is not registered. */
  phase?: string;
  /** Steps done, of `steps`. */
  step: number;
  steps: number;
  image?: string;
  /** The canary weight the member's status asks for. */
  weight: number;
  /** Where the member is in the fleet's revision. */
  state: MemberState;
}

export interface FleetWave {
  name: string;
  /** The wave in flight (never once the fleet is Healthy). */
  current: boolean;
  members: FleetMember[];
}

export function fleetSummary({ fleet, status }: StoredFleet): FleetSummary {
  const wave = fleet.waves[status.wave];
  return {
    namespace: fleet.namespace,
    name: fleet.name,
    phase: status.phase,
    ...(status.message ? { message: status.message } : {}),
    ...(status.image ? { image: status.image } : {}),
    revision: status.revision,
    clusters: fleet.clusters,
    ...(wave ? { wave: { index: status.wave, name: wave.name } } : {}),
    waves: fleet.waves.length,
    ...(status.bakeUntil ? { bakeUntil: status.bakeUntil } : {}),
  };
}

/** `2/3 canary`, or `3/3 done` once every wave is. */
export function waveText(summary: FleetSummary, done = ''): string {
  return summary.wave
    ? `${summary.wave.index + 1}/${summary.waves} ${summary.wave.name}`
    : `${summary.waves}/${summary.waves}${done}`;
}

export function fleetWaves(
  { fleet, status }: StoredFleet,
  members: Record<string, StoredRollout | undefined>,
): FleetWave[] {
  return fleet.waves.map((wave, index) => ({
    name: wave.name,
    current: index === status.wave && status.phase !== 'Healthy',
    members: wave.clusters.map((cluster) => {
      const member = members[cluster];
      const steps = member?.rollout.canary.steps.length ?? 0;
      const memberStatus = member?.status;
      const image = memberStatus?.canaryImage ?? memberStatus?.stableImage;
      return {
        cluster,
        ...(memberStatus ? { phase: memberStatus.phase } : {}),
        step: Math.min(memberStatus?.stepIndex ?? 0, steps),
        steps,
        ...(image ? { image } : {}),
        weight: memberStatus?.weight ?? 0,
        state: memberState(status.image, status.members[cluster], memberStatus),
      };
    }),
  }));
}
