/**
 * The assessment rules, each as a table; the cases mirror Argo Rollouts' analysis/analysis_test.go
 * (TestAssessMetricStatus*, TestAssessRunStatus*, TestGenerateMetricTasks*, TestCalculateNextReconcile*).
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { freezeMetric, type FrozenMetric } from '../../lib/core/analysis/metric.js';
import {
  assessMetric,
  assessRun,
  ERROR_RETRY_MS,
  recordMeasurement,
  startRun,
  terminateRun,
  type AnalysisRun,
  type MetricResult,
} from '../../lib/core/analysis/run.js';
import { measurementsDue, nextMeasurementAt, withSecrets } from '../../lib/core/analysis/schedule.js';
import type { AnalysisTemplate, MetricSpec } from '../../lib/core/analysis/template.js';
import { err, ok } from '../../lib/core/result.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const PROVIDER = { prometheus: { address: 'http://prometheus:9090', query: 'up' } };

function metric(fields: Partial<MetricSpec> = {}, dryRun = false, retention?: number): FrozenMetric {
  const frozen = freezeMetric(
    { name: 'success-rate', provider: PROVIDER, ...fields },
    { dryRun, ...(retention ? { measurementRetention: retention } : {}) },
  );
  if (!frozen.ok) throw new Error(frozen.error);
  return frozen.value;
}

function result(fields: Partial<MetricResult> = {}): MetricResult {
  const taken =
    fields.taken ??
    (fields.successful ?? 0) + (fields.failed ?? 0) + (fields.inconclusive ?? 0) + (fields.error ?? 0);
  return {
    name: 'success-rate',
    phase: 'Running',
    count: (fields.successful ?? 0) + (fields.failed ?? 0) + (fields.inconclusive ?? 0),
    successful: 0,
    failed: 0,
    inconclusive: 0,
    error: 0,
    consecutiveError: 0,
    consecutiveSuccess: 0,
    taken,
    measurements: taken ? [{ index: taken - 1, phase: 'Successful', at: new Date(T0).toISOString() }] : [],
    ...fields,
  };
}

function template(metrics: Partial<MetricSpec>[], extra: Partial<AnalysisTemplate> = {}): AnalysisTemplate {
  return {
    kind: 'AnalysisTemplate',
    name: 'success-rate',
    namespace: 'default',
    args: [],
    metrics: metrics.map((fields, index) => ({ name: `m${index}`, provider: PROVIDER, ...fields })),
    dryRun: [],
    measurementRetention: [],
    ...extra,
  };
}

function run(metrics: Partial<MetricSpec>[], extra: Partial<AnalysisTemplate> = {}): AnalysisRun {
  return startRun({
    id: 'r2-step1-1',
    kind: 'Step',
    stepIndex: 0,
    templates: [template(metrics, extra)],
    args: [],
    fields: { revision: 2 },
    now: T0,
  });
}

/** Feeds values (or errors) to one metric, a second apart, and assesses after each. */
function feed(start: AnalysisRun, values: (number | Error)[], metricName = 'm0'): AnalysisRun {
  let current = start;
  values.forEach((value, step) => {
    const index = current.results.find((item) => item.name === metricName)?.taken ?? 0;
    const next = recordMeasurement(current, {
      metric: metricName,
      index,
      at: T0 + (step + 1) * 1000,
      result: value instanceof Error ? err(value.message) : ok({ value }),
    });
    current = assessRun(next ?? current, T0 + (step + 1) * 1000);
  });
  return current;
}

