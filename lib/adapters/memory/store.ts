/**
 * The runner's store in memory, with the DynamoDB store's conditions (lease, version, command
 * sequence): fast unit tests of the runner's own logic run on it. Every read returns a copy, as a
 * database would, so a test cannot pass because two parts shared an object.
 */
import { err, ok, type Result } from '../../core/result.js';
import { initialStatus } from '../../core/engine/status.js';
import type { Command } from '../../core/engine/types.js';
import type { Rollout } from '../../core/model/rollout.js';
import {
  formatKey,
  nextError,
  type CommandResult,
  type ErrorInput,
  type HistoryEntry,
  type RolloutKey,
  type RunnerStore,
  type SaveInput,
  templateKey,
  type StoredCommand,
  type StoredRollout,
  type StoredTemplate,
} from '../../app/runner/ports.js';
import type { TemplateRef } from '../../core/engine/analysis.js';

interface Item {
  stored: StoredRollout;
  leaseOwner?: string;
  leaseUntil?: number;
  commands: StoredCommand[];
  history: HistoryEntry[];
}

/** Every call the runner made, in order, for tests that assert what happened when. */
export type StoreCall = { method: keyof RunnerStore; key?: string; owner?: string };

export class MemoryStore implements RunnerStore {
  private readonly items = new Map<string, Item>();
  private readonly storedTemplates = new Map<string, StoredTemplate>();
  private sequence = 0;
  readonly calls: StoreCall[] = [];

  /** Registers a Rollout as `rollouts apply` does: Healthy at revision 1, due now. */
  register(rollout: Rollout, now: number): RolloutKey {
    const key = { cluster: rollout.cluster, namespace: rollout.namespace, name: rollout.name };
    this.items.set(formatKey(key), {
      stored: {
        key,
        rollout: structuredClone(rollout),
        status: initialStatus(),
        version: 1,
        commandSeq: 0,
        dueAt: now,
        updatedAt: new Date(now).toISOString(),
      },
      commands: [],
      history: [],
    });
    return key;
  }

  /** Stores an AnalysisTemplate or ClusterAnalysisTemplate document as `rollouts apply` does. */
  putTemplate(ref: TemplateRef, document: unknown): void {
    const { kind, name, namespace } = ref;
    const key = { kind, name, ...(namespace === undefined ? {} : { namespace }) };
    this.storedTemplates.set(templateKey(key), { ref: key, document: structuredClone(document) });
  }

  async templates(refs: TemplateRef[]): Promise<StoredTemplate[]> {
    this.calls.push({ method: 'templates' });
    return refs.flatMap((ref) => {
      const found = this.storedTemplates.get(templateKey(ref));
      return found ? [structuredClone(found)] : [];
    });
  }

  get(key: RolloutKey): StoredRollout | undefined {
    const item = this.items.get(formatKey(key));
    return item && structuredClone(item.stored);
  }

  history(key: RolloutKey): HistoryEntry[] {
    return structuredClone(this.item(key)?.history ?? []);
  }

  leaseOf(key: RolloutKey): { owner?: string; until?: number } {
    const item = this.item(key);
    return {
      ...(item?.leaseOwner ? { owner: item.leaseOwner } : {}),
      ...(item?.leaseUntil ? { until: item.leaseUntil } : {}),
    };
  }

  async due(now: number): Promise<RolloutKey[]> {
    this.calls.push({ method: 'due' });
    return [...this.items.values()]
      .filter((item) => item.stored.dueAt !== undefined && item.stored.dueAt <= now)
      .sort((a, b) => (a.stored.dueAt ?? 0) - (b.stored.dueAt ?? 0))
      .map((item) => ({ ...item.stored.key }));
  }

  async acquireLease(
    key: RolloutKey,
    owner: string,
    now: number,
    until: number,
  ): Promise<Result<StoredRollout, 'not-found' | 'leased-elsewhere'>> {
    this.calls.push({ method: 'acquireLease', key: formatKey(key), owner });
    const item = this.item(key);
    if (!item) return err('not-found');
    if (item.leaseUntil !== undefined && item.leaseUntil >= now && item.leaseOwner !== owner)
      return err('leased-elsewhere');
    item.leaseOwner = owner;
    item.leaseUntil = until;
    return ok(structuredClone(item.stored));
  }

  async renewLease(key: RolloutKey, owner: string, until: number): Promise<boolean> {
    this.calls.push({ method: 'renewLease', key: formatKey(key), owner });
    const item = this.item(key);
    if (!item || item.leaseOwner !== owner) return false;
    item.leaseUntil = until;
    return true;
  }

  async pendingCommands(key: RolloutKey): Promise<StoredCommand[]> {
    this.calls.push({ method: 'pendingCommands', key: formatKey(key) });
    return structuredClone(this.item(key)?.commands ?? []);
  }

  async enqueueCommand(
    key: RolloutKey,
    command: Command,
    source: string,
    now: number,
  ): Promise<CommandResult> {
    this.calls.push({ method: 'enqueueCommand', key: formatKey(key) });
    const item = this.item(key);
    if (!item) return { ok: false, error: `rollout ${formatKey(key)} not found` };
    const at = new Date(now).toISOString();
    item.commands.push({
      sortKey: `CMD#${at}#${String(++this.sequence).padStart(8, '0')}`,
      command: structuredClone(command),
      source,
      receivedAt: at,
    });
    item.stored.commandSeq += 1;
    item.stored.dueAt = now;
    return { ok: true, value: { accepted: 'queued' } };
  }

  async savePass(input: SaveInput): Promise<Result<void, 'conflict'>> {
    const { stored, owner, status, dueAt, processed, history, now } = input;
    this.calls.push({ method: 'savePass', key: formatKey(stored.key), owner });
    const item = this.item(stored.key);
    if (
      !item ||
      item.stored.version !== stored.version ||
      item.stored.commandSeq !== stored.commandSeq ||
      item.leaseOwner !== owner
    )
      return err('conflict');
    const { lastError: _error, failures: _failures, dueAt: _due, ...rest } = item.stored;
    item.stored = {
      ...rest,
      status: structuredClone(status),
      version: item.stored.version + 1,
      updatedAt: new Date(now).toISOString(),
      ...(dueAt === null ? {} : { dueAt }),
    };
    delete item.leaseOwner;
    delete item.leaseUntil;
    const done = new Set(processed.map((command) => command.sortKey));
    item.commands = item.commands.filter((command) => !done.has(command.sortKey));
    item.history.push(...structuredClone(history));
    return ok(undefined);
  }

  async recordError(input: ErrorInput): Promise<void> {
    const { stored, owner, message, retryAt, now } = input;
    this.calls.push({ method: 'recordError', key: formatKey(stored.key), owner });
    const item = this.item(stored.key);
    if (!item || item.leaseOwner !== owner) return;
    const at = new Date(now).toISOString();
    const lastError = nextError(stored.lastError, message, at);
    item.stored = {
      ...item.stored,
      lastError,
      failures: (stored.failures ?? 0) + 1,
      dueAt: retryAt,
      updatedAt: at,
    };
    delete item.leaseOwner;
    delete item.leaseUntil;
    if (lastError.count === 1) item.history.push({ at, kind: 'error', message, runner: owner });
  }

  private item(key: RolloutKey): Item | undefined {
    return this.items.get(formatKey(key));
  }
}
