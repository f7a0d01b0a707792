/** `rollouts get` and `list` for a fleet: its waves, and each member's step and weights, as text. Pure. */
import type { StoredFleet } from '../runner/ports.js';
import type { StoredRollout } from '../../adapters/dynamodb/types.js';
import { fleetSummary, fleetWaves, waveText } from './fleet-view.js';
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
  const summary = fleetSummary(stored);
  const lines = [
    `Name:            ${fleet.name}`,
    `Namespace:       ${fleet.namespace}`,
    `Fleet:           ${fleet.clusters.length} cluster(s) in ${fleet.waves.length} wave(s); on abort, completed clusters: ${fleet.onAbort.completedClusters}`,
    `Status:          ${PHASE_ICONS[status.phase] ?? ''} ${status.phase}`,
    ...(status.message ? [`Message:         ${status.message}`] : []),
    `Image:           ${status.image ?? '(none yet)'}${status.revision ? ` (revision ${status.revision})` : ''}`,
    `Wave:            ${waveText(summary, ' done')}${status.bakeUntil ? `, baking until ${status.bakeUntil}` : ''}`,
    ...(stored.record.lastError ? [`Last error:      ${describeError(stored.record.lastError)}`] : []),
    '',
  ];
  const rows = [['WAVE', 'CLUSTER', 'PHASE', 'STEP', 'IMAGE', 'WEIGHTS (stable/canary)', 'FLEET']];
  for (const wave of fleetWaves(stored, members))
    for (const member of wave.members)
      rows.push([
        `${wave.current ? '►' : ' '} ${wave.name}`,
        member.cluster,
        member.phase ? `${PHASE_ICONS[member.phase] ?? ''} ${member.phase}` : '(not registered)',
        member.phase ? `${member.step}/${member.steps}` : '',
        member.image ?? '',
        member.phase ? describeWeights(live[member.cluster], member.weight) : '',
        member.state,
      ]);
  return `${lines.join('\n')}\n${formatTable(rows)}`;
}

/** One line per fleet for `list`. */
export function describeFleetList(items: StoredFleet[]): string {
  const rows = [['FLEET', 'NAMESPACE', 'NAME', 'STATUS', 'WAVE', 'CLUSTERS', 'IMAGE']];
  for (const summary of items.map(fleetSummary))
    rows.push([
      `${summary.clusters.length} clusters`,
      summary.namespace,
      summary.name,
      summary.phase,
      waveText(summary),
      summary.clusters.join(','),
      summary.image ?? '',
    ]);
  return formatTable(rows);
}
