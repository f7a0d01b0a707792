/**
 * DynamoDB repository for Rollouts: conditional writes only, so concurrent runners, CLIs and
 * webhooks never overwrite each other. No decisions are made here.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { initialStatus } from '../../core/engine/status.js';
import { canonicalRepository } from '../../core/model/images.js';
import { FLEET_CLUSTER } from '../../core/model/fleet.js';
import type { Command, RolloutStatus } from '../../core/engine/types.js';
import type { Rollout } from '../../core/model/rollout.js';
import { DUE_SHARD, rolloutPartition, SORT_KEYS, TABLE, templatePartition } from './table.js';
import {
  formatKey,
  nextError,
  type ErrorInput,
  type RunnerStore,
  type SaveInput,
  templateKey,
  type StoredTemplate,
} from '../../app/runner/ports.js';
import type { TemplateRef } from '../../core/engine/analysis.js';
import { err, ok, type Result } from '../../core/result.js';
import type {
  CommandResult,
  HistoryEntry,
  RecordedError,
  RolloutKey,
  StoredCommand,
  StoredRollout,
} from './types.js';
import { buildUpdate, conditionalUpdate, increment } from './update-expression.js';
import {
  allItems,
  cancellationCodes,
  isConditionFailed,
  type Documents,
  type TransactItem,
} from './documents.js';

const HISTORY_TTL_DAYS = 90;
/** A queued command that loses a transaction race is tried this many times in all, backing off. */
export const ENQUEUE_CONFLICT_ATTEMPTS = 4;
const ENQUEUE_CONFLICT_BACKOFF_MS = 25;
const DEDUPE_TTL_DAYS = 30;

export function keyOf(rollout: Pick<Rollout, 'cluster' | 'namespace' | 'name'>): RolloutKey {
  return { cluster: rollout.cluster, namespace: rollout.namespace, name: rollout.name };
}

export { formatKey };

/** Triggers are indexed by canonical `registry/repository`, the form pushes arrive in. */
export function normaliseRepository(repository: string): string {
  const { registry, repository: path } = canonicalRepository(repository);
  return `${registry}/${path}`;
}

export type { SaveInput };

export class RolloutStore implements RunnerStore {
  /** `documents`: the SDK's (`sdkDocuments`) anywhere, or DynamoDB Local's own (`localDocuments`). */
  constructor(
    readonly documents: Documents,
    readonly tableName: string,
  ) {}

  /** Registers or updates a Rollout's spec; its status is kept. Nothing else changes when the write loses a race. */
  async apply(rollout: Rollout, now: number): Promise<{ created: boolean; version: number }> {
    return this.applyRecord(keyOf(rollout), rollout, rollout.trigger?.repository, initialStatus(), now);
  }

