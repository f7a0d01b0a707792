/** Lifecycle events kept in memory: local mode prints them, tests read them. */
import type { EventPublisher, PublishedEvent } from '../../app/runner/ports.js';

export class MemoryPublisher implements EventPublisher {
  readonly events: PublishedEvent[] = [];
  constructor(private readonly listener?: (event: PublishedEvent) => void) {}
  async publish(events: PublishedEvent[]): Promise<void> {
    this.events.push(...events);
    events.forEach((event) => this.listener?.(event));
  }
}
