import { describe, expect, it } from '@jest/globals';
import { abortMessage, decide, initialStatus, markInvalidSpec } from '../../lib/core/engine/decide.js';
import { availablePodsWithImage, canaryPodsFor, weightAllowedBy } from '../../lib/core/engine/replicas.js';
import { demoRollout } from './fixtures.js';
import { deployment, Driver, ModelCluster } from './engine-model.js';

const BLUE = 'argoproj/rollouts-demo:blue';
const YELLOW = 'argoproj/rollouts-demo:yellow';
const RED = 'argoproj/rollouts-demo:red';

function driver(replicas = 1, rollout = demoRollout()) {
  return new Driver(rollout, initialStatus(BLUE), new ModelCluster(BLUE, replicas));
}

describe('canary replicas follow the weight', () => {
  it.each([
    [5, 1, 1],
    [5, 10, 1],
    [50, 10, 5],
    [55, 10, 6],
    [100, 4, 4],
    [0, 4, 1],
  ])('weight %d of %d stable replicas needs %d canary pods', (weight, stable, pods) => {
    expect(canaryPodsFor(weight, stable)).toBe(pods);
  });

  it('caps the weight at what the available pods carry', () => {
    expect(weightAllowedBy(0, 50, 10)).toBe(0);
    expect(weightAllowedBy(3, 50, 10)).toBe(30);
    expect(weightAllowedBy(5, 50, 10)).toBe(50);
    expect(weightAllowedBy(1, 5, 1)).toBe(5);
  });

  it('counts only available pods of the wanted image', () => {
    expect(availablePodsWithImage(deployment(YELLOW, 3), YELLOW)).toBe(3);
    expect(availablePodsWithImage(deployment(BLUE, 3), YELLOW)).toBe(0);
    expect(availablePodsWithImage({ ...deployment(YELLOW, 3), observedGeneration: 0 }, YELLOW)).toBe(0);
    expect(
      availablePodsWithImage(
        { ...deployment(YELLOW, 3), statusReplicas: 5, updatedReplicas: 3, availableReplicas: 4 },
        YELLOW,
      ),
    ).toBe(2);
  });
});

describe('the seed scenario', () => {
  it('walks set image -> 5% -> pause {} -> promote -> 50% -> 30s -> stable on yellow', () => {
    const d = driver();
    const started = d.pass({ kind: 'setImage', image: YELLOW });
    expect(started.command).toEqual({ accepted: true, message: `rolling out ${YELLOW} as revision 2` });
    expect(d.status).toMatchObject({ phase: 'Progressing', revision: 2, weight: 0, stepIndex: 0 });
    expect(d.cluster.canary).toMatchObject({ image: YELLOW, replicas: 1 });
    expect(d.cluster.weight).toBe(0);
    d.pass();
    expect(d.status).toMatchObject({
      phase: 'Paused',
      revision: 2,
      canaryImage: YELLOW,
      weight: 5,
      stepIndex: 1,
    });
    expect(d.status.pauseUntil).toBeUndefined();
    expect(d.cluster.weight).toBe(5);

    d.advance(3600).pass();
    expect(d.status.phase).toBe('Paused');

    d.pass({ kind: 'promote' });
    expect(d.status).toMatchObject({ phase: 'Paused', stepIndex: 3, weight: 50 });
    expect(d.status.pauseUntil).toBe(new Date(d.now + 30_000).toISOString());
    expect(d.last.wakeAt).toBe(d.now + 30_000);

    d.advance(29).pass();
    expect(d.status.phase).toBe('Paused');
    d.advance(1).pass();
    expect(d.status).toMatchObject({ phase: 'Promoting', promotion: 'UpdateStable', weight: 100 });
    expect(d.cluster.stable.image).toBe(YELLOW);

    d.pass();
    expect(d.status).toMatchObject({
      phase: 'Healthy',
      stableImage: YELLOW,
      weight: 0,
      message: `${YELLOW} is stable`,
    });
    expect(d.status.canaryImage).toBeUndefined();
    expect(d.cluster.canary.replicas).toBe(0);
    expect(d.cluster.weights).toEqual([5, 50, 100, 0]);
    expect(d.cluster.events).toEqual([
      'Rollout Started',
      'Rollout Step Completed',
      'Rollout Paused',
      'Rollout Promoted',
      'Rollout Step Completed',
      'Rollout Paused',
      'Rollout Step Completed',
      'Rollout Completed',
    ]);
    expect(d.last.wakeAt).toBeNull();
  });

  it('applies a weight only once the canary has its pods, scaling first', () => {
    const d = driver(10);
    d.cluster.autoSettle = false;
    const first = d.pass({ kind: 'setImage', image: YELLOW });
    expect(first.actions).toEqual(
      expect.arrayContaining([
        { type: 'setCanaryImage', image: YELLOW },
        { type: 'scaleCanary', replicas: 1 },
      ]),
    );
    expect(d.status).toMatchObject({ phase: 'Progressing', weight: 0 });
    expect(d.cluster.weight).toBe(0);
    expect(d.last.wakeAt).toBe(d.now + 5000);
    d.cluster.settle();
    d.advance(5).pass();
    expect(d.status).toMatchObject({ phase: 'Paused', weight: 5 });
    d.pass({ kind: 'promote' });
    expect(d.cluster.canary.replicas).toBe(5);
    expect(d.status).toMatchObject({ phase: 'Progressing', weight: 5, stepIndex: 2 });
    expect(d.cluster.weight).toBe(5);
    d.cluster.settle();
    d.pass();
    expect(d.status).toMatchObject({ phase: 'Paused', weight: 50 });
  });

  it('steps down: traffic leaves before the pods', () => {
    const rollout = demoRollout(
      (doc) => (doc.spec.strategy.canary.steps = [{ setWeight: 50 }, { setWeight: 10 }, { pause: {} }]),
    );
    const d = driver(10, rollout);
    d.pass({ kind: 'setImage', image: YELLOW });
    d.pass();
    const { actions } = d.last;
    const weightDown = actions.findIndex((a) => a.type === 'setWeight' && a.weight === 10);
    const podsDown = actions.findIndex((a) => a.type === 'scaleCanary' && a.replicas === 1);
    expect(weightDown).toBeGreaterThanOrEqual(0);
    expect(podsDown).toBeGreaterThan(weightDown);
  });
});