  /**
   * The item behind `apply`, for any record kept like a Rollout (a fleet is one, under its own key):
   * `record` is stored as the spec, `initial` as the status of a new item, `repository` indexed for pushes.
   */
  async applyRecord(
    key: RolloutKey,
    record: unknown,
    repository: string | undefined,
    initial: unknown,
    now: number,
  ): Promise<{ created: boolean; version: number }> {
    const existing = await this.get(key);
    const at = new Date(now).toISOString();
    const trigger = repository ? { triggerRepository: normaliseRepository(repository) } : {};
    const history = this.historyItem(
      key,
      { at, kind: 'applied', message: existing ? 'spec updated' : 'registered' },
      now,
    );
    if (!existing) {
      await this.documents.transactWrite([
        {
          Put: {
            TableName: this.tableName,
            Item: {
              pk: rolloutPartition(key.cluster, key.namespace, key.name),
              sk: SORT_KEYS.state,
              ...key,
              rollout: record,
              status: initial,
              version: 1,
              commandSeq: 0,
              updatedAt: at,
              // Due now: the runner checks the references and observes the stable image at once.
              dueShard: DUE_SHARD,
              dueAt: now,
              ...trigger,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        history,
      ]);
      return { created: true, version: 1 };
    }
    await this.documents.transactWrite([
      {
        Update: {
          TableName: this.tableName,
          Key: this.stateKey(key),
          // Due now: the runner re-validates the references and re-asserts the weights.
          ...conditionalUpdate(
            {
              set: {
                rollout: record,
                version: increment(),
                updatedAt: at,
                dueShard: DUE_SHARD,
                dueAt: now,
                ...trigger,
              },
              remove: repository ? [] : ['triggerRepository'],
            },
            { expression: 'version = :version', values: { ':version': existing.version } },
          ),
        },
      },
      history,
    ]);
    return { created: false, version: existing.version + 1 };
  }

  /**
   * Stores an AnalysisTemplate or ClusterAnalysisTemplate document (validated by the caller) under
   * its kind, namespace and name; the last apply wins. Runs already started keep their frozen copy.
   */
  async applyTemplate(ref: TemplateRef, document: unknown, now: number): Promise<void> {
    await this.documents.update({
      TableName: this.tableName,
      Key: this.templateItemKey(ref),
      ...buildUpdate({
        set: {
          kind: ref.kind,
          name: ref.name,
          ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
          document,
          updatedAt: new Date(now).toISOString(),
        },
      }),
    });
  }

  async templates(refs: TemplateRef[]): Promise<StoredTemplate[]> {
    const found = await Promise.all(
      refs.map(async (ref) => {
        const Item = await this.documents.get({
          TableName: this.tableName,
          Key: this.templateItemKey(ref),
          ConsistentRead: true,
        });
        return Item ? [{ ref, document: Item.document as unknown }] : [];
      }),
    );
    return found.flat();
  }

  async get(key: RolloutKey): Promise<StoredRollout | undefined> {
    const Item = await this.documents.get({
      TableName: this.tableName,
      Key: this.stateKey(key),
      ConsistentRead: true,
    });
    return Item ? toStored(Item) : undefined;
  }

  /** Every Rollout (fleet records, kept under FLEET_CLUSTER, are listed by listFleetRecords). */
  async list(): Promise<StoredRollout[]> {
    return (await this.scanStates()).filter((item) => item.key.cluster !== FLEET_CLUSTER);
  }

  async listFleetRecords(): Promise<StoredRollout[]> {
    return (await this.scanStates()).filter((item) => item.key.cluster === FLEET_CLUSTER);
  }

  private async scanStates(): Promise<StoredRollout[]> {
    const items = await allItems((start) =>
      this.documents.scan({
        TableName: this.tableName,
        FilterExpression: 'sk = :state',
        ExpressionAttributeValues: { ':state': SORT_KEYS.state },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    return items.map(toStored).sort((a, b) => formatKey(a.key).localeCompare(formatKey(b.key)));
  }

  async findByRepository(repository: string): Promise<StoredRollout[]> {
    const indexed = await allItems((start) =>
      this.documents.query({
        TableName: this.tableName,
        IndexName: TABLE.repositoryIndex.name,
        KeyConditionExpression: 'triggerRepository = :repo',
        ExpressionAttributeValues: { ':repo': normaliseRepository(repository) },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    const found = await Promise.all(indexed.map((item) => this.getByPartition(item.pk as string)));
    return found.filter((item): item is StoredRollout => item !== undefined);
  }

  /** Partition keys of the Rollouts due at `now`, earliest first: only they are read. */
  async due(now: number, limit = 500): Promise<RolloutKey[]> {
    const { items } = await this.documents.query({
      TableName: this.tableName,
      IndexName: TABLE.dueIndex.name,
      KeyConditionExpression: 'dueShard = :due AND dueAt <= :now',
      ExpressionAttributeValues: { ':due': DUE_SHARD, ':now': now },
      Limit: limit,
    });
    return items.map((item) => parsePartition(item.pk as string));
  }

  /** Takes the Rollout for `owner` until `until`, unless another runner holds it; returns its state. */
  async acquireLease(
    key: RolloutKey,
    owner: string,
    now: number,
    until: number,
  ): Promise<Result<StoredRollout, 'not-found' | 'leased-elsewhere'>> {
    try {
      const Attributes = await this.documents.update({
        TableName: this.tableName,
        Key: this.stateKey(key),
        ...conditionalUpdate(
          { set: { leaseOwner: owner, leaseUntil: until } },
          {
            expression:
              'attribute_exists(pk) AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now OR leaseOwner = :owner)',
            values: { ':owner': owner, ':now': now },
          },
        ),
        ReturnValues: 'ALL_NEW',
      });
      return Attributes ? ok(toStored(Attributes)) : err('not-found');
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      // Only the losing path reads again, to tell a missing Rollout from a held one.
      return (await this.get(key)) ? err('leased-elsewhere') : err('not-found');
    }
  }

  /** Extends the lease only while `owner` holds it: a runner that lost it must not write on. */
  async renewLease(key: RolloutKey, owner: string, until: number): Promise<boolean> {
    try {
      await this.documents.update({
        TableName: this.tableName,
        Key: this.stateKey(key),
        ...conditionalUpdate(
          { set: { leaseUntil: until } },
          { expression: 'leaseOwner = :owner', values: { ':owner': owner } },
        ),
      });
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async pendingCommands(key: RolloutKey, limit = 20): Promise<StoredCommand[]> {
    const { items } = await this.documents.query({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': this.partition(key), ':prefix': SORT_KEYS.commandPrefix },
      ConsistentRead: true,
      Limit: limit,
    });
    return items.map((item) => ({
      sortKey: item.sk as string,
      command: item.command as Command,
      source: item.source as string,
      receivedAt: item.receivedAt as string,
    }));
  }

  /**
   * Queues a command and makes the Rollout due now, atomically. With `dedupeKey`, the same key
   * queues one command ever (a webhook delivery id, an image digest).
   */
  async enqueueCommand(
    key: RolloutKey,
    command: Command,
    source: string,
    now: number,
    /** Each key is recorded; any one recorded before makes the command a duplicate. */
    dedupeKeys: string | readonly string[] = [],
  ): Promise<CommandResult> {
    const keys = typeof dedupeKeys === 'string' ? [dedupeKeys] : dedupeKeys;
    const at = new Date(now).toISOString();
    const items: TransactItem[] = [
      {
        Update: {
          TableName: this.tableName,
          Key: this.stateKey(key),
          ...conditionalUpdate(
            { set: { dueShard: DUE_SHARD, dueAt: now }, add: { commandSeq: 1 } },
            { expression: 'attribute_exists(pk)' },
          ),
        },
      },
      {
        Put: {
          TableName: this.tableName,
          Item: {
            pk: this.partition(key),
            sk: `${SORT_KEYS.commandPrefix}${at}#${randomUUID()}`,
            command,
            source,
            receivedAt: at,
          },
        },
      },
    ];
    for (const dedupeKey of keys) {
      items.push({
        Put: {
          TableName: this.tableName,
          Item: {
            pk: this.partition(key),
            sk: `${SORT_KEYS.dedupePrefix}${dedupeKey}`,
            at,
            source,
            expiresAt: ttl(now, DEDUPE_TTL_DAYS),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.documents.transactWrite(items);
        return { ok: true, value: { accepted: 'queued' } };
      } catch (error) {
        const codes = cancellationCodes(error);
        if (!codes) throw error;
        if (codes[0] === 'ConditionalCheckFailed')
          return { ok: false, error: `rollout ${formatKey(key)} not found` };
        const seen = keys.find((_, index) => codes[2 + index] === 'ConditionalCheckFailed');
        if (seen !== undefined)
          return { ok: true, value: { accepted: 'duplicate', reason: `already received (${seen})` } };
        // Another transaction on the Rollout's item (a second push, a runner's save) won the race;
        // nothing was written, so the same items go again: a registry that does not redeliver
        // would otherwise lose the push.
        if (!codes.includes('TransactionConflict') || attempt >= ENQUEUE_CONFLICT_ATTEMPTS) throw error;
        await sleep(ENQUEUE_CONFLICT_BACKOFF_MS * attempt * (1 + Math.random()));
      }
    }
  }

  /**
   * Saves a pass: status, next due time, consumed commands and history, atomically, only if no
   * one else wrote the Rollout, no command arrived since it was read and `owner` still holds the
   * lease. Clears the last error and releases the lease.
   */
  async savePass(input: SaveInput): Promise<Result<void, 'conflict'>> {
    const { stored, owner, status, dueAt, processed, history, now } = input;
    const due = dueAt === null ? {} : { dueShard: DUE_SHARD, dueAt };
    const items: TransactItem[] = [
      {
        Update: {
          TableName: this.tableName,
          Key: this.stateKey(stored.key),
          ...conditionalUpdate(
            {
              set: { status, version: increment(), updatedAt: new Date(now).toISOString(), ...due },
              remove: [
                ...(dueAt === null ? ['dueShard', 'dueAt'] : []),
                'leaseOwner',
                'leaseUntil',
                'lastError',
                'failures',
              ],
            },
            {
              expression: 'version = :version AND commandSeq = :seq AND leaseOwner = :owner',
              values: { ':version': stored.version, ':seq': stored.commandSeq, ':owner': owner },
            },
          ),
        },
      },
      ...processed.map((command) => ({
        Delete: { TableName: this.tableName, Key: { pk: this.partition(stored.key), sk: command.sortKey } },
      })),
      ...history.map((entry, index) => this.historyItem(stored.key, entry, now, index)),
    ];
    try {
      await this.documents.transactWrite(items);
      return ok(undefined);
    } catch (caught) {
      if (cancellationCodes(caught)?.[0] === 'ConditionalCheckFailed') return err('conflict');
      throw caught;
    }
  }

  /**
   * A pass that could not act: keep the status, say why, try again at `retryAt`. The same error
   * again only counts up and moves its last time; a new error starts a count and a history item.
   */
  async recordError(input: ErrorInput): Promise<void> {
    const { stored, owner, message, retryAt, now } = input;
    const at = new Date(now).toISOString();
    const lastError = nextError(stored.lastError, message, at);
    const items: TransactItem[] = [
      {
        Update: {
          TableName: this.tableName,
          Key: this.stateKey(stored.key),
          ...conditionalUpdate(
            {
              set: {
                lastError,
                failures: (stored.failures ?? 0) + 1,
                dueShard: DUE_SHARD,
                dueAt: retryAt,
                updatedAt: at,
              },
              remove: ['leaseOwner', 'leaseUntil'],
            },
            { expression: 'leaseOwner = :owner', values: { ':owner': owner } },
          ),
        },
      },
    ];
    if (lastError.count === 1)
      items.push(this.historyItem(stored.key, { at, kind: 'error', message, runner: owner }, now));
    try {
      await this.documents.transactWrite(items);
    } catch (error) {
      // The lease went to another runner: its pass decides what is recorded.
      if (!cancellationCodes(error)) throw error;
    }
  }

  async history(key: RolloutKey): Promise<HistoryEntry[]> {
    const items = await allItems((start) =>
      this.documents.query({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': this.partition(key), ':prefix': SORT_KEYS.historyPrefix },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    return items.map(
      ({ pk: _pk, sk: _sk, expiresAt: _expires, ...entry }) => entry as unknown as HistoryEntry,
    );
  }

  private async getByPartition(pk: string): Promise<StoredRollout | undefined> {
    return this.get(parsePartition(pk));
  }

  private partition(key: RolloutKey): string {
    return rolloutPartition(key.cluster, key.namespace, key.name);
  }

  private templateItemKey(ref: TemplateRef) {
    return { pk: templatePartition(templateKey(ref)), sk: SORT_KEYS.template };
  }

  private stateKey(key: RolloutKey) {
    return { pk: this.partition(key), sk: SORT_KEYS.state };
  }

  private historyItem(key: RolloutKey, entry: HistoryEntry, now: number, index = 0): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          pk: this.partition(key),
          sk: `${SORT_KEYS.historyPrefix}${entry.at}#${String(index).padStart(3, '0')}#${randomUUID().slice(0, 8)}`,
          ...entry,
          expiresAt: ttl(now, HISTORY_TTL_DAYS),
        },
      },
    };
  }
}

function ttl(now: number, days: number): number {
  return Math.floor(now / 1000) + days * 86_400;
}

function parsePartition(pk: string): RolloutKey {
  const [cluster = '', namespace = '', name = ''] = pk.slice('ROLLOUT#'.length).split('/');
  return { cluster, namespace, name };
}

function toStored(item: Record<string, unknown>): StoredRollout {
  return {
    key: { cluster: item.cluster as string, namespace: item.namespace as string, name: item.name as string },
    rollout: item.rollout as Rollout,
    status: item.status as RolloutStatus,
    version: item.version as number,
    commandSeq: (item.commandSeq as number | undefined) ?? 0,
    ...(item.dueAt === undefined ? {} : { dueAt: item.dueAt as number }),
    ...(item.lastError === undefined ? {} : { lastError: toRecordedError(item.lastError, item.updatedAt) }),
    ...(item.failures === undefined ? {} : { failures: item.failures as number }),
    updatedAt: item.updatedAt as string,
  };
}

/** Items written before errors were counted hold the message alone. */
function toRecordedError(value: unknown, updatedAt: unknown): RecordedError {
  if (typeof value !== 'string') return value as RecordedError;
  const at = String(updatedAt);
  return { message: value, count: 1, firstAt: at, lastAt: at };
}
