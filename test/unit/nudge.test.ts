import { describe, expect, it } from '@jest/globals';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { CLI_COMMAND_SOURCE, eventBusNudge, wakeupQueueNudge } from '../../lib/adapters/aws/nudge.js';
import { SqsWakeups } from '../../lib/adapters/aws/wakeups.js';
import { COMMAND_DETAIL_TYPE } from '../../lib/app/runner/inputs.js';

const KEY = { cluster: 'prod', namespace: 'shop', name: 'checkout' };

describe('the one nudge adapter', () => {
  it("the CLI's nudge is a command event with the runner's detail type and the CLI's source", async () => {
    const events = mockClient(EventBridgeClient);
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    await eventBusNudge(
      new EventBridgeClient({ region: 'eu-west-1' }),
      'rollouts-bus',
      CLI_COMMAND_SOURCE,
    )(KEY);
    expect(events.commandCalls(PutEventsCommand).map((call) => call.args[0].input)).toEqual([
      {
        Entries: [
          {
            EventBusName: 'rollouts-bus',
            Source: 'serverless-rollouts.cli',
            DetailType: COMMAND_DETAIL_TYPE,
            Detail: JSON.stringify({ cluster: 'prod', namespace: 'shop', rollout: 'checkout' }),
          },
        ],
      },
    ]);
    events.restore();
  });

  it('says when the bus refuses the event (a resource policy denial is not silent)', async () => {
    const events = mockClient(EventBridgeClient);
    events.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'no' }],
    });
    await expect(
      eventBusNudge(new EventBridgeClient({ region: 'eu-west-1' }), 'rollouts-bus', CLI_COMMAND_SOURCE)(KEY),
    ).rejects.toThrow('EventBridge refused the nudge for prod/shop/checkout: AccessDeniedException');
    events.restore();
  });

  it("the trigger functions' nudge is a wake-up due now on the runner's queue, not a command", async () => {
    const sqs = mockClient(SQSClient);
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    const queue = 'https://sqs.eu-west-1.amazonaws.com/123456789012/wakeups';
    await wakeupQueueNudge(
      new SqsWakeups(new SQSClient({ region: 'eu-west-1' }), queue),
      () => 1_764_108_000_000,
    )(KEY);
    expect(sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input)).toEqual([
      {
        QueueUrl: queue,
        DelaySeconds: 0,
        MessageBody: JSON.stringify({ wake: KEY, at: 1_764_108_000_000 }),
      },
    ]);
    sqs.restore();
  });
});