describe('assessMetric (Argo assessMetricStatus)', () => {
  it('no measurements: Pending, or Successful when terminating (TestAssessMetricStatusNoMeasurements)', () => {
    expect(assessMetric(metric(), result({ phase: 'Pending' }), false).phase).toBe('Pending');
    expect(assessMetric(metric(), result({ phase: 'Pending' }), true).phase).toBe('Successful');
  });

  it.each([
    // failureLimit, failed, terminating, phase  (TestAssessMetricStatusFailureLimit)
    [2, 3, false, 'Failed'],
    [2, 3, true, 'Failed'],
    [3, 3, false, 'Running'],
    [3, 3, true, 'Successful'],
    [0, 1, false, 'Failed'],
    [-1, 50, false, 'Running'],
  ])('failureLimit %d with %d failed (terminating %p): %s', (failureLimit, failed, terminating, phase) => {
    const fields = failureLimit === -1 ? { consecutiveSuccessLimit: 100 } : {};
    expect(
      assessMetric(metric({ failureLimit, interval: '60s', ...fields }), result({ failed }), terminating)
        .phase,
    ).toBe(phase);
  });

  it('failed (4) > failureLimit (3) is the reason, in Argo words', () => {
    expect(assessMetric(metric({ failureLimit: 3, interval: '1m' }), result({ failed: 4 }), false)).toEqual({
      phase: 'Failed',
      reason: 'failed (4) > failureLimit (3)',
    });
  });

  it.each([
    // inconclusiveLimit, inconclusive, terminating, phase (TestAssessMetricStatusInconclusiveLimit)
    [2, 3, false, 'Inconclusive'],
    [2, 3, true, 'Inconclusive'],
    [3, 3, false, 'Running'],
    [3, 3, true, 'Successful'],
    [0, 1, false, 'Inconclusive'],
  ])(
    'inconclusiveLimit %d with %d inconclusive (terminating %p): %s',
    (limit, inconclusive, terminating, phase) => {
      expect(
        assessMetric(
          metric({ inconclusiveLimit: limit, interval: '60s' }),
          result({ inconclusive }),
          terminating,
        ).phase,
      ).toBe(phase);
    },
  );

  it.each([
    // consecutiveErrorLimit (default 4), consecutive errors, terminating, phase (TestAssessMetricStatusConsecutiveErrors)
    [undefined, 5, false, 'Error'],
    [undefined, 5, true, 'Error'],
    [undefined, 4, false, 'Running'],
    [undefined, 4, true, 'Successful'],
    [0, 1, false, 'Error'],
    [2, 3, false, 'Error'],
  ])(
    'consecutiveErrorLimit %p with %d consecutive errors (terminating %p): %s',
    (limit, errors, terminating, phase) => {
      const fields = limit === undefined ? {} : { consecutiveErrorLimit: limit };
      expect(
        assessMetric(
          metric({ interval: '60s', ...fields }),
          result({ error: errors, consecutiveError: errors, successful: 1 }),
          terminating,
        ).phase,
      ).toBe(phase);
    },
  );

  it('error wins over inconclusive, which wins over failed (Argo checks them in that order)', () => {
    const all = result({ failed: 1, inconclusive: 1, error: 5, consecutiveError: 5 });
    expect(assessMetric(metric({ interval: '1m' }), all, false).phase).toBe('Error');
    expect(assessMetric(metric({ interval: '1m' }), { ...all, consecutiveError: 0 }, false).phase).toBe(
      'Inconclusive',
    );
  });

  // TestAssessMetricStatusConsecutiveSuccessLimit: failureLimit -1, 3 failed, 4 successful, 3 in a row, count 7
  it.each([
    [3, undefined, false, 'Successful'],
    [3, undefined, true, 'Successful'],
    [5, undefined, false, 'Running'],
    [5, undefined, true, 'Successful'],
    [5, 7, false, 'Failed'],
    [5, 7, true, 'Failed'],
    [3, 7, false, 'Successful'],
    [3, 9, false, 'Successful'],
    [5, 9, false, 'Running'],
    [5, 9, true, 'Successful'],
  ])('consecutiveSuccessLimit %d, count %p (terminating %p): %s', (limit, count, terminating, phase) => {
    const spec = {
      consecutiveSuccessLimit: limit,
      failureLimit: -1,
      interval: '60s',
      ...(count ? { count } : {}),
    };
    const fields = { failed: 3, successful: 4, consecutiveSuccess: 3 };
    expect(assessMetric(metric(spec), result(fields), terminating).phase).toBe(phase);
  });

  // TestAssessMetricStatusFailureLimitAndConsecutiveSuccessLimit: both limits 4
  it.each([
    [undefined, 3, 4, 3, false, 'Running'],
    [undefined, 3, 4, 3, true, 'Successful'],
    [undefined, 5, 9, 0, false, 'Failed'],
    [undefined, 3, 5, 4, false, 'Successful'],
    [undefined, 5, 5, 4, false, 'Failed'],
    [10, 4, 6, 3, false, 'Inconclusive'],
    [10, 4, 6, 3, true, 'Inconclusive'],
    [10, 5, 5, 3, false, 'Failed'],
    [10, 4, 6, 4, false, 'Successful'],
    [10, 3, 5, 3, false, 'Running'],
    [10, 3, 5, 3, true, 'Successful'],
    [10, 5, 4, 4, true, 'Failed'],
  ])(
    'failureLimit 4 + consecutiveSuccessLimit 4, count %p, failed %d, successful %d, in a row %d (terminating %p): %s',
    (count, failed, successful, consecutiveSuccess, terminating, phase) => {
      const spec = {
        failureLimit: 4,
        consecutiveSuccessLimit: 4,
        interval: '60s',
        ...(count ? { count } : {}),
      };
      expect(
        assessMetric(metric(spec), result({ failed, successful, consecutiveSuccess }), terminating).phase,
      ).toBe(phase);
    },
  );

  it('count reached: Successful; with inconclusive over the limit: Inconclusive (TestAssessMetricStatusCountReached)', () => {
    const counted = metric({ count: 10, interval: '1m' });
    expect(assessMetric(counted, result({ successful: 10 }), false).phase).toBe('Successful');
    expect(assessMetric(counted, result({ successful: 5, inconclusive: 5 }), false).phase).toBe(
      'Inconclusive',
    );
  });

  it('deliberate difference: count reached with zero successful measurements is Inconclusive, and says why', () => {
    const verdict = assessMetric(
      metric({ count: 3, failureLimit: 3, interval: '1m' }),
      result({ failed: 3, error: 2 }),
      false,
    );
    expect(verdict.phase).toBe('Inconclusive');
    expect(verdict.reason).toBe(
      'count (3) reached with no successful measurement (failed 3, inconclusive 0, errors 2); serverless-rollouts does not count that as a success, unlike Argo Rollouts',
    );
  });

  it('a completed metric keeps its phase', () => {
    expect(assessMetric(metric(), result({ phase: 'Failed', successful: 9 }), false).phase).toBe('Failed');
  });
});

