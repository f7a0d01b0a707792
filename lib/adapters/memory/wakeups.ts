/** Wake-ups in the same process: a timer per Rollout (local mode), or a list (tests). */
import { formatKey, type RolloutKey, type WakeupScheduler } from '../../app/runner/ports.js';

export class TimerWakeups implements WakeupScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  constructor(private readonly wake: (key: RolloutKey) => void) {}

  async schedule(key: RolloutKey, at: number, now: number): Promise<void> {
    const id = formatKey(key);
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

/** Keeps what was scheduled, for tests to assert. */
export class RecordedWakeups implements WakeupScheduler {
  readonly scheduled: { key: RolloutKey; at: number; now: number }[] = [];
  async schedule(key: RolloutKey, at: number, now: number): Promise<void> {
    this.scheduled.push({ key, at, now });
  }
}
