/**
 * One fleet, one pass: lease -> read members -> decide -> queue member commands -> save -> publish
 * -> run the members told something. The fleet never touches a cluster: members act only through
 * their own command queues, each command queued once by its dedupe key, so a pass that dies after
 * queueing some and is done again by another runner queues nothing twice.
 */
import { decideFleet, DEFAULT_FLEET_OPTIONS } from '../../core/fleet/decide.js';
import type { FleetDecision, FleetEvent, MemberCommand } from '../../core/fleet/types.js';
import {
  DEFAULT_LEASE_MS,
  describeCommand,
  LeaseLostError,
  MAX_SAVE_ATTEMPTS,
  processRollout,
  publish,
  recordPassFailure,
  transitionEntry,
  type Outcome,
} from './process-rollout.js';
import {
  formatKey,
  type FleetRecords,
  type HistoryEntry,
  type RolloutKey,
  type RunnerDeps,
  type StoredFleet,
} from './ports.js';

export async function processFleet(deps: RunnerDeps, key: RolloutKey): Promise<Outcome> {
  const fleets = deps.fleets;
  if (!fleets) return { key, result: 'not-found' };
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  for (let attempt = 1; ; attempt++) {
    const now = deps.clock();
    const leased = await fleets.acquireLease(key, deps.owner, now, now + leaseMs);
    if (!leased.ok) return { key, result: leased.error };
    const stored = leased.value;
    const fence = async () => {
      if (!(await fleets.renewLease(key, deps.owner, deps.clock() + leaseMs))) throw new LeaseLostError(key);
    };
    try {
      const done = await fleetPass(deps, fleets, stored, now, fence);
      if (done === 'conflict') {
        if (attempt < MAX_SAVE_ATTEMPTS) continue;
        return await recordFleetError(
          deps,
          fleets,
          stored,
          `status not saved: the fleet changed during ${attempt} passes in a row`,
        );
      }
      // Members told something act now rather than at the next schedule.
      await Promise.all(
        [...new Set(done.told)].map((cluster) =>
          processRollout(deps, { cluster, namespace: key.namespace, name: key.name }).catch((error: Error) =>
            deps.logger?.error('member pass failed', {
              fleet: formatKey(key),
              cluster,
              error: error.message,
            }),
          ),
        ),
      );
      return done.outcome;
    } catch (error) {
      if (error instanceof LeaseLostError) return { key, result: 'lease-lost', message: error.message };
      return recordFleetError(
        deps,
        fleets,
        stored,
        `fleet ${key.namespace}/${key.name}: ${(error as Error).message}`,
      );
    }
  }
}

async function fleetPass(
  deps: RunnerDeps,
  fleets: FleetRecords,
  stored: StoredFleet,
  now: number,
  fence: () => Promise<void>,
): Promise<{ outcome: Outcome; told: string[] } | 'conflict'> {
  const { fleet, key } = stored;
  const [commands, members] = await Promise.all([fleets.pendingCommands(key), fleets.members(fleet)]);
  const at = new Date(now).toISOString();
  const history: HistoryEntry[] = [];
  const decisions: FleetDecision[] = [];
  let status = stored.status;
  for (const pending of commands.length ? commands : [null]) {
    const decision = decideFleet(
      fleet,
      status,
      members,
      pending?.command ?? null,
      now,
      deps.fleet ?? DEFAULT_FLEET_OPTIONS,
    );
    if (pending && decision.command)
      history.push({
        at,
        kind: 'command',
        message: `${describeFleetCommand(pending.command)} from ${pending.source}: ${decision.command.message}`,
        runner: deps.owner,
      });
    decisions.push(decision);
    status = decision.status;
  }
  const memberCommands = decisions.flatMap((decision) => decision.commands);
  for (const command of memberCommands) {
    await fence();
    await queue(deps, fleets, stored, command, now);
    history.push({
      at,
      kind: 'command',
      message: `${describeCommand(command.command)} sent to the member on ${command.cluster}`,
      runner: deps.owner,
    });
  }
  const events = decisions.flatMap((decision) => decision.events);
  history.push(...events.map((event) => transition(event, status.phase, at, deps.owner)));
  const wakeAt = decisions.at(-1)?.wakeAt ?? null;
  const saved = await fleets.savePass({
    stored,
    owner: deps.owner,
    status,
    dueAt: wakeAt,
    processed: commands,
    history,
    now,
  });
  if (!saved.ok) return 'conflict';
  await publish(deps, key, events, status.phase, at);
  if (wakeAt !== null) await deps.wakeups.schedule(key, wakeAt, now);
  return {
    outcome: { key, result: 'done', status: status as never, dueAt: wakeAt },
    told: memberCommands.map((command) => command.cluster),
  };
}

async function queue(
  deps: RunnerDeps,
  fleets: FleetRecords,
  stored: StoredFleet,
  { cluster, command, dedupeKey }: MemberCommand,
  now: number,
): Promise<void> {
  const member = { cluster, namespace: stored.key.namespace, name: stored.key.name };
  const queued = await fleets.enqueueMember(member, command, `fleet:${stored.key.name}`, now, dedupeKey);
  if (!queued.ok)
    throw new Error(`member on ${cluster}: ${queued.error} (rollouts apply of the fleet registers it)`);
}

function recordFleetError(
  deps: RunnerDeps,
  fleets: FleetRecords,
  stored: StoredFleet,
  message: string,
): Promise<Outcome> {
  return recordPassFailure(
    deps,
    { kind: 'fleet', key: stored.key, failures: stored.record.failures, message },
    (retryAt, now) => fleets.recordError({ stored, owner: deps.owner, message, retryAt, now }),
  );
}

function transition(event: FleetEvent, phase: string, at: string, runner: string): HistoryEntry {
  const wave = event.wave
    ? [`wave ${event.wave}${event.clusters ? ` (${event.clusters.join(', ')})` : ''}`]
    : [];
  return transitionEntry(event, wave, phase, at, runner);
}

export function describeFleetCommand(command: {
  kind: string;
  image?: string;
  cluster?: string;
  full?: boolean;
}): string {
  switch (command.kind) {
    case 'setImage':
      return `set image ${command.image}`;
    case 'promote':
      return `promote${command.full ? ' --full' : ''}${command.cluster ? ` --cluster ${command.cluster}` : ''}`;
    case 'promoteWave':
      return 'promote --wave';
    default:
      return command.kind;
  }
}
