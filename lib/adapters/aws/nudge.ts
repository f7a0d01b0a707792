/**
 * Telling the step runner a command is waiting in the table, so it need not wait for the
 * one-minute schedule. The CLI (whose principal the bus's command rule admits) puts a command
 * event on the bus; the trigger functions, which may not send commands, put a wake-up on the
 * runner's queue instead.
 */
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { RolloutKey } from '../dynamodb/types.js';
import { CLI_COMMAND_SOURCE, COMMAND_DETAIL_TYPE } from '../../app/runner/inputs.js';
import type { WakeupScheduler } from './wakeups.js';

export type Nudge = (key: RolloutKey) => Promise<void>;

/** The event source the CLI's commands carry; the bus's command rule and the runner take only it. */
export { CLI_COMMAND_SOURCE };

export function eventBusNudge(client: EventBridgeClient, eventBusName: string, source: string): Nudge {
  return async (key) => {
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: eventBusName,
            Source: source,
            DetailType: COMMAND_DETAIL_TYPE,
            Detail: JSON.stringify({ cluster: key.cluster, namespace: key.namespace, rollout: key.name }),
          },
        ],
      }),
    );
    if (result.FailedEntryCount)
      throw new Error(
        `EventBridge refused the nudge for ${key.cluster}/${key.namespace}/${key.name}: ${result.Entries?.[0]?.ErrorCode ?? 'unknown error'}`,
      );
  };
}

/** A wake-up due now on the runner's queue: the runner then takes the queued command. */
export function wakeupQueueNudge(wakeups: WakeupScheduler, clock: () => number): Nudge {
  return async (key) => {
    const now = clock();
    await wakeups.schedule(key, now, now);
  };
}