describe('commands', () => {
  it('promote --full skips the remaining steps', () => {
    const d = driver();
    d.pass({ kind: 'setImage', image: YELLOW });
    d.pass();
    d.pass({ kind: 'promoteFull' });
    expect(d.status).toMatchObject({ phase: 'Promoting', promotion: 'UpdateStable' });
    d.pass();
    expect(d.status).toMatchObject({ phase: 'Healthy', stableImage: YELLOW });
    expect(d.cluster.weights).toEqual([5, 100, 0]);
  });

  it('promote outside a pause moves past the current step', () => {
    const d = driver(2);
    d.cluster.autoSettle = false;
    d.pass({ kind: 'setImage', image: YELLOW });
    d.pass();
    expect(d.status).toMatchObject({ phase: 'Progressing', stepIndex: 0 });
    d.pass({ kind: 'promote' });
    expect(d.status).toMatchObject({ phase: 'Paused', stepIndex: 1, weight: 0 });
  });

  it('abort sends all traffic to stable at once and scales the canary down after the delay', () => {
    const d = driver();
    d.pass({ kind: 'setImage', image: YELLOW });
    d.pass();
    d.pass({ kind: 'promote' });
    expect(d.cluster.weight).toBe(50);
    const aborted = d.advance(1).pass({ kind: 'abort' });
    expect(aborted.command?.accepted).toBe(true);
    expect(d.cluster.weight).toBe(0);
    expect(d.status).toMatchObject({
      phase: 'Degraded',
      weight: 0,
      message: abortMessage(2),
      canaryScaledDown: false,
    });
    expect(d.cluster.canary.replicas).toBe(1);
    expect(aborted.wakeAt).toBe(d.now + 30_000);
    d.advance(29).pass();
    expect(d.cluster.canary.replicas).toBe(1);
    d.advance(1).pass();
    expect(d.cluster.canary.replicas).toBe(0);
    expect(d.status.canaryScaledDown).toBe(true);
    expect(d.cluster.stable.image).toBe(BLUE);
    expect(d.cluster.events.at(-1)).toBe('Rollout Aborted');
  });

  it('retry restarts the steps of the aborted revision', () => {
    const d = driver();
    d.pass({ kind: 'setImage', image: YELLOW });
    d.pass();
    d.pass({ kind: 'abort' });
    const retried = d.advance(60).pass({ kind: 'retry' });
    expect(retried.command).toEqual({ accepted: true, message: 'retrying revision 2' });
    expect(d.status).toMatchObject({
      phase: 'Paused',
      revision: 2,
      stepIndex: 1,
      weight: 5,
      canaryImage: YELLOW,
    });
    expect(d.cluster.canary.replicas).toBe(1);
  });

  it('a new image mid-rollout restarts the steps for it, from weight 0', () => {
    const d = driver();
    d.pass({ kind: 'setImage', image: YELLOW });
    d.pass();
    d.pass({ kind: 'promote' });
    d.cluster.autoSettle = false;
    const restarted = d.pass({ kind: 'setImage', image: RED });
    expect(restarted.command?.accepted).toBe(true);
    expect(d.status).toMatchObject({
      phase: 'Progressing',
      revision: 3,
      canaryImage: RED,
      stepIndex: 0,
      weight: 0,
    });
    expect(d.cluster.weight).toBe(0);
    d.cluster.settle();
    d.pass();
    expect(d.status).toMatchObject({ phase: 'Paused', weight: 5 });
  });

  it.each([
    ['promote', { kind: 'promote' } as const, 'nothing to promote: the rollout is Healthy'],
    ['abort', { kind: 'abort' } as const, 'nothing to abort: the rollout is Healthy'],
    ['retry', { kind: 'retry' } as const, 'nothing to retry: the rollout is Healthy, not aborted'],
    [
      'set image to the stable image',
      { kind: 'setImage', image: BLUE } as const,
      `${BLUE} is already the stable image`,
    ],
  ])('rejects %s on a Healthy rollout and changes nothing', (_, command, message) => {
    const d = driver();
    const before = d.status;
    const decision = d.pass(command);
    expect(decision.command).toEqual({ accepted: false, message });
    expect(decision.status).toEqual(before);
    expect(decision.actions).toEqual([]);
  });

  it('treats the same image pushed twice as one rollout', () => {
    const d = driver();
    d.pass({ kind: 'setImage', image: YELLOW });
    d.pass();
    const again = d.pass({ kind: 'setImage', image: YELLOW });
    expect(again.command).toEqual({
      accepted: false,
      message: `${YELLOW} is already being rolled out (revision 2)`,
    });
    expect(d.status.revision).toBe(2);
  });

  it('will not re-roll an aborted image without retry', () => {
    const d = driver();
    d.pass({ kind: 'setImage', image: YELLOW });
    d.pass();
    d.pass({ kind: 'abort' });
    expect(d.pass({ kind: 'setImage', image: YELLOW }).command?.accepted).toBe(false);
    expect(d.pass({ kind: 'setImage', image: RED }).command?.accepted).toBe(true);
    d.pass();
    expect(d.status).toMatchObject({ phase: 'Paused', revision: 3, canaryImage: RED });
  });

  it('refuses to abort once the stable Deployment takes the image', () => {
    const d = driver();
    d.cluster.autoSettle = false;
    d.pass({ kind: 'setImage', image: YELLOW });
    d.pass();
    d.cluster.settle();
    d.pass({ kind: 'promoteFull' });
    expect(d.status.promotion).toBe('UpdateStable');
    expect(d.pass({ kind: 'abort' }).command?.message).toContain('too late to abort');
  });
});