describe('measurements (Argo runMeasurements counters and EvaluateResult)', () => {
  it('successCondition only: true is Successful, false is Failed; counters follow', () => {
    const done = feed(
      run([{ successCondition: 'result >= 0.95', interval: '1m', failureLimit: 5 }]),
      [0.99, 0.9, 0.97],
    );
    expect(done.results[0]).toMatchObject({
      successful: 2,
      failed: 1,
      count: 3,
      consecutiveSuccess: 1,
      taken: 3,
      phase: 'Running',
    });
    expect(done.results[0]?.measurements.map((m) => [m.phase, m.value])).toEqual([
      ['Successful', '0.99'],
      ['Failed', '0.9'],
      ['Successful', '0.97'],
    ]);
  });

  it.each([
    // success, failure, value, phase
    ['result > 1', 'result < 0', 5, 'Successful'],
    ['result > 1', 'result < 0', -5, 'Failed'],
    ['result > 1', 'result < 0', 0.5, 'Inconclusive'],
    ['result > 1', 'result > 2', 3, 'Failed'],
    [undefined, 'result < 0', 0.5, 'Successful'],
    [undefined, 'result < 0', -1, 'Failed'],
    ['result > 1', undefined, 0.5, 'Failed'],
    [undefined, undefined, 42, 'Successful'],
  ])(
    'successCondition %p, failureCondition %p, result %p: %s',
    (successCondition, failureCondition, value, phase) => {
      const spec = {
        ...(successCondition ? { successCondition } : {}),
        ...(failureCondition ? { failureCondition } : {}),
      };
      const done = feed(run([{ ...spec, interval: '1m', failureLimit: 9, inconclusiveLimit: 9 }]), [value]);
      expect(done.results[0]?.measurements[0]?.phase).toBe(phase);
    },
  );

  it('an error resets nothing but the consecutive successes; a value after errors resets the consecutive errors (TestRunMeasurementsResetConsecutiveErrorCounter)', () => {
    const start = run([{ successCondition: 'result > 0', interval: '1m' }]);
    const errored = feed(start, [1, new Error('timeout'), new Error('timeout')]);
    expect(errored.results[0]).toMatchObject({
      consecutiveError: 2,
      error: 2,
      consecutiveSuccess: 0,
      count: 1,
    });
    const recovered = feed(errored, [1]);
    expect(recovered.results[0]).toMatchObject({
      consecutiveError: 0,
      error: 2,
      consecutiveSuccess: 1,
      count: 2,
    });
  });

  it('five errors in a row (> consecutiveErrorLimit 4) make the metric and the run Error with the provider message', () => {
    const errors = Array.from(
      { length: 5 },
      () => new Error('Post "http://prometheus:9090": connection refused'),
    );
    const done = feed(run([{ successCondition: 'result > 0', interval: '1m' }]), errors);
    expect(done.phase).toBe('Error');
    expect(done.message).toBe(
      'Metric "m0" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4): "Error Message: Post "http://prometheus:9090": connection refused"',
    );
  });

  it('a condition that cannot be evaluated is an Error measurement saying why (empty result)', () => {
    const done = feed(run([{ successCondition: 'result[0] >= 0.95', interval: '1m' }]), [
      [] as unknown as number,
    ]);
    expect(done.results[0]?.measurements[0]).toMatchObject({
      phase: 'Error',
      message:
        'could not evaluate successCondition "result[0] >= 0.95": metric result is nil or empty: no data returned from the metric provider',
    });
  });

  it('measurementRetention keeps the last N; the default is 10 (TestTrimMeasurementHistory)', () => {
    const values = Array.from({ length: 12 }, (_, i) => i + 1);
    const kept = feed(
      run([{ interval: '1m' }], { measurementRetention: [{ metricName: 'm0', limit: 3 }] }),
      values,
    );
    expect(kept.results[0]?.measurements.map((m) => m.index)).toEqual([9, 10, 11]);
    expect(kept.results[0]?.taken).toBe(12);
    const defaulted = feed(run([{ interval: '1m' }]), values);
    expect(defaulted.results[0]?.measurements).toHaveLength(10);
  });

  it('no run counts a measurement twice, nor one for another run, another metric, or an index not yet due', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            runId: fc.constantFrom('r2-step1-1', 'r1-step1-1'),
            metric: fc.constantFrom('m0', 'm1', 'nope'),
            index: fc.integer({ min: 0, max: 6 }),
            value: fc.double({ min: 0, max: 1, noNaN: true }),
          }),
          { maxLength: 40 },
        ),
        (deliveries) => {
          let current = run([{ interval: '1m', successCondition: 'result >= 0' }, { interval: '1m' }]);
          const counted = new Set<string>();
          for (const delivery of deliveries) {
            if (delivery.runId !== current.id) continue;
            const next = recordMeasurement(current, {
              metric: delivery.metric,
              index: delivery.index,
              at: T0,
              result: ok({ value: delivery.value }),
            });
            if (!next) continue;
            const key = `${delivery.metric}/${delivery.index}`;
            expect(counted.has(key)).toBe(false);
            counted.add(key);
            current = next;
          }
          for (const item of current.results) {
            expect(item.taken).toBe([...counted].filter((key) => key.startsWith(`${item.name}/`)).length);
            expect(item.successful).toBe(item.taken);
          }
        },
      ),
    );
  });
});

