/** Lifecycle events, published after the transition that caused them is saved. */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { EventPublisher, PublishedEvent } from '../../app/runner/ports.js';

export type { EventPublisher, PublishedEvent };
export { MemoryPublisher } from '../memory/events.js';

export const EVENT_SOURCE = 'serverless-rollouts';

export function toEntry(published: PublishedEvent, eventBusName: string): PutEventsRequestEntry {
  const { key, event, phase, at } = published;
  return {
    EventBusName: eventBusName,
    Source: EVENT_SOURCE,
    DetailType: event.type,
    Time: new Date(at),
    Resources: [],
    Detail: JSON.stringify({
      cluster: key.cluster,
      namespace: key.namespace,
      rollout: key.name,
      phase,
      ...event,
    }),
  };
}

export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
  ) {}

  async publish(events: PublishedEvent[]): Promise<void> {
    for (let start = 0; start < events.length; start += 10) {
      const entries = events.slice(start, start + 10).map((event) => toEntry(event, this.eventBusName));
      const result = await this.client.send(new PutEventsCommand({ Entries: entries }));
      if (result.FailedEntryCount) {
        const failed = (result.Entries ?? [])
          .filter((entry) => entry.ErrorCode)
          .map((entry) => `${entry.ErrorCode}: ${entry.ErrorMessage}`);
        throw new Error(
          `EventBridge rejected ${result.FailedEntryCount} lifecycle event(s): ${failed.join('; ')}`,
        );
      }
    }
  }
}
