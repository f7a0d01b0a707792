/**
 * Waking a Rollout at its instant: the one-minute schedule is the safety net; a wake-up closer
 * than 15 minutes goes on an SQS queue with DelaySeconds (local mode uses lib/adapters/memory's timer).
 * A farther one is armed by the scheduled pass that finds it within reach (see `reachMs`).
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { RolloutKey, WakeupScheduler } from '../../app/runner/ports.js';

export type { WakeupScheduler };

export const MAX_SQS_DELAY_SECONDS = 900;

export class SqsWakeups implements WakeupScheduler {
  /** The longest delay sent: DelaySeconds is rounded up and must stay below MAX_SQS_DELAY_SECONDS. */
  readonly reachMs = (MAX_SQS_DELAY_SECONDS - 1) * 1000;

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async schedule(key: RolloutKey, at: number, now: number): Promise<void> {
    const delaySeconds = Math.max(0, Math.ceil((at - now) / 1000));
    if (delaySeconds >= MAX_SQS_DELAY_SECONDS) return;
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        DelaySeconds: delaySeconds,
        MessageBody: JSON.stringify({ wake: key, at }),
      }),
    );
  }
}
