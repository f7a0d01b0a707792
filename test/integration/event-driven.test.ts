/**
 * The runner advances on events alone: nudges (a command, as the CLI sends them), watches on the
 * Deployments a pass waits for, and a wake-up at a timed pause's end. The engine's pod poll is an
 * hour here, so a rollout that needed it would stall for an hour instead of finishing.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { keyOf } from '../../lib/adapters/dynamodb/repository.js';
import type { StoredRollout } from '../../lib/adapters/dynamodb/types.js';
import type { PublishedEvent } from '../../lib/app/runner/ports.js';
import { startRunnerLoop, type RunnerLoop } from '../../lib/local/mode.js';
import { waitFor } from '../../lib/local/processes.js';
import {
  clusters,
  createStore,
  deployment,
  demoRolloutIn,
  everyRoute,
  routeWeights,
  YELLOW,
} from './runner-harness.js';
import { applyDemo, createNamespace } from './sandbox.js';

const HOUR = 3600;
let loop: RunnerLoop | undefined;
afterAll(() => loop?.stop());

describe('an event-driven runner with no polling', () => {
  it("walks the guide's canary to Healthy on nudges, Deployment watches and the pause's wake-up", async () => {
    const namespace = await createNamespace('events');
    await applyDemo(namespace);
    const store = await createStore();
    const rollout = demoRolloutIn(namespace);
    const key = keyOf(rollout);
    const events: PublishedEvent[] = [];
    loop = startRunnerLoop(store, clusters(), (event) => events.push(event), {
      pollSeconds: HOUR,
      resyncSeconds: HOUR,
    });
    const until = (what: string, done: (stored: StoredRollout) => boolean) =>
      waitFor(
        what,
        async () => {
          const stored = await store.get(key);
          return stored && done(stored) ? stored : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 100 },
      );

    await store.apply(rollout, Date.now());
    void loop.nudge(key);
    await until('the applied Rollout checked', (s) => s.status.stableImage === 'argoproj/rollouts-demo:blue');

    await store.enqueueCommand(key, { kind: 'setImage', image: YELLOW }, 'test', Date.now());
    void loop.nudge(key);
    // The canary pod is not there when the first pass scales it up: the watch sees it arrive.
    const paused = await until('paused at 5', (s) => s.status.phase === 'Paused' && s.status.weight === 5);
    expect(paused.dueAt).toBeGreaterThan(Date.now() + 60_000); // nothing brings it back but a command
    expect(await routeWeights(rollout)).toEqual(everyRoute(95, 5));

    await store.enqueueCommand(key, { kind: 'promote' }, 'test', Date.now());
    void loop.nudge(key);
    // setWeight 50 (a second canary pod, watched), the 2 s pause (its wake-up), then promotion:
    // canary at full size and the stable Deployment rolling out yellow, both watched.
    const healthy = await until(
      'Healthy on yellow',
      (s) => s.status.phase === 'Healthy' && s.status.stableImage === YELLOW,
    );
    expect(healthy.dueAt).toBeUndefined();
    expect(await routeWeights(rollout)).toEqual(everyRoute(100, 0));
    expect(await deployment(namespace, 'rollouts-demo-stable')).toMatchObject({ image: YELLOW });
    expect(events.map((e) => e.event.type)).toEqual([
      'Rollout Started',
      'Rollout Step Completed',
      'Rollout Paused',
      'Rollout Promoted',
      'Rollout Step Completed',
      'Rollout Paused',
      'Rollout Step Completed',
      'Rollout Completed',
    ]);
  }, 180_000);
});
