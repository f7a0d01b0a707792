import { describe, expect, it } from '@jest/globals';
import type { StoredRollout } from '../../lib/adapters/dynamodb/types.js';
import type { RolloutStatus } from '../../lib/core/engine/types.js';
import type { AnalysisRun, MetricResult } from '../../lib/core/analysis/run.js';
import { analysisLines, analysisRollout, progressLine, type LiveWeights } from '../../lib/local/demo.js';
import { demoRollout, demoRolloutDocument } from './fixtures.js';

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

describe("the demo's second act", () => {
  it('adds an analysis step with both templates and their args between 20% and 50%', () => {
    const rollout = analysisRollout(demoRolloutDocument(), 'http://127.0.0.1:9090');
    expect(rollout.canary.steps).toEqual([
      { setWeight: 20 },
      { pause: { durationSeconds: 10 } },
      {
        analysis: expect.objectContaining({
          templates: [
            { templateName: 'success-rate', clusterScope: false },
            { templateName: 'latency', clusterScope: false },
          ],
          args: [
            { name: 'service-name', value: 'rollouts-demo-canary.default.svc.cluster.local' },
            { name: 'prometheus-address', value: 'http://127.0.0.1:9090' },
          ],
        }),
      },
      { setWeight: 50 },
      { pause: { durationSeconds: 10 } },
    ]);
    // The rest of the first act's Rollout is kept.
    expect(rollout.canary.virtualServices).toEqual(demoRollout().canary.virtualServices);
  });

  it('prints each measurement once, then the run’s outcome once', () => {
    const result = (name: string, values: [string, 'Successful' | 'Failed'][]): MetricResult => ({
      name,
      phase: 'Running',
      count: values.length,
      successful: 0,
      failed: 0,
      inconclusive: 0,
      error: 0,
      consecutiveError: 0,
      consecutiveSuccess: 0,
      taken: values.length,
      measurements: values.map(([value, phase], index) => ({
        index,
        phase,
        at: '2026-11-26T10:00:00.000Z',
        value,
      })),
    });
    const run = (phase: AnalysisRun['phase'], measured: number): AnalysisRun => ({
      id: 'r3-step3-1',
      kind: 'Step',
      stepIndex: 2,
      templates: [],
      startedAt: '2026-11-26T10:00:00.000Z',
      phase,
      ...(phase === 'Failed'
        ? { message: 'Metric "success-rate" assessed Failed due to failed (2) > failureLimit (1)' }
        : {}),
      secrets: [],
      metrics: [],
      results: [
        result(
          'success-rate',
          (
            [
              ['[0.4812345]', 'Failed'],
              ['[0.51]', 'Failed'],
            ] as [string, 'Failed'][]
          ).slice(0, measured),
        ),
      ],
    });
    const status = (analysisRun: AnalysisRun): RolloutStatus => ({
      phase: 'Progressing',
      revision: 3,
      stepIndex: 2,
      weight: 20,
      analysis: { runs: 1, step: analysisRun },
    });
    const seen = new Set<string>();
    expect(analysisLines(status(run('Running', 1)), seen)).toEqual([
      '  analysis success-rate #1 [0.4812] Failed',
    ]);
    expect(analysisLines(status(run('Running', 1)), seen)).toEqual([]);
    expect(analysisLines(status(run('Failed', 2)), seen)).toEqual([
      '  analysis success-rate #2 [0.51] Failed',
      '  analysis run r3-step3-1 Failed: Metric "success-rate" assessed Failed due to failed (2) > failureLimit (1)',
    ]);
    expect(analysisLines(status(run('Failed', 2)), seen)).toEqual([]);
  });
});
