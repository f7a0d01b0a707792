/** The seed guide, end to end, on the real API server and DynamoDB Local. */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import { keyOf } from '../../lib/adapters/dynamodb/repository.js';
import { applyDemo, createNamespace, waitForAvailable } from './sandbox.js';
import {
  createStore,
  demoRolloutIn,
  deployment,
  everyRoute,
  passUntil,
  pausedAt,
  phase,
  routeWeights,
  runnerDeps,
} from './runner-harness.js';

const YELLOW = 'argoproj/rollouts-demo:yellow';
let namespace: string;
let store: RolloutStore;

beforeAll(async () => {
  namespace = await createNamespace('seed');
  await applyDemo(namespace);
  await waitForAvailable(namespace, 'rollouts-demo-stable', 1);
  store = await createStore();
});

describe('the seed scenario', () => {
  it('rolls yellow out step by step: 95/5, pause until promoted, 50/50, timed pause, stable on yellow', async () => {
    const rollout = demoRolloutIn(namespace);
    const deps = runnerDeps(store);
    await store.apply(rollout, Date.now());
    expect(
      await store.enqueueCommand(keyOf(rollout), { kind: 'setImage', image: YELLOW }, 'test', Date.now()),
    ).toEqual({ ok: true, value: { accepted: 'queued' } });

    const paused = await passUntil(deps, rollout, pausedAt(5), '95/5 and pause {}');
    expect(paused.status).toMatchObject({ revision: 2, stepIndex: 1, canaryImage: YELLOW });
    expect(await routeWeights(rollout)).toEqual(everyRoute(95, 5));
    expect(await deployment(namespace, 'rollouts-demo-canary')).toEqual({
      image: YELLOW,
      replicas: 1,
      available: 1,
    });

    await new Promise((resolve) => setTimeout(resolve, 1500));
    await passUntil(deps, rollout, phase('Paused'), 'still paused');
    expect((await store.get(keyOf(rollout)))?.status.stepIndex).toBe(1);

    await store.enqueueCommand(keyOf(rollout), { kind: 'promote' }, 'test', Date.now());
    await passUntil(deps, rollout, (s) => s.status.weight === 50, '50/50');
    expect(await routeWeights(rollout)).toEqual(everyRoute(50, 50));

    const healthy = await passUntil(deps, rollout, phase('Healthy'), 'Healthy on yellow');
    expect(healthy.status).toMatchObject({ stableImage: YELLOW, weight: 0 });
    expect(healthy.dueAt).toBeUndefined();
    expect(await routeWeights(rollout)).toEqual(everyRoute(100, 0));
    expect(await deployment(namespace, 'rollouts-demo-stable')).toMatchObject({
      image: YELLOW,
      available: 1,
    });
    expect((await deployment(namespace, 'rollouts-demo-canary')).replicas).toBe(0);

    expect(deps.events.events.map((e) => e.event.type)).toEqual([
      'Rollout Started',
      'Rollout Step Completed',
      'Rollout Paused',
      'Rollout Promoted',
      'Rollout Step Completed',
      'Rollout Paused',
      'Rollout Step Completed',
      'Rollout Completed',
    ]);
    const history = await store.history(keyOf(rollout));
    const transitions = history.filter((h) => h.kind === 'transition').map((h) => h.message);
    expect(new Set(transitions).size).toBe(transitions.length);
  });
});
