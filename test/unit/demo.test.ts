import { describe, expect, it } from '@jest/globals';
import type { StoredRollout } from '../../lib/adapters/dynamodb/types.js';
import type { RolloutStatus } from '../../lib/core/engine/types.js';
import { join } from 'node:path';
import { assessRun, recordMeasurement, startRun } from '../../lib/core/analysis/run.js';
import { parseAnalysisTemplate } from '../../lib/core/analysis/template.js';
import { ok } from '../../lib/core/result.js';
import { readManifests, REPO_ROOT } from '../../lib/local/testcluster.js';
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
    // A run of the demo's success-rate template, measured as the engine counts measurements.
    const [template] = readManifests(join(REPO_ROOT, 'examples/istio-demo/analysis'), 'success-rate.yaml');
    const parsed = parseAnalysisTemplate(template);
    if (!parsed.ok) throw new Error(parsed.error.join('; '));
    const T = Date.parse('2026-11-26T10:00:00Z');
    let run = startRun({
      id: 'r3-step3-1',
      kind: 'Step',
      stepIndex: 2,
      templates: [parsed.value],
      args: [
        { name: 'service-name', value: 'rollouts-demo-canary.default.svc.cluster.local' },
        { name: 'prometheus-address', value: 'http://127.0.0.1:9090' },
      ],
      fields: { revision: 3 },
      now: T,
    });
    const measure = (index: number, value: number) => {
      const taken = { metric: 'success-rate', index, at: T + index * 10_000, result: ok({ value: [value] }) };
      run = assessRun(recordMeasurement(run, taken) ?? run, taken.at);
      return {
        phase: 'Progressing',
        revision: 3,
        stepIndex: 2,
        weight: 20,
        analysis: { runs: 1, step: run },
      } as RolloutStatus;
    };
    const seen = new Set<string>();
    const first = measure(0, 0.4812345);
    expect(analysisLines(first, seen)).toEqual(['  analysis success-rate #1 [0.4812] Failed']);
    expect(analysisLines(first, seen)).toEqual([]);
    const second = measure(1, 0.51);
    expect(analysisLines(second, seen)).toEqual([
      '  analysis success-rate #2 [0.51] Failed',
      '  analysis run r3-step3-1 Failed: Metric "success-rate" assessed Failed due to failed (2) > failureLimit (1)',
    ]);
    expect(analysisLines(second, seen)).toEqual([]);
  });
});