describe('progress deadline', () => {
  it('aborts when the canary is not available in time, saying why', () => {
    const d = driver(
      1,
      demoRollout((doc) => (doc.spec.progressDeadlineSeconds = 60)),
    );
    d.cluster.autoSettle = false;
    d.pass({ kind: 'setImage', image: YELLOW });
    d.pass();
    expect(d.last.wakeAt).toBe(d.now + 5000);
    d.advance(59).pass();
    expect(d.status.phase).toBe('Progressing');
    d.advance(1).pass();
    expect(d.status.phase).toBe('Degraded');
    expect(d.status.message).toBe(
      `${abortMessage(2)}: ProgressDeadlineExceeded: canary Deployment default/rollouts-demo-canary has 0 of 1 pods available with ${YELLOW} after 60s (progressDeadlineSeconds)`,
    );
    expect(d.cluster.weight).toBe(0);
  });

  it('takes traffic off a canary whose pods went away, and returns it when they are back', () => {
    const d = driver(10);
    d.pass({ kind: 'setImage', image: YELLOW });
    d.pass();
    d.pass({ kind: 'promote' });
    d.pass();
    expect(d.cluster.weight).toBe(50);
    d.cluster.canary = { ...d.cluster.canary, availableReplicas: 2 };
    d.pass();
    expect(d.cluster.weight).toBe(20);
    expect(d.status.weight).toBe(50);
    d.cluster.canary = { ...d.cluster.canary, availableReplicas: 5 };
    d.pass();
    expect(d.cluster.weight).toBe(50);
  });
});

describe('idle passes', () => {
  it('re-assert the weight of a paused rollout every pass and wake for a resync', () => {
    const d = driver();
    d.pass({ kind: 'setImage', image: YELLOW });
    d.pass();
    d.cluster.weight = 30;
    const decision = d.advance(10).pass();
    expect(decision.actions).toContainEqual({ type: 'setWeight', weight: 5 });
    expect(d.cluster.weight).toBe(5);
    expect(decision.wakeAt).toBe(d.now + 60_000);
  });

  it('leave a Healthy rollout alone and record the stable image it finds', () => {
    const decision = decide(
      demoRollout(),
      initialStatus(),
      { stable: deployment(BLUE, 1), canary: deployment(BLUE, 0) },
      null,
      0,
    );
    expect(decision).toEqual({
      status: { ...initialStatus(), stableImage: BLUE },
      actions: [],
      wakeAt: null,
    });
  });

  it('leave an InvalidSpec rollout alone until a command', () => {
    const status = markInvalidSpec(initialStatus(BLUE), 'VirtualService default/x: not found');
    const decision = decide(
      demoRollout(),
      status,
      { stable: deployment(BLUE, 1), canary: deployment(BLUE, 0) },
      null,
      0,
    );
    expect(decision.actions).toEqual([]);
    expect(decision.status).toEqual(status);
  });
});

describe('decide on time', () => {
  it('takes a Date as well as epoch milliseconds', () => {
    const observation = { stable: deployment(BLUE, 1), canary: deployment(BLUE, 0) };
    const at = new Date('2026-01-01T00:00:00Z');
    const command = { kind: 'setImage', image: YELLOW } as const;
    expect(decide(demoRollout(), initialStatus(BLUE), observation, command, at)).toEqual(
      decide(demoRollout(), initialStatus(BLUE), observation, command, at.getTime()),
    );
  });
});