describe('assessRun (Argo assessRunStatus)', () => {
  it('Running while one metric is; then the worst completed metric (TestAssessRunStatus)', () => {
    let current = run([
      { interval: '1m', count: 2 },
      { count: 1, successCondition: 'result > 0' },
    ]);
    current = feed(current, [1], 'm1');
    expect(current.results.map((item) => item.phase)).toEqual(['Pending', 'Successful']);
    expect(current.phase).toBe('Running');
    current = feed(current, [1, 1], 'm0');
    expect(current.phase).toBe('Successful');
    expect(current.message).toBeUndefined();
  });

  it.each([
    ['Successful', 'Failed', 'Failed'],
    ['Inconclusive', 'Error', 'Error'],
    ['Inconclusive', 'Successful', 'Inconclusive'],
    ['Error', 'Failed', 'Failed'],
  ])('%s and %s: %s (Successful < Running < Pending < Inconclusive < Error < Failed)', (a, b, expected) => {
    const value = { Successful: 1, Failed: -1, Inconclusive: 0 } as Record<string, number>;
    const spec = (phase: string): Partial<MetricSpec> => ({
      successCondition: 'result > 0',
      failureCondition: 'result < 0',
      ...(phase === 'Error' ? { consecutiveErrorLimit: 0 } : {}),
    });
    let current = run([spec(a), spec(b)]);
    const input = (phase: string) => (phase === 'Error' ? new Error('boom') : (value[phase] as number));
    // Feed both before assessing, so neither stops the other first.
    for (const [name, phase] of [
      ['m0', a],
      ['m1', b],
    ] as const) {
      const measured = input(phase);
      current =
        recordMeasurement(current, {
          metric: name,
          index: 0,
          at: T0 + 1000,
          result: measured instanceof Error ? err(measured.message) : ok({ value: measured }),
        }) ?? current;
    }
    expect(assessRun(current, T0 + 1000).phase).toBe(expected);
  });

  it('a failing metric stops the others at once: the run completes Failed with Argo message (TestReconcileAnalysisRunTerminateSiblingAfterFail)', () => {
    let current = run([
      { successCondition: 'result >= 0.95', failureLimit: 3, interval: '1m' },
      { interval: '1m' },
    ]);
    current = feed(current, [0.5, 0.5, 0.5, 0.5]);
    expect(current.phase).toBe('Failed');
    expect(current.message).toBe('Metric "m0" assessed Failed due to failed (4) > failureLimit (3)');
    expect(current.results[1]?.phase).toBe('Successful');
    expect(current.completedAt).toBe(new Date(T0 + 4000).toISOString());
    expect(measurementsDue([current], T0 + 3_600_000).due).toEqual([]);
  });

  it('dry-run: a failing dry-run metric never fails the run, and its message says so (TestAssessRunStatusErrorMessageAnalysisPhaseFailInDryRunMode)', () => {
    let current = run([{ successCondition: 'result > 0' }, { successCondition: 'result > 0' }], {
      dryRun: [{ metricName: 'm1' }],
    });
    current = feed(current, [1], 'm0');
    current = feed(current, [-1], 'm1');
    expect(current.phase).toBe('Successful');
    expect(current.results[1]).toMatchObject({
      phase: 'Failed',
      message:
        'Metric assessed Failed due to failed (1) > failureLimit (0) (dry run: does not affect the run)',
    });
  });

  it('only dry-run metrics: Successful whatever they measure (TestAssessRunStatusWithOnlyDryRunMetrics)', () => {
    const current = feed(run([{ successCondition: 'result > 0' }], { dryRun: [{ metricName: '.*' }] }), [-1]);
    expect(current.phase).toBe('Successful');
  });

  it.each([
    ['*', ['m0', 'm1', 'other']],
    ['.*', ['m0', 'm1', 'other']],
    ['m', ['m0', 'm1']],
    ['^m1$', ['m1']],
  ])(
    'dryRun metricName %p (a regular expression, unanchored as Go regexp.MatchString) marks %p',
    (pattern, names) => {
      const current = run([{}, {}], { dryRun: [{ metricName: pattern }] });
      const withOther = startRun({
        ...{
          id: 'x',
          kind: 'Step',
          templates: [
            template([{}, {}], { dryRun: [{ metricName: pattern }] }),
            { ...template([]), name: 'other-template', metrics: [{ name: 'other', provider: PROVIDER }] },
          ],
          args: [],
          fields: { revision: 1 },
          now: T0,
        },
      });
      expect(withOther.metrics.filter((item) => item.dryRun).map((item) => item.name)).toEqual(names);
      expect(current.phase).toBe('Pending');
    },
  );

  it.each([
    [
      { dryRun: [{ metricName: 'nothing-matches' }] },
      "Analysis spec invalid: dryRun[0]: Rule didn't match any metric name(s)",
    ],
    [
      { measurementRetention: [{ metricName: 'nope', limit: 2 }] },
      "Analysis spec invalid: measurementRetention[0]: Rule didn't match any metric name(s)",
    ],
    [
      { dryRun: [{ metricName: 'm0' }, { metricName: 'm0' }] },
      "Analysis spec invalid: two Dry-Run metric rules have the same name 'm0'",
    ],
  ])(
    'invalid rules make the run Error at start (TestInvalidDryRunConfigThrowsError): %p',
    (extra, message) => {
      expect(run([{}], extra)).toMatchObject({ phase: 'Error', message });
    },
  );

  it('terminating: metrics still measuring end Successful with "Run Terminated" (TestTerminateAnalysisRun)', () => {
    const current = feed(run([{ interval: '1m', successCondition: 'result > 0' }]), [1]);
    const stopped = terminateRun(current, T0 + 5000);
    expect(stopped).toMatchObject({ phase: 'Successful', message: 'Run Terminated', terminated: true });
    expect(measurementsDue([stopped], T0 + 3_600_000).due).toEqual([]);
  });

  it('terminating keeps a failure already assessed', () => {
    const current = feed(
      run([{ interval: '1m', successCondition: 'result > 0', failureLimit: 0 }, { interval: '1m' }]),
      [-1],
    );
    expect(terminateRun(current, T0 + 5000).phase).toBe('Failed');
  });
});

