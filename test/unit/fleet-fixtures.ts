/** Fleet documents for the unit tests: the demo Rollout with spec.clusters (and waves) instead of spec.cluster. */
import type { FleetStatus } from '../../lib/core/fleet/types.js';
import { demoRolloutDocument } from './fixtures.js';

export function fleetDocument(spec: Record<string, unknown>): Record<string, unknown> {
  const doc = structuredClone(demoRolloutDocument()) as any;
  delete doc.spec.cluster;
  Object.assign(doc.spec, spec);
  return doc;
}

/** A fleet's status in its first wave on `image`, `cluster` told to start while on `previous`. */
export function firstWaveInFlight(image: string, previous: string, cluster: string): FleetStatus {
  return {
    phase: 'Progressing',
    revision: 1,
    attempt: 0,
    image,
    wave: 0,
    waveOpened: true,
    promotions: 0,
    members: { [cluster]: { startedAttempt: 0, previousImage: previous } },
  };
}
