import { describe, expect, it } from '@jest/globals';
import type { StoredRollout } from '../../lib/adapters/dynamodb/types.js';
import type { RolloutStatus } from '../../lib/core/engine/types.js';
import { progressLine, type LiveWeights } from '../../lib/local/demo.js';
import { demoRollout } from './fixtures.js';

const stored = (status: Partial<RolloutStatus>): StoredRollout => ({
  key: { cluster: 'default', namespace: 'default', name: 'rollouts-demo' },
  rollout: demoRollout(),
  status: { phase: 'Progressing', revision: 2, stepIndex: 0, weight: 0, ...status },
  version: 3,
  commandSeq: 1,
  updatedAt: '2026-11-26T10:00:00.000Z',
});

const everywhere = (stable: number, canary: number): LiveWeights[] =>
  ['rollouts-demo-vsvc1', 'rollouts-demo-vsvc2'].map((name) => ({
    name,
    routes: (['http', 'tls', 'tcp'] as const).map((section) => ({ section, index: 0, stable, canary })),
  }));

describe("the demo's progress line", () => {
  it('shows the phase and step that go with the weights beside them', () => {
    expect(progressLine(stored({ phase: 'Paused', stepIndex: 1, weight: 5 }), everywhere(95, 5))).toBe(
      'Paused      step 2/4  rollouts-demo-vsvc1: http[0] 95/5, tls[0] 95/5, tcp[0] 95/5 | rollouts-demo-vsvc2: http[0] 95/5, tls[0] 95/5, tcp[0] 95/5',
    );
    expect(
      progressLine(stored({ phase: 'Progressing', stepIndex: 2, weight: 50 }), everywhere(50, 50)),
    ).toMatch(/^Progressing step 3\/4 {2}rollouts-demo-vsvc1: http\[0\] 50\/50/);
  });

  it('prints nothing while the weights are a step ahead of the saved status (patched, not yet saved)', () => {
    // The runner has patched 50/50 after the promote but the table still says Paused at step 2.
    expect(
      progressLine(stored({ phase: 'Paused', stepIndex: 1, weight: 5 }), everywhere(50, 50)),
    ).toBeUndefined();
    const halfway = everywhere(95, 5);
    halfway[1] = everywhere(50, 50)[1] as LiveWeights;
    expect(progressLine(stored({ phase: 'Paused', stepIndex: 1, weight: 5 }), halfway)).toBeUndefined();
  });
});
