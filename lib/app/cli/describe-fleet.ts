/** `rollouts get` and `list` for a fleet: its waves, and each member's step and weights, as text. Pure. */
import { memberState } from '../../core/fleet/decide.js';
import type { StoredFleet } from '../runner/ports.js';
import type { StoredRollout } from '../../adapters/dynamodb/types.js';
import { describeError, formatTable, PHASE_ICONS, type LiveWeights } from './describe.js';

/** Each VirtualService's routes as stable/canary, e.g. `vsvc1 95/5 95/5`. */
export function describeWeights(live: LiveWeights | undefined, fallback: number): string {
  if (!live || 'unavailable' in live) return `desired ${100 - fallback}/${fallback}`;
  return live
    .map(
      (vs) =>
        `${vs.ref.split('/').at(-1)} ${vs.routes.map((route) => `${route.stable}/${route.canary}`).join(' ')}`,
    )
    .join(', ');
}

export function describeFleet(
  stored: StoredFleet,
  members: Record<string, StoredRollout | undefined>,
  live: Record<string, LiveWeights | undefined>,
): string {
  const { fleet, status } = stored;
  const wave = fleet.waves[status.wave];
  const lines = [
    `Name:            ${fleet.name}`,
    `Namespace:       ${fleet.namespace}`,
    `Fleet:           ${fleet.clusters.length} cluster(s) in ${fleet.waves.length} wave(s); on abort, completed clusters: ${fleet.onAbort.completedClusters}`,
    `Status:          ${PHASE_ICONS[status.phase] ?? ''} ${status.phase}`,
    ...(status.message ? [`Message:         ${status.message}`] : []),
    `Image:           ${status.image ?? '(none yet)'}${status.revision ? ` (revision ${status.revision})` : ''}`,
    `Wave:            ${wave ? `${status.wave + 1}/${fleet.waves.length} ${wave.name}` : `${fleet.waves.length}/${fleet.waves.length} done`}${status.bakeUntil ? `, baking until ${status.bakeUntil}` : ''}`,
    ...(stored.record.lastError ? [`Last error:      ${describeError(stored.record.lastError)}`] : []),
    '',
  ];
  const rows = [['WAVE', 'CLUSTER', 'PHASE', 'STEP', 'IMAGE', 'WEIGHTS (stable/canary)', 'FLEET']];
  for (const [index, candidate] of fleet.waves.entries()) {
    for (const cluster of candidate.clusters) {
      const member = members[cluster];
      const steps = member?.rollout.canary.steps.length ?? 0;
      const memberStatus = member?.status;
      rows.push([
        `${index === status.wave && status.phase !== 'Healthy' ? '►' : ' '} ${candidate.name}`,
        cluster,
        memberStatus ? `${PHASE_ICONS[memberStatus.phase] ?? ''} ${memberStatus.phase}` : '(not registered)',
        memberStatus ? `${Math.min(memberStatus.stepIndex, steps)}/${steps}` : '',
        memberStatus?.canaryImage ?? memberStatus?.stableImage ?? '',
        memberStatus ? describeWeights(live[cluster], memberStatus.weight) : '',
        memberState(status.image, status.members[cluster], memberStatus),
      ]);
    }
  }
  return `${lines.join('\n')}\n${formatTable(rows)}`;
}

/** One line per fleet for `list`. */
export function describeFleetList(items: StoredFleet[]): string {
  const rows = [['FLEET', 'NAMESPACE', 'NAME', 'STATUS', 'WAVE', 'CLUSTERS', 'IMAGE']];
  for (const { fleet, status } of items) {
    const wave = fleet.waves[status.wave];
    rows.push([
      `${fleet.clusters.length} clusters`,
      fleet.namespace,
      fleet.name,
      status.phase,
      wave
        ? `${status.wave + 1}/${fleet.waves.length} ${wave.name}`
        : `${fleet.waves.length}/${fleet.waves.length}`,
      fleet.clusters.join(','),
      status.image ?? '',
    ]);
  }
  return formatTable(rows);
}
