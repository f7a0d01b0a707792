/**
 * The DynamoDB store's conditions, on DynamoDB Local: what the in-memory store in the unit suite
 * mimics. Leases fence writes, and a repeated error is one record with a count. Every case runs
 * through both Documents adapters (the SDK's, and the plain-HTTP one local mode's CLI uses), so the
 * two cannot drift apart.
 */
import { beforeEach, describe, expect, it } from '@jest/globals';
import { ENQUEUE_CONFLICT_ATTEMPTS, keyOf, RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import type { RolloutKey, StoredRollout } from '../../lib/adapters/dynamodb/types.js';
import { createStore, demoRolloutIn, DOCUMENT_ADAPTERS } from './runner-harness.js';
import { allItems, type Documents, type Item } from '../../lib/adapters/dynamodb/documents.js';
import { rolloutPartition, SORT_KEYS } from '../../lib/adapters/dynamodb/table.js';

const T0 = Date.parse('2026-11-26T10:00:00Z');
const LEASE = 120_000;
let store: RolloutStore;
let key: RolloutKey;

async function lease(owner: string, now: number): Promise<StoredRollout> {
  const leased = await store.acquireLease(key, owner, now, now + LEASE);
  if (!leased.ok) throw new Error(`${owner} could not take the lease: ${leased.error}`);
  return leased.value;
}

describe.each(DOCUMENT_ADAPTERS)('the DynamoDB store through %s', (_adapter, documents) => {
  beforeEach(async () => {
    store = await createStore(documents);
    const rollout = demoRolloutIn('store');
    key = keyOf(rollout);
    await store.apply(rollout, T0);
  });

  it('tells a missing Rollout from one another runner holds', async () => {
    await lease('runner-a', T0);
    expect(await store.acquireLease(key, 'runner-b', T0 + 1, T0 + LEASE)).toEqual({
      ok: false,
      error: 'leased-elsewhere',
    });
    expect(await store.acquireLease({ ...key, name: 'nobody' }, 'runner-b', T0, T0 + LEASE)).toEqual({
      ok: false,
      error: 'not-found',
    });
  });

  it('renews a lease only for its holder: a runner whose lease was taken cannot renew, nor save', async () => {
    const stored = await lease('runner-a', T0);
    expect(await store.renewLease(key, 'runner-a', T0 + 2 * LEASE)).toBe(true);
    // Renewed: runner-b cannot take it once the first term is over.
    expect((await store.acquireLease(key, 'runner-b', T0 + LEASE + 1, T0 + 3 * LEASE)).ok).toBe(false);
    // Expired: runner-b takes it, and runner-a is fenced out.
    await lease('runner-b', T0 + 2 * LEASE + 1);
    expect(await store.renewLease(key, 'runner-a', T0 + 4 * LEASE)).toBe(false);
    const saved = await store.savePass({
      stored,
      owner: 'runner-a',
      status: { ...stored.status, message: 'late' },
      dueAt: null,
      processed: [],
      history: [],
      now: T0 + 2 * LEASE + 2,
    });
    expect(saved).toEqual({ ok: false, error: 'conflict' });
    expect((await store.get(key))?.status.message).toBeUndefined();
  });

  it('records an identical error once, with a count and the last time; another error starts afresh', async () => {
    const at = (ms: number) => new Date(ms).toISOString();
    let now = T0;
    for (let i = 0; i < 3; i++) {
      const stored = await lease('runner-a', now);
      await store.recordError({ stored, owner: 'runner-a', message: 'HTTP 500', retryAt: now + 10_000, now });
      now += 10_000;
    }
    let stored = await store.get(key);
    expect(stored?.lastError).toEqual({
      message: 'HTTP 500',
      count: 3,
      firstAt: at(T0),
      lastAt: at(T0 + 20_000),
    });
    expect(stored?.failures).toBe(3);
    expect(stored?.dueAt).toBe(T0 + 30_000);
    expect((await store.history(key)).filter((entry) => entry.kind === 'error')).toHaveLength(1);

    const leased = await lease('runner-a', now);
    await store.recordError({ stored: leased, owner: 'runner-a', message: 'HTTP 403', retryAt: now, now });
    stored = await store.get(key);
    expect(stored?.lastError).toEqual({ message: 'HTTP 403', count: 1, firstAt: at(now), lastAt: at(now) });
    expect(stored?.failures).toBe(4);
    expect((await store.history(key)).filter((entry) => entry.kind === 'error')).toHaveLength(2);
  });

  it('clears the error and the failure count when a pass saves', async () => {
    let stored = await lease('runner-a', T0);
    await store.recordError({ stored, owner: 'runner-a', message: 'HTTP 500', retryAt: T0, now: T0 });
    stored = await lease('runner-a', T0 + 1);
    const saved = await store.savePass({
      stored,
      owner: 'runner-a',
      status: stored.status,
      dueAt: T0 + 60_000,
      processed: [],
      history: [],
      now: T0 + 1,
    });
    expect(saved).toEqual({ ok: true, value: undefined });
    const after = await store.get(key);
    expect(after).not.toHaveProperty('lastError');
    expect(after).not.toHaveProperty('failures');
    expect(after?.dueAt).toBe(T0 + 60_000);
  });

  it('records nothing for a runner that lost its lease', async () => {
    const stored = await lease('runner-a', T0);
    await lease('runner-b', T0 + LEASE + 1);
    await store.recordError({
      stored,
      owner: 'runner-a',
      message: 'HTTP 500',
      retryAt: T0,
      now: T0 + LEASE + 2,
    });
    expect((await store.get(key))?.lastError).toBeUndefined();
  });

  it('applies, lists and reads back a Rollout as stored: a spec update bumps the version and is due at once', async () => {
    const [listed] = await store.list();
    expect(listed?.key).toEqual(key);
    expect(listed?.version).toBe(1);
    expect(listed?.dueAt).toBe(T0);
    expect(await store.get(key)).toEqual(listed);
    const updated = demoRolloutIn('store', (doc) => (doc.spec.replicas = 3));
    expect(await store.apply(updated, T0 + 5)).toEqual({ created: false, version: 2 });
    const stored = await store.get(key);
    expect(stored?.rollout).toEqual(updated);
    expect(stored?.dueAt).toBe(T0 + 5);
    expect(await store.get({ ...key, name: 'nobody' })).toBeUndefined();
    expect(await store.listFleetRecords()).toEqual([]);
    expect((await store.history(key)).map((entry) => entry.message)).toEqual(['registered', 'spec updated']);
  });

  it('queues a command once per de-duplication key, and refuses one for a Rollout that does not exist', async () => {
    const command = { kind: 'promote' as const, full: false };
    expect(await store.enqueueCommand(key, command, 'cli', T0 + 1, 'delivery-1')).toEqual({
      ok: true,
      value: { accepted: 'queued' },
    });
    expect(await store.enqueueCommand(key, command, 'cli', T0 + 2, ['other', 'delivery-1'])).toEqual({
      ok: true,
      value: { accepted: 'duplicate', reason: 'already received (delivery-1)' },
    });
    expect(await store.enqueueCommand({ ...key, name: 'nobody' }, command, 'cli', T0 + 3)).toEqual({
      ok: false,
      error: `rollout ${key.cluster}/${key.namespace}/nobody not found`,
    });
    const pending = await store.pendingCommands(key);
    expect(pending.map((queued) => [queued.command, queued.source])).toEqual([[command, 'cli']]);
    expect((await store.get(key))?.commandSeq).toBe(1);
  });

  it('finds Rollouts by trigger repository and by due time, and keeps templates by kind and name', async () => {
    const repository = (await store.get(key))?.rollout.trigger?.repository as string;
    expect((await store.findByRepository(repository)).map((found) => found.key)).toEqual([key]);
    expect(await store.findByRepository('registry.example/none')).toEqual([]);
    expect(await store.due(T0)).toEqual([key]);
    expect(await store.due(T0 - 1)).toEqual([]);
    const ref = { kind: 'AnalysisTemplate' as const, namespace: 'store', name: 'success-rate' };
    await store.applyTemplate(ref, { spec: { metrics: [] } }, T0);
    expect(await store.templates([ref, { ...ref, name: 'missing' }])).toEqual([
      { ref, document: { spec: { metrics: [] } } },
    ]);
  });

  it('pages through a query: each page says where the next starts, and the last says nothing', async () => {
    await store.apply(
      demoRolloutIn('store', (doc) => (doc.spec.replicas = 2)),
      T0 + 1,
    );
    await store.apply(
      demoRolloutIn('store', (doc) => (doc.spec.replicas = 3)),
      T0 + 2,
    );
    const read = (start: Item | undefined) =>
      store.documents.query({
        TableName: store.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: {
          ':pk': rolloutPartition(key.cluster, key.namespace, key.name),
          ':prefix': SORT_KEYS.historyPrefix,
        },
        Limit: 1,
        ...(start ? { ExclusiveStartKey: start } : {}),
      });
    const first = await read(undefined);
    expect(first.items).toHaveLength(1);
    expect(first.next).toEqual({ pk: first.items[0]?.pk, sk: first.items[0]?.sk });
    const all = await allItems(read);
    expect(all.map((item) => item.message)).toEqual(['registered', 'spec updated', 'spec updated']);
  });

  describe('a transaction race on the Rollout (real DynamoDB cancels one of two concurrent transactions)', () => {
    /** DynamoDB Local serialises transactions, so the race is played at the port: the same store, its first `conflicts` transactions cancelled as DynamoDB cancels them. */
    const racing = (conflicts: number) => {
      let cancelled = 0;
      const racy: Documents = {
        ...store.documents,
        transactWrite: async (items) => {
          if (cancelled++ < conflicts)
            throw Object.assign(new Error('Transaction cancelled'), {
              name: 'TransactionCanceledException',
              CancellationReasons: items.map((_, index) => ({
                Code: index === 0 ? 'TransactionConflict' : 'None',
              })),
            });
          return store.documents.transactWrite(items);
        },
      };
      return new RolloutStore(racy, store.tableName);
    };
    const command = { kind: 'promote' as const, full: false };

    it('queues the command once the race is over, instead of losing a push no registry redelivers', async () => {
      const raced = racing(ENQUEUE_CONFLICT_ATTEMPTS - 1);
      expect(await raced.enqueueCommand(key, command, 'webhook', T0 + 1, 'delivery-1')).toEqual({
        ok: true,
        value: { accepted: 'queued' },
      });
      expect((await store.pendingCommands(key)).map((queued) => queued.command)).toEqual([command]);
    });

    it('gives up after a bounded number of attempts, writing nothing, so the sender is told to retry', async () => {
      const raced = racing(ENQUEUE_CONFLICT_ATTEMPTS);
      await expect(raced.enqueueCommand(key, command, 'webhook', T0 + 1, 'delivery-1')).rejects.toThrow(
        'Transaction cancelled',
      );
      expect(await store.pendingCommands(key)).toEqual([]);
    });
  });
});