describe('which measurements are due (Argo generateMetricTasks / calculateNextReconcileTime)', () => {
  it('the first measurement is due at once; the next after the interval from when the last finished (TestGenerateMetricTasksInterval)', () => {
    const fresh = run([{ interval: '30s' }]);
    expect(measurementsDue([fresh], T0).due).toEqual([
      { runId: 'r2-step1-1', metric: 'm0', index: 0, provider: PROVIDER, timeoutMs: 30_000, secrets: [] },
    ]);
    const once = feed(fresh, [1]);
    expect(nextMeasurementAt(once, 0)).toBe(T0 + 1000 + 30_000);
    expect(measurementsDue([once], T0 + 30_999)).toEqual({ due: [], nextAt: T0 + 31_000 });
    expect(measurementsDue([once], T0 + 31_000).due).toMatchObject([{ index: 1 }]);
  });

  it('no count and no interval: one measurement (TestGenerateMetricTasksNoIntervalOrCount)', () => {
    const once = feed(run([{ successCondition: 'result > 0' }]), [1]);
    expect(once.phase).toBe('Successful');
    expect(nextMeasurementAt(once, 0)).toBeUndefined();
  });

  it('count reached: no more measurements', () => {
    const counted = feed(run([{ interval: '10s', count: 2 }, { interval: '1h' }]), [1, 1]);
    expect(nextMeasurementAt(counted, 0)).toBeUndefined();
    expect(counted.results[0]?.phase).toBe('Successful');
  });

  it('initialDelay: nothing before startedAt + delay (TestGenerateMetricTasksHonorInitialDelay, TestCalculateNextReconcileTimeInitialDelay)', () => {
    const delayed = run([{ initialDelay: '2m', interval: '1m' }]);
    expect(measurementsDue([delayed], T0 + 119_999)).toEqual({ due: [], nextAt: T0 + 120_000 });
    expect(measurementsDue([delayed], T0 + 120_000).due).toHaveLength(1);
  });

  it('an errored measurement is retried after 10 s, whatever the interval (TestGenerateMetricTasksError, TestCalculateNextReconcileUponError)', () => {
    const errored = feed(run([{ interval: '5m' }]), [new Error('timeout')]);
    expect(nextMeasurementAt(errored, 0)).toBe(T0 + 1000 + ERROR_RETRY_MS);
  });

  it('the earliest metric decides the next instant (TestCalculateNextReconcileEarliestMetric)', () => {
    let current = run([{ interval: '5m' }, { interval: '1m' }]);
    current = feed(current, [1], 'm0');
    current = feed(current, [1], 'm1');
    expect(measurementsDue([current], T0 + 2000).nextAt).toBe(T0 + 1000 + 60_000);
  });

  it('a failing run measures nothing more (TestGenerateMetricTasksFailing)', () => {
    const failing = feed(run([{ interval: '1m', successCondition: 'result > 0' }, { interval: '1m' }]), [-1]);
    expect(measurementsDue([failing], T0 + 3_600_000)).toEqual({ due: [], nextAt: null });
  });

  it('timeouts come from the provider block (prometheus timeout, web timeoutSeconds, in seconds)', () => {
    const current = run([
      { provider: { prometheus: { address: 'http://p', query: 'up', timeout: 5 } } },
      { provider: { web: { url: 'http://w', timeoutSeconds: 12 } } },
    ]);
    expect(measurementsDue([current], T0).due.map((entry) => entry.timeoutMs)).toEqual([5000, 12_000]);
  });

  it('secret args stay as placeholders for the runner to fill with withSecrets', () => {
    const secretTemplate = template(
      [{ provider: { web: { url: 'https://api/{{ args.token }}/{{args.site}}' } } }],
      {
        args: [
          { name: 'token', secretsManager: { secretId: 'prod/api', jsonKey: 'token' } },
          { name: 'site', value: 'eu' },
        ],
      },
    );
    const secretRun = startRun({
      id: 'x',
      kind: 'Background',
      templates: [secretTemplate],
      args: [],
      fields: { revision: 1 },
      now: T0,
    });
    const [due] = measurementsDue([secretRun], T0).due;
    expect(due?.provider).toEqual({ web: { url: 'https://api/{{ args.token }}/eu' } });
    expect(due?.secrets).toEqual([
      { name: 'token', secretsManager: { secretId: 'prod/api', jsonKey: 'token' } },
    ]);
    expect(withSecrets(due!, new Map([['token', 's3cr3t']]))).toEqual(
      ok({ web: { url: 'https://api/s3cr3t/eu' } }),
    );
  });
});
