/** functions/step-runner.ts invoked with the event shapes AWS delivers, on DynamoDB Local and the test cluster. */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { keyOf, type RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import type { Rollout } from '../../lib/core/model/rollout.js';
import { commandEvent, scheduledEvent, sqsEvent } from '../../lib/local/lambda-events.js';
import { lambdaContext, lambdaEnvironment } from './lambda-context.js';
import { createStore, demoRolloutIn, everyRoute, routeWeights } from './runner-harness.js';
import { applyDemo, createNamespace, waitForAvailable } from './sandbox.js';

const YELLOW = 'argoproj/rollouts-demo:yellow';
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/rollouts-wakeups';
const eventBridge = mockClient(EventBridgeClient);
const sqs = mockClient(SQSClient);
let store: RolloutStore;
let rollout: Rollout;
let handler: (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<any>;

beforeAll(async () => {
  const namespace = await createNamespace('handler');
  await applyDemo(namespace);
  await waitForAvailable(namespace, 'rollouts-demo-stable', 1);
  store = await createStore();
  rollout = demoRolloutIn(namespace);
  await store.apply(rollout, Date.now());
  lambdaEnvironment(store.tableName, {
    EVENT_BUS_NAME: 'rollouts',
    WAKEUP_QUEUE_URL: QUEUE_URL,
    CLUSTERS: JSON.stringify([
      { name: 'default', kubeconfig: { path: process.env.TEST_KUBECONFIG, context: 'runner' } },
    ]),
  });
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
  const module = await import('../../functions/step-runner.js');
  handler = (event, context) => module.handler(event, context);
});

describe('the step runner Lambda', () => {
  it('takes a command from the event bus, queues it and acts on it at once', async () => {
    const result = await handler(
      commandEvent({
        namespace: rollout.namespace,
        rollout: rollout.name,
        command: { kind: 'setImage', image: YELLOW },
      }),
      lambdaContext('step-runner'),
    );
    expect(result).toEqual({ due: 1 });
    const stored = await store.get(keyOf(rollout));
    expect(stored?.status).toMatchObject({ phase: 'Progressing', canaryImage: YELLOW, revision: 2 });
    const wakeup = sqs.commandCalls(SendMessageCommand).at(-1)?.args[0].input;
    expect(wakeup).toMatchObject({ QueueUrl: QUEUE_URL, DelaySeconds: 5 });
    expect(JSON.parse(wakeup?.MessageBody as string)).toEqual({ wake: keyOf(rollout), at: stored?.dueAt });
    expect(eventBridge.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0]).toMatchObject({
      EventBusName: 'rollouts',
      DetailType: 'Rollout Started',
    });
  });

  it('advances the Rollout on its SQS wake-up message', async () => {
    for (let i = 0; i < 40 && (await store.get(keyOf(rollout)))?.status.phase !== 'Paused'; i++) {
      const result = await handler(
        sqsEvent(JSON.stringify({ wake: keyOf(rollout) })),
        lambdaContext('step-runner'),
      );
      expect(result).toEqual({ batchItemFailures: [] });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect((await store.get(keyOf(rollout)))?.status).toMatchObject({ phase: 'Paused', weight: 5 });
    expect(await routeWeights(rollout)).toEqual(everyRoute(95, 5));
  });

  it('runs due Rollouts on the schedule', async () => {
    await store.enqueueCommand(keyOf(rollout), { kind: 'promoteFull' }, 'test', Date.now());
    for (let i = 0; i < 40 && (await store.get(keyOf(rollout)))?.status.phase !== 'Healthy'; i++) {
      await handler(scheduledEvent, lambdaContext('step-runner'));
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect((await store.get(keyOf(rollout)))?.status).toMatchObject({
      phase: 'Healthy',
      stableImage: YELLOW,
    });
  });

  it('rejects a malformed command without touching the store', async () => {
    const before = await store.get(keyOf(rollout));
    const result = await handler(
      commandEvent({ rollout: rollout.name, namespace: rollout.namespace, command: { kind: 'launch' } }),
      lambdaContext('step-runner'),
    );
    expect(result.ignored).toContain('bad Rollout Command detail: command.kind');
    expect(await store.get(keyOf(rollout))).toEqual(before);
  });

  it('ignores events it does not take', async () => {
    expect(await handler({ hello: 'world' }, lambdaContext('step-runner'))).toEqual({
      ignored: 'neither an EventBridge event nor an SQS batch',
    });
  });
});
