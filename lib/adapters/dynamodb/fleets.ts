/**
 * Fleet records in the Rollouts' table. A fleet is kept exactly as a Rollout is, under the reserved
 * cluster FLEET_CLUSTER: the same conditional writes, lease, command queue, push de-duplication and
 * history, so everything proven of Rollouts' records holds for fleets. Its members are ordinary
 * Rollouts, one per cluster, under the fleet's namespace and name.
 */
import { initialFleetStatus } from '../../core/fleet/decide.js';
import type { FleetCommand, FleetStatus, MemberStatuses } from '../../core/fleet/types.js';
import type { Command } from '../../core/engine/types.js';
import { fleetKey, memberRollout, type Fleet } from '../../core/model/fleet.js';
import { err, ok, type Result } from '../../core/result.js';
import type {
  FleetErrorInput,
  FleetRecords,
  FleetSaveInput,
  StoredFleet,
  StoredFleetCommand,
} from '../../app/runner/ports.js';
import type { CommandResult, HistoryEntry, RolloutKey, StoredRollout } from './types.js';
import type { RolloutStore } from './repository.js';

export function toStoredFleet(record: StoredRollout): StoredFleet {
  return {
    key: record.key,
    fleet: record.rollout as unknown as Fleet,
    status: record.status as unknown as FleetStatus,
    record,
  };
}

export class FleetStore implements FleetRecords {
  constructor(readonly rollouts: RolloutStore) {}

  /**
   * Registers or updates the fleet and each member (a member's status is kept; a new member starts
   * Healthy and is observed at once). Clusters dropped from the fleet keep their Rollout.
   */
  async apply(fleet: Fleet, now: number): Promise<{ created: boolean; members: string[] }> {
    const { created } = await this.rollouts.applyRecord(
      fleetKey(fleet),
      fleet,
      fleet.trigger?.repository,
      initialFleetStatus(),
      now,
    );
    for (const cluster of fleet.clusters) await this.rollouts.apply(memberRollout(fleet, cluster), now);
    return { created, members: fleet.clusters };
  }

  async get(key: { namespace: string; name: string }): Promise<StoredFleet | undefined> {
    const record = await this.rollouts.get(fleetKey(key));
    return record && toStoredFleet(record);
  }

  async list(): Promise<StoredFleet[]> {
    return (await this.rollouts.listFleetRecords()).map(toStoredFleet);
  }

  /** Each member's stored record, by cluster (absent when not registered). */
  async memberRecords(fleet: Fleet): Promise<Record<string, StoredRollout | undefined>> {
    const records = await Promise.all(
      fleet.clusters.map((cluster) =>
        this.rollouts.get({ cluster, namespace: fleet.namespace, name: fleet.name }),
      ),
    );
    return Object.fromEntries(fleet.clusters.map((cluster, index) => [cluster, records[index]]));
  }

  async members(fleet: Fleet): Promise<MemberStatuses> {
    const records = await this.memberRecords(fleet);
    return Object.fromEntries(Object.entries(records).map(([cluster, record]) => [cluster, record?.status]));
  }

  async acquireLease(
    key: RolloutKey,
    owner: string,
    now: number,
    until: number,
  ): Promise<Result<StoredFleet, 'not-found' | 'leased-elsewhere'>> {
    const leased = await this.rollouts.acquireLease(key, owner, now, until);
    return leased.ok ? ok(toStoredFleet(leased.value)) : err(leased.error);
  }

  renewLease(key: RolloutKey, owner: string, until: number): Promise<boolean> {
    return this.rollouts.renewLease(key, owner, until);
  }

  async pendingCommands(key: RolloutKey): Promise<StoredFleetCommand[]> {
    return (await this.rollouts.pendingCommands(key)).map((stored) => ({
      ...stored,
      command: stored.command as unknown as FleetCommand,
    }));
  }

  enqueueFleetCommand(
    key: RolloutKey,
    command: FleetCommand,
    source: string,
    now: number,
  ): Promise<CommandResult> {
    return this.rollouts.enqueueCommand(key, command as unknown as Command, source, now);
  }

  enqueueMember(
    key: RolloutKey,
    command: Command,
    source: string,
    now: number,
    dedupeKey: string,
  ): Promise<CommandResult> {
    return this.rollouts.enqueueCommand(key, command, source, now, dedupeKey);
  }

  savePass(input: FleetSaveInput): Promise<Result<void, 'conflict'>> {
    const { stored, status, processed, ...rest } = input;
    return this.rollouts.savePass({
      ...rest,
      stored: stored.record,
      status: status as never,
      processed: processed.map((command) => ({ ...command, command: command.command as unknown as Command })),
    });
  }

  recordError(input: FleetErrorInput): Promise<void> {
    return this.rollouts.recordError({ ...input, stored: input.stored.record });
  }

  history(key: { namespace: string; name: string }): Promise<HistoryEntry[]> {
    return this.rollouts.history(fleetKey(key));
  }
}
