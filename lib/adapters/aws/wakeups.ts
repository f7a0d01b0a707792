/**
 * Waking a Rollout at its instant: the one-minute schedule is the safety net; a wake-up closer
 * than 15 minutes goes on an SQS queue with DelaySeconds (local mode uses a timer).
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { RolloutKey } from '../dynamodb/types.js';

export const MAX_SQS_DELAY_SECONDS = 900;

export interface WakeupScheduler {
  schedule(key: RolloutKey, at: number, now: number): Promise<void>;
}

export class SqsWakeups implements WakeupScheduler {
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

export class TimerWakeups implements WakeupScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  constructor(private readonly wake: (key: RolloutKey) => void) {}

  async schedule(key: RolloutKey, at: number, now: number): Promise<void> {
    const id = `${key.cluster}/${key.namespace}/${key.name}`;
    clearTimeout(this.timers.get(id));
    const timer = setTimeout(
      () => {
        this.timers.delete(id);
        this.wake(key);
      },
      Math.max(0, at - now),
    );
    timer.unref();
    this.timers.set(id, timer);
  }

  stop(): void {
    this.timers.forEach((timer) => clearTimeout(timer));
    this.timers.clear();
  }
}
