/**
 * Local mode's runner is event-driven: it reads DynamoDB when something happens (a nudge, a
 * wake-up at a stored instant), never on a timer. Requests are counted at the DynamoDB client.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { keyOf, RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import type { RolloutKey } from '../../lib/adapters/dynamodb/types.js';
import { startRunnerLoop, type RunnerLoop } from '../../lib/local/mode.js';
import { sendNudge, serveNudges } from '../../lib/local/nudges.js';
import { clusters, createStore, demoRolloutIn, dynamoClient } from './runner-harness.js';
import { applyDemo, createNamespace } from './sandbox.js';
import { sdkDocuments } from '../../lib/adapters/dynamodb/sdk-documents.js';

describe('an idle local mode', () => {
  let loop: RunnerLoop | undefined;
  afterAll(async () => {
    await loop?.stop();
    jest.useRealTimers();
  });

  it('makes no DynamoDB request in a minute, and wakes at a stored instant', async () => {
    const namespace = await createNamespace('idle');
    await applyDemo(namespace);
    const client = dynamoClient();
    const commands: string[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        commands.push(context.commandName ?? 'unknown');
        return next(args);
      },
      { step: 'initialize', name: 'countRequests' },
    );
    const { tableName } = await createStore();
    const store = new RolloutStore(sdkDocuments(client), tableName);
    const rollout = demoRolloutIn(namespace);
    await store.apply(rollout, Date.now());

    // Timers are fake from here (I/O stays real): an interval, however short, would fire in the minute.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'], now: Date.now() });
    loop = startRunnerLoop(store, clusters());
    await loop.settled();
    // The catch-up pass at start found the applied Rollout due and checked it: Healthy, nothing due.
    expect(commands).toContain('QueryCommand');
    expect((await store.get(keyOf(rollout)))?.status).toMatchObject({
      phase: 'Healthy',
      stableImage: 'argoproj/rollouts-demo:blue',
    });
    expect((await store.get(keyOf(rollout)))?.dueAt).toBeUndefined();

    commands.length = 0;
    await jest.advanceTimersByTimeAsync(60_000);
    await loop.settled();
    expect(commands).toEqual([]);

    // The fake clock does drive the loop's timers: a wake-up stored for 30 s later runs a pass then.
    const now = Date.now();
    await loop.deps.wakeups.schedule(keyOf(rollout), now + 30_000, now);
    await jest.advanceTimersByTimeAsync(29_000);
    await loop.settled();
    expect(commands).toEqual([]);
    await jest.advanceTimersByTimeAsync(1_000);
    await loop.settled();
    // One pass: the lease, the pending commands, the save.
    expect(commands).toEqual(['UpdateItemCommand', 'QueryCommand', 'TransactWriteItemsCommand']);
  });
});

describe('nudges from the CLI', () => {
  let server: Server;
  const received: RolloutKey[] = [];
  let url: string;
  beforeAll(async () => {
    server = await serveNudges(0, (key) => received.push(key));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reach the runner with the rollout key, and anything else is refused with the reason', async () => {
    await sendNudge(url, { cluster: 'default', namespace: 'team-a', name: 'web' });
    expect(received).toEqual([{ cluster: 'default', namespace: 'team-a', name: 'web' }]);

    const notJson = await fetch(`${url}/nudge`, { method: 'POST', body: 'web' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({
      message: 'the body must be JSON: {"cluster","namespace","name"}',
    });
    const noName = await fetch(`${url}/nudge`, { method: 'POST', body: '{"namespace":"a"}' });
    expect(noName.status).toBe(400);
    expect((await fetch(`${url}/other`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect(received).toHaveLength(1);
  });
});
