/** functions/step-runner.ts invoked with the event shapes AWS delivers, on DynamoDB Local and the test cluster. */
import { afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { keyOf, type RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import type { Rollout } from '../../lib/core/model/rollout.js';
import { commandEvent, scheduledEvent, sqsEvent } from '../../lib/local/lambda-events.js';
import { lambdaContext, lambdaEnvironment } from './lambda-context.js';
import { createStore, demoRolloutIn, everyRoute, routeWeights } from './runner-harness.js';
import { applyDemo, createNamespace, testClusterTarget, waitForAvailable } from './sandbox.js';

const YELLOW = 'argoproj/rollouts-demo:yellow';
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/rollouts-wakeups';
const eventBridge = mockClient(EventBridgeClient);
const sqs = mockClient(SQSClient);
let store: RolloutStore;
let rollout: Rollout;
let handler: (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<any>;

/** What Powertools wrote during a test: log lines and EMF metric documents, as JSON. */
let stdout: Record<string, any>[] = [];
beforeEach(() => {
  stdout = [];
  const capture = (chunk: unknown) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) {
      try {
        stdout.push(JSON.parse(line));
      } catch {
        // not JSON: not Powertools
      }
    }
    return true;
  };
  // Powertools writes warnings and errors to stderr, info and EMF metrics to stdout.
  jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  jest.spyOn(process.stderr, 'write').mockImplementation(capture);
});
afterEach(() => {
  jest.restoreAllMocks();
});

/** The warning logged and the `RunnerInputRejected` count emitted for one refused input. */
function expectRejected(reason: string, message: string | RegExp) {
  const warning = stdout.find((line) => line.level === 'WARN' && line.reason === reason);
  expect(warning).toMatchObject({ service: 'step-runner', function_name: 'step-runner' });
  expect(warning?.message).toMatch(message);
  const metric = stdout.find((line) => line._aws && line.reason === reason);
  expect(metric?._aws.CloudWatchMetrics[0]).toMatchObject({
    Namespace: 'ServerlessRollouts',
    Dimensions: [expect.arrayContaining(['reason'])],
    Metrics: [{ Name: 'RunnerInputRejected', Unit: 'Count' }],
  });
  expect(metric?.RunnerInputRejected).toBe(1);
}

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
    // The suite silences Powertools; this file asserts what an operator sees, so it listens.
    POWERTOOLS_METRICS_DISABLED: 'false',
    POWERTOOLS_LOG_LEVEL: 'WARN',
    CLUSTERS: JSON.stringify([testClusterTarget()]),
  });
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
  const module = await import('../../functions/step-runner.js');
  handler = (event, context) => module.handler(event, context);
});

