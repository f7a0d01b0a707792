/** What `rollouts get --watch` writes per frame, and when `--until-done` is finished. */
import { describe, expect, it } from '@jest/globals';
import { finishedWatch, watchFrame } from '../../lib/app/cli/describe.js';
import type { RolloutStatus } from '../../lib/core/engine/types.js';
import type { StoredRollout } from '../../lib/adapters/dynamodb/types.js';
import { demoRollout } from './fixtures.js';

function stored(status: Partial<RolloutStatus>): StoredRollout {
  return {
    key: { cluster: 'default', namespace: 'default', name: 'rollouts-demo' },
    rollout: demoRollout(),
    status: { phase: 'Healthy', revision: 2, stepIndex: 0, weight: 0, ...status },
    version: 3,
    commandSeq: 1,
    updatedAt: '2026-11-26T09:00:00.000Z',
  };
}

describe('watchFrame', () => {
  it('writes nothing when the view did not change', () => {
    expect(watchFrame('a\nb\n', 'a\nb\n', true)).toBeUndefined();
    expect(watchFrame('a\nb\n', 'a\nb\n', false)).toBeUndefined();
  });

  it('on a terminal, redraws in place: cursor home, each line cleared to its end, the rest cleared', () => {
    expect(watchFrame(undefined, 'one\ntwo\n', true)).toBe('\x1b[Hone\x1b[K\ntwo\x1b[K\n\x1b[J');
    expect(watchFrame('one\ntwo\n', 'one\n', true)).toBe('\x1b[Hone\x1b[K\n\x1b[J');
  });

  it('elsewhere, appends each changed frame after a blank line, with no escape sequences', () => {
    expect(watchFrame(undefined, 'one\n', false)).toBe('one\n');
    expect(watchFrame('one\n', 'two\n', false)).toBe('\ntwo\n');
  });
});

describe('finishedWatch', () => {
  it('is done with 0 on Healthy, 1 on Degraded and InvalidSpec, with what the rollout says', () => {
    expect(finishedWatch(stored({ stableImage: 'app:v2' }), 0)).toEqual({
      code: 0,
      message: 'rollout default/rollouts-demo is Healthy on app:v2',
    });
    expect(finishedWatch(stored({ phase: 'Degraded', message: 'aborted' }), 0)).toEqual({
      code: 1,
      message: 'rollout default/rollouts-demo is Degraded: aborted',
    });
    expect(finishedWatch(stored({ phase: 'InvalidSpec', message: 'no VS' }), 0)?.code).toBe(1);
  });

  it('is not done while the rollout moves or a command waits for the runner', () => {
    for (const phase of ['Progressing', 'Paused', 'Promoting'] as const)
      expect(finishedWatch(stored({ phase }), 0)).toBeUndefined();
    expect(finishedWatch(stored({ phase: 'Healthy' }), 1)).toBeUndefined();
    expect(finishedWatch(stored({ phase: 'Degraded' }), 1)).toBeUndefined();
  });
});
