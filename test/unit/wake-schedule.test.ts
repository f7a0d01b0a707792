/**
 * Waits longer than SQS's 15-minute DelaySeconds: the pure rule for when such a Rollout is due in
 * the store, and a 20-minute pause on a simulated clock through the one-minute schedule and SqsWakeups
 * (SQS stubbed with aws-sdk-client-mock, every SendMessage asserted).
 */
import { describe, expect, it } from '@jest/globals';
import { MAX_SQS_DELAY_SECONDS } from '../../lib/adapters/aws/wakeups.js';
import { storedDueAt } from '../../lib/core/engine/wake-schedule.js';
import { simulatePause, SIMULATED_QUEUE_URL } from '../../lib/local/wake-simulation.js';

const REACH = (MAX_SQS_DELAY_SECONDS - 1) * 1000;
const NOW = Date.parse('2026-01-01T00:00:00Z');
const MINUTE = 60_000;

describe('when a saved Rollout is due', () => {
  it.each([
    ['a wait within reach: at its instant', 30_000, REACH, 30_000],
    ['a wait of exactly the reach: at its instant', REACH, REACH, REACH],
    ['a 20-minute wait: when it comes within reach', 20 * MINUTE, REACH, 20 * MINUTE - REACH],
    ['a 2-hour wait: when it comes within reach', 120 * MINUTE, REACH, 120 * MINUTE - REACH],
    ['any wait with a scheduler without a limit: at its instant', 120 * MINUTE, undefined, 120 * MINUTE],
  ])('%s', (_name, wait, reach, due) => {
    expect(storedDueAt(NOW + wait, NOW, reach)).toBe(NOW + due);
  });

  it('an overdue instant stays as it is', () => {
    expect(storedDueAt(NOW - 5000, NOW, REACH)).toBe(NOW - 5000);
  });
});

describe('a 20-minute pause on the SQS path, on a simulated clock', () => {
  it('ends on time: the scheduled pass that finds it within reach sends the wake-up for its instant', async () => {
    // A resync longer than the pause: no other wake-up can end it on time by chance.
    const run = await simulatePause({ pauseSeconds: 1200, resyncSeconds: 3600, startAfterTickMs: 20_000 });
    expect(run.latenessMs).toBe(0);
    const exact = run.messages.filter(
      (message) => message.sentAt + (message.input.DelaySeconds ?? 0) * 1000 === run.pauseUntil,
    );
    expect(exact).toHaveLength(1);
    const [arming] = exact;
    // Sent by a schedule tick (a whole minute) once the pause's end was within 15 minutes.
    expect(arming?.sentAt).toBeGreaterThanOrEqual(run.pauseUntil - REACH);
    expect(arming?.sentAt).toBeLessThan(run.pauseUntil - REACH + MINUTE);
    expect((arming?.sentAt ?? 0) % MINUTE).toBe(0);
    expect(arming?.input).toEqual({
      QueueUrl: SIMULATED_QUEUE_URL,
      DelaySeconds: (run.pauseUntil - (arming?.sentAt ?? 0)) / 1000,
      MessageBody: JSON.stringify({
        wake: { cluster: 'default', namespace: 'default', name: 'rollouts-demo' },
        at: run.pauseUntil,
      }),
    });
    expect(arming?.input.DelaySeconds).toBeLessThan(MAX_SQS_DELAY_SECONDS);
    // While the pause ran, that was the one message sent and the one pass before its end: the
    // passes are the push, the wake-up that started the pause, the arming tick, the wake-up ending it.
    const pauseStart = run.pauseUntil - 1200_000;
    const duringPause = run.messages.filter(
      (message) => message.sentAt >= pauseStart && message.sentAt < run.pauseUntil,
    );
    expect(duringPause).toEqual([arming]);
    expect(run.passes).toBe(4);
  });

  it('with the engine’s default one-minute resync it also ends on time, armed by the last resync', async () => {
    const run = await simulatePause({ pauseSeconds: 1200, startAfterTickMs: 20_000 });
    expect(run.latenessMs).toBe(0);
  });
});