describe('the step runner Lambda', () => {
  it.each(['serverless-rollouts.webhook', 'serverless-rollouts.ecr', 'com.example.deployer'])(
    'refuses a setImage command from %s: logged, counted, nothing queued',
    async (source) => {
      const before = await store.get(keyOf(rollout));
      const result = await handler(
        commandEvent(
          {
            namespace: rollout.namespace,
            rollout: rollout.name,
            command: { kind: 'setImage', image: YELLOW },
          },
          source,
        ),
        lambdaContext('step-runner'),
      );
      expect(result.ignored).toContain(`a setImage command from '${source}' was refused`);
      expect(await store.pendingCommands(keyOf(rollout))).toEqual([]);
      expect(await store.get(keyOf(rollout))).toEqual(before);
      expectRejected('command-source-refused', `a setImage command from '${source}' was refused`);
    },
  );

  it('takes a command from the event bus and acts on it at once, watching the canary pods to the first pause in the same invocation', async () => {
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
    // The pass watched the canary Deployment until its pod was available and went on: 95/5, paused.
    expect(stored?.status).toMatchObject({ phase: 'Paused', weight: 5, canaryImage: YELLOW, revision: 2 });
    expect(await routeWeights(rollout)).toEqual(everyRoute(95, 5));
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

  it('takes a nudge (no command) from a trigger source: the command it queued in the table runs', async () => {
    const RED = 'argoproj/rollouts-demo:red';
    await store.enqueueCommand(
      keyOf(rollout),
      { kind: 'setImage', image: RED },
      'serverless-rollouts.webhook',
      Date.now(),
    );
    const result = await handler(
      commandEvent({ namespace: rollout.namespace, rollout: rollout.name }, 'serverless-rollouts.webhook'),
      lambdaContext('step-runner'),
    );
    expect(result).toEqual({ due: 1 });
    expect((await store.get(keyOf(rollout)))?.status).toMatchObject({
      phase: 'Paused',
      weight: 5,
      canaryImage: RED,
    });
  });

  it.each<[string, Record<string, string>, string, string?]>([
    ['an unknown kind', { kind: 'launch' }, 'command.kind'],
    [
      'an image no registry could serve (a 60-hex digest)',
      { kind: 'setImage', image: `argoproj/rollouts-demo@sha256:${'7'.repeat(60)}` },
      `command.image: digest 'sha256:${'7'.repeat(60)}' is not sha256: and 64 lowercase hex digits`,
    ],
    // Bounded before DynamoDB sees it: a key over its limit would be an error, not a refusal.
    ['a name longer than any Kubernetes name', { kind: 'promote' }, 'rollout: Too big', 'x'.repeat(3000)],
  ])(
    'rejects a malformed command (%s) without touching the store: logged and counted',
    async (_, command, field, name = rollout.name) => {
      const before = await store.get(keyOf(rollout));
      const result = await handler(
        commandEvent({ rollout: name, namespace: rollout.namespace, command }),
        lambdaContext('step-runner'),
      );
      expect(result.ignored).toContain(`bad Rollout Command detail: ${field}`);
      expect(await store.get(keyOf(rollout))).toEqual(before);
      expectRejected(
        'malformed-command',
        /^step runner input rejected: bad Rollout Command detail: (command\.(kind|image)|rollout)/,
      );
    },
  );

  it('refuses a command for a Rollout nobody registered: logged and counted', async () => {
    const result = await handler(
      commandEvent({ namespace: rollout.namespace, rollout: 'nobody', command: { kind: 'promote' } }),
      lambdaContext('step-runner'),
    );
    expect(result.ignored).toBe(
      `no Rollout default/${rollout.namespace}/nobody is registered (rollouts apply registers it)`,
    );
    expectRejected('unknown-rollout', `no Rollout default/${rollout.namespace}/nobody is registered`);
  });

  it('logs and counts a wake-up for a Rollout nobody registered', async () => {
    const result = await handler(
      sqsEvent(JSON.stringify({ wake: { ...keyOf(rollout), name: 'gone' } })),
      lambdaContext('step-runner'),
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expectRejected('unknown-rollout', `no Rollout default/${rollout.namespace}/gone is registered`);
  });

  it('logs and counts a malformed SQS message instead of dropping it silently', async () => {
    const event = sqsEvent('{"wake": "everything"}');
    const result = await handler(event, lambdaContext('step-runner'));
    expect(result).toEqual({ batchItemFailures: [] });
    expectRejected('malformed-wakeup', '1 SQS message(s) are not a wake-up');
    expect(
      stdout.find((line) => line.reason === 'malformed-wakeup' && line.level === 'WARN')?.messageIds,
    ).toEqual([event.Records[0]!.messageId]);
  });

  it('logs and counts events it does not take', async () => {
    expect(await handler({ hello: 'world' }, lambdaContext('step-runner'))).toEqual({
      ignored: 'neither an EventBridge event nor an SQS batch',
    });
    expectRejected('unrecognised-event', 'neither an EventBridge event nor an SQS batch');
    stdout = [];
    const result = await handler(
      { ...scheduledEvent, 'detail-type': 'Rollout Completed', source: 'serverless-rollouts' },
      lambdaContext('step-runner'),
    );
    expect(result).toEqual({ ignored: "unexpected detail-type 'Rollout Completed'" });
    expectRejected('unexpected-detail-type', "unexpected detail-type 'Rollout Completed'");
  });
});
