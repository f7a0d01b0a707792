import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decide, initialStatus } from '../../lib/core/engine/decide.js';
import { availablePodsWithImage, canaryPodsFor } from '../../lib/core/engine/replicas.js';
import type { Command, Decision, Observation, RolloutStatus } from '../../lib/core/engine/types.js';
import type { Rollout } from '../../lib/core/model/rollout.js';
import { demoRollout } from './fixtures.js';
import { ModelCluster } from './engine-model.js';

const IMAGES = ['app:v1', 'app:v2', 'app:v3'];

type Event =
  | { kind: 'command'; command: Command }
  | { kind: 'time'; seconds: number }
  | { kind: 'settle' }
  | { kind: 'losePods'; keep: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.constantFrom(...IMAGES).map((image) => ({ kind: 'setImage', image }) as Command),
  fc.constantFrom<Command>(
    { kind: 'promote' },
    { kind: 'promoteFull' },
    { kind: 'abort' },
    { kind: 'retry' },
  ),
);
const event: fc.Arbitrary<Event> = fc.oneof(
  command.map((c) => ({ kind: 'command', command: c }) as Event),
  fc.integer({ min: 0, max: 700 }).map((seconds) => ({ kind: 'time', seconds }) as Event),
  fc.constant<Event>({ kind: 'settle' }),
  fc.constant<Event>({ kind: 'settle' }),
  fc.integer({ min: 0, max: 3 }).map((keep) => ({ kind: 'losePods', keep }) as Event),
);
const steps = fc.array(
  fc.oneof(
    fc.integer({ min: 0, max: 100 }).map((setWeight) => ({ setWeight })),
    fc.constantFrom(
      { pause: {} },
      { pause: { duration: 0 } },
      { pause: { duration: 30 } },
      { pause: { duration: '2m' } },
    ),
  ),
  { minLength: 0, maxLength: 6 },
);

interface Checked {
  rollout: Rollout;
  now: number;
  before: RolloutStatus;
  observation: Observation;
  command: Command | null;
  decision: Decision;
}

function run(
  rolloutSteps: unknown[],
  replicas: number,
  events: Event[],
  check: (step: Checked) => void,
): void {
  const rollout = demoRollout((doc) => {
    doc.spec.strategy.canary.steps = rolloutSteps;
    doc.spec.progressDeadlineSeconds = 300;
  });
  const cluster = new ModelCluster('app:v0', replicas);
  cluster.autoSettle = false;
  let status = initialStatus('app:v0');
  let now = 0;
  for (const e of events) {
    let cmd: Command | null = null;
    if (e.kind === 'time') now += e.seconds * 1000;
    if (e.kind === 'settle') cluster.settle();
    if (e.kind === 'losePods')
      cluster.canary = {
        ...cluster.canary,
        availableReplicas: Math.min(e.keep, cluster.canary.availableReplicas),
      };
    if (e.kind === 'command') cmd = e.command;
    const observation = cluster.observe();
    const decision = decide(rollout, status, observation, cmd, now);
    check({ rollout, now, before: status, observation, command: cmd, decision });
    cluster.apply(decision.actions);
    status = decision.status;
  }
}

const property = (check: (step: Checked) => void) =>
  fc.property(steps, fc.constantFrom(1, 3, 10), fc.array(event, { maxLength: 40 }), (s, replicas, events) =>
    run(s, replicas, events, check),
  );

describe('engine properties over random commands, pod changes and time', () => {
  it('keeps every weight within 0..100', () => {
    fc.assert(
      property(({ decision }) => {
        expect(decision.status.weight).toBeGreaterThanOrEqual(0);
        expect(decision.status.weight).toBeLessThanOrEqual(100);
        for (const action of decision.actions) {
          if (action.type === 'setWeight') expect(action.weight >= 0 && action.weight <= 100).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never sends the canary more traffic than its available pods carry', () => {
    fc.assert(
      property(({ before, observation, command: cmd, decision }) => {
        const image = cmd?.kind === 'setImage' && decision.command?.accepted ? cmd.image : before.canaryImage;
        const available = availablePodsWithImage(observation.canary, image);
        for (const action of decision.actions) {
          if (action.type === 'setWeight' && action.weight > 0) {
            expect(canaryPodsFor(action.weight, observation.stable.replicas)).toBeLessThanOrEqual(available);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('ends every accepted abort, and every pass while aborted, at weight 0', () => {
    fc.assert(
      property(({ before, command: cmd, decision }) => {
        const aborted = (cmd?.kind === 'abort' && decision.command?.accepted) || before.phase === 'Degraded';
        if (!aborted || decision.status.phase !== 'Degraded') return;
        const weights = decision.actions.flatMap((a) => (a.type === 'setWeight' ? [a.weight] : []));
        expect(weights.at(-1)).toBe(0);
        expect(weights.every((w) => w === 0)).toBe(true);
        expect(decision.status.weight).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('moves nothing without a step, command or observation: a second pass on the same inputs changes nothing', () => {
    fc.assert(
      property(({ rollout, now, observation, decision }) => {
        const again = decide(rollout, decision.status, observation, null, now);
        expect(again.status).toEqual(decision.status);
        expect(again.actions.some((a) => a.type === 'emit')).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects commands that do not apply and changes nothing for them', () => {
    fc.assert(
      property(({ rollout, now, before, observation, command: cmd, decision }) => {
        if (!cmd || decision.command?.accepted) return;
        const without = decide(rollout, before, observation, null, now);
        expect(decision.status).toEqual(without.status);
        expect(decision.actions).toEqual(without.actions);
        expect(decision.command?.message).toMatch(/\S/);
      }),
      { numRuns: 300 },
    );
  });
});
