/**
 * When a saved Rollout is next due in the store, given the instant the engine wants it back and how
 * far ahead the wake-up scheduler can reach (SQS DelaySeconds: 15 minutes). Pure: time is a parameter.
 *
 * A wait within reach is armed by the pass that saves it, so the Rollout is due at that instant. A
 * longer wait (a 20-minute pause, a 30-minute analysis interval) cannot be armed yet, and the
 * one-minute schedule alone would end it up to a minute late. So the Rollout is stored due at the
 * first instant its wake-up comes within reach: the scheduled pass that finds it due then decides
 * again, gets the same instant back, now within reach, and arms the wake-up with the exact delay.
 */

/** `wakeAt` itself when a wake-up can be set for it now (or the scheduler has no limit), else the instant it can. */
export function storedDueAt(wakeAt: number, now: number, reachMs: number | undefined): number {
  if (reachMs === undefined || wakeAt - now <= reachMs) return wakeAt;
  return wakeAt - reachMs;
}
