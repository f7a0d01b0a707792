/**
 * Analysis in the step engine, driven the way the runner will drive it: dueMeasurements(status, now),
 * take them, hand them back in the observation with the templates, decide, act.
 */
import { describe, expect, it } from '@jest/globals';
import type { Measurement } from '../../lib/core/analysis/provider.js';
import type { DueMeasurement } from '../../lib/core/analysis/schedule.js';
import type { AnalysisTemplate } from '../../lib/core/analysis/template.js';
import { analysisTemplateRefs, dueMeasurements } from '../../lib/core/engine/analysis.js';
import { decide, initialStatus } from '../../lib/core/engine/decide.js';
import type { Command, Decision, RolloutStatus, TakenMeasurement } from '../../lib/core/engine/types.js';
import type { Rollout } from '../../lib/core/model/rollout.js';
import { err, ok, type Result } from '../../lib/core/result.js';
import { ARGO_SUCCESS_RATE, template } from './analysis-fixtures.js';
import { ModelCluster } from './engine-model.js';
import { demoRollout } from './fixtures.js';

const BLUE = 'argoproj/rollouts-demo:blue';
const YELLOW = 'argoproj/rollouts-demo:yellow';
const T0 = Date.parse('2026-01-01T00:00:00Z');

const SUCCESS_RATE = template(ARGO_SUCCESS_RATE);
/** A quick metric: every 30 s, three measurements, fails on the second failure. */
const QUICK = template(`
apiVersion: serverless-rollouts.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: quick}
spec:
  args: [{name: threshold, value: "0.95"}]
  metrics:
  - name: quick
    interval: 30s
    count: 3
    failureLimit: 1
    successCondition: len(result) > 0 && result[0] >= {{args.threshold}}
    failureCondition: len(result) > 0 && result[0] < 0.5
    provider:
      prometheus: {address: "http://prometheus:9090", query: "up"}
`);
/** Measures until terminated, every 20 s. */
const WATCH = template(`
apiVersion: argoproj.io/v1alpha1
kind: ClusterAnalysisTemplate
metadata: {name: watch}
spec:
  metrics:
  - name: errors
    interval: 20s
    successCondition: result < 0.05
    provider:
      web: {url: "http://metrics.local/errors"}
`);

type Reading = number[] | number | Error;

/** The runner's part: due list -> measurements -> decide -> act, with a clock and a model cluster. */
class Runner {
  now = T0;
  last!: Decision;
  readonly cluster = new ModelCluster(BLUE, 2);
  readonly events: { type: string; message?: string }[] = [];
  readonly asked: DueMeasurement[][] = [];
  /** What each metric reads next; the last value repeats. */
  readings = new Map<string, Reading[]>();
  templates: AnalysisTemplate[] = [QUICK, SUCCESS_RATE, WATCH];

  constructor(
    readonly rollout: Rollout,
    public status: RolloutStatus = initialStatus(BLUE),
  ) {}

  read(metric: string, ...values: Reading[]): this {
    this.readings.set(metric, values);
    return this;
  }

  measure(due: DueMeasurement): TakenMeasurement {
    const queue = this.readings.get(due.metric) ?? [[1]];
    const value = queue.length > 1 ? queue.shift() : queue[0];
    const result: Result<Measurement, string> = value instanceof Error ? err(value.message) : ok({ value });
    return { runId: due.runId, metric: due.metric, index: due.index, at: this.now, result };
  }

  pass(command: Command | null = null, taken?: TakenMeasurement[]): Decision {
    const due = dueMeasurements(this.status, this.now);
    this.asked.push(due);
    const measurements = taken ?? due.map((entry) => this.measure(entry));
    const observation = { ...this.cluster.observe(), analysisTemplates: this.templates, measurements };
    this.last = decide(this.rollout, this.status, observation, command, this.now);
    this.cluster.apply(this.last.actions);
    for (const action of this.last.actions)
      if (action.type === 'emit')
        this.events.push({
          type: action.event.type,
          ...(action.event.message ? { message: action.event.message } : {}),
        });
    this.status = this.last.status;
    return this.last;
  }

  /** Passes at each wake-up until `until` holds or the time limit. */
  runUntil(until: (status: RolloutStatus) => boolean, limitSeconds = 3600): this {
    const end = this.now + limitSeconds * 1000;
    while (!until(this.status) && this.now < end) {
      const wakeAt = this.last?.wakeAt ?? this.now;
      this.now = Math.max(this.now, wakeAt);
      this.pass();
    }
    if (!until(this.status)) throw new Error(`not reached: ${JSON.stringify(this.status, null, 1)}`);
    return this;
  }

  /** A new image, and the pass that brings the canary to the first step once its pods are there. */
  start(): this {
    this.pass({ kind: 'setImage', image: YELLOW });
    this.pass();
    return this;
  }

  advance(seconds: number): this {
    this.now += seconds * 1000;
    return this;
  }

  types(): string[] {
    return this.events.map((event) => event.type);
  }
}

function stepRollout(
  analysis: Record<string, unknown> = { templates: [{ templateName: 'quick' }] },
  steps?: unknown[],
): Rollout {
  return demoRollout((doc) => {
    doc.spec.strategy.canary.steps = steps ?? [{ setWeight: 20 }, { analysis }, { setWeight: 50 }];
  });
}

function backgroundRollout(analysis: Record<string, unknown>, steps?: unknown[]): Rollout {
  return demoRollout((doc) => {
    doc.spec.strategy.canary.analysis = analysis;
    doc.spec.strategy.canary.steps = steps ?? [
      { setWeight: 20 },
      { pause: {} },
      { setWeight: 50 },
      { pause: {} },
    ];
  });
}

describe('the analysis step', () => {
  it('blocks the step while the run measures, then Successful completes it; wakeAt is the next measurement', () => {
    const runner = new Runner(stepRollout()).read('quick', [0.99]);
    runner.start();
    expect(runner.status).toMatchObject({ stepIndex: 1, weight: 20 });
    expect(runner.status.analysis?.step).toMatchObject({ id: 'r2-step2-1', phase: 'Pending', stepIndex: 1 });
    expect(runner.last.wakeAt).toBe(runner.now);
    expect(runner.types()).toContain('Analysis Run Started');

    runner.pass();
    expect(runner.status.analysis?.step?.results[0]).toMatchObject({ successful: 1, taken: 1 });
    expect(runner.last.wakeAt).toBe(T0 + 30_000);
    expect(runner.status).toMatchObject({ phase: 'Progressing', stepIndex: 1 });

    runner.runUntil((status) => status.stepIndex > 1);
    expect(runner.now).toBe(T0 + 60_000);
    expect(runner.status.analysis?.step).toMatchObject({ phase: 'Successful' });
    expect(runner.events.filter((event) => event.type.startsWith('Analysis'))).toEqual([
      {
        type: 'Analysis Run Started',
        message: 'Step-based analysis run r2-step2-1 started (AnalysisTemplate default/quick)',
      },
      { type: 'Analysis Run Successful', message: 'Step-based analysis run r2-step2-1 Successful' },
    ]);
    runner.runUntil((status) => status.phase === 'Healthy');
    expect(runner.status.stableImage).toBe(YELLOW);
  });

  it("the Rollout's args reach the provider block and the conditions (Argo's success-rate template)", () => {
    const runner = new Runner(
      stepRollout({
        templates: [{ templateName: 'success-rate' }],
        args: [{ name: 'service-name', value: 'rollouts-demo-canary.default.svc.cluster.local' }],
      }),
    );
    runner.start();
    const [due] = dueMeasurements(runner.status, runner.now);
    expect(due?.metric).toBe('success-rate');
    expect(String((due?.provider.prometheus as { query: string }).query)).toContain(
      'destination_service=~"rollouts-demo-canary.default.svc.cluster.local"',
    );
  });

  it('Failed aborts the rollout, traffic back to stable, with Argo message', () => {
    const runner = new Runner(stepRollout()).read('quick', [0.3]);
    runner.start();
    runner.runUntil((status) => status.phase === 'Degraded');
    const message =
      'Rollout aborted update to revision 2: Step-based analysis phase failed: Metric "quick" assessed Failed due to failed (2) > failureLimit (1)';
    expect(runner.status).toMatchObject({ phase: 'Degraded', weight: 0, message });
    expect(runner.cluster.weight).toBe(0);
    expect(runner.types().slice(-2)).toEqual(['Analysis Run Failed', 'Rollout Aborted']);
    expect(runner.events.at(-1)?.message).toBe(message);
  });

  it('Error (provider failing more than consecutiveErrorLimit times, retried every 10 s) aborts it', () => {
    const runner = new Runner(stepRollout()).read(
      'quick',
      new Error('Post "http://prometheus:9090/api/v1/query": connection refused'),
    );
    runner.start();
    runner.runUntil((status) => status.phase === 'Degraded');
    expect(runner.now).toBe(T0 + 40_000);
    expect(runner.status.message).toBe(
      'Rollout aborted update to revision 2: Step-based analysis phase failed: Metric "quick" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4): "Error Message: Post "http://prometheus:9090/api/v1/query": connection refused"',
    );
  });

  it('Inconclusive pauses it; promote goes on to the next step', () => {
    const runner = new Runner(stepRollout()).read('quick', [0.7]);
    runner.start();
    runner.runUntil((status) => status.phase === 'Paused');
    expect(runner.status).toMatchObject({
      stepIndex: 1,
      weight: 20,
      pausedForAnalysis: 'Step',
      message:
        'Step-based analysis inconclusive: Metric "quick" assessed Inconclusive due to inconclusive (1) > inconclusiveLimit (0); promote to continue, abort to roll back',
    });
    expect(runner.types().slice(-2)).toEqual(['Analysis Run Inconclusive', 'Rollout Paused']);
    runner.advance(600).pass();
    expect(runner.status.phase).toBe('Paused');
    runner.pass({ kind: 'promote' });
    expect(runner.status).toMatchObject({ stepIndex: 3, weight: 50 });
    expect(runner.status.pausedForAnalysis).toBeUndefined();
  });

  it('Inconclusive pauses it; abort aborts', () => {
    const runner = new Runner(stepRollout()).read('quick', [0.7]);
    runner.start();
    runner.runUntil((status) => status.phase === 'Paused');
    runner.pass({ kind: 'abort' });
    expect(runner.status).toMatchObject({ phase: 'Degraded', weight: 0 });
  });

  it('promote during a running analysis skips the step and terminates its run', () => {
    const runner = new Runner(stepRollout());
    runner.start();
    runner.pass();
    runner.pass({ kind: 'promote' });
    expect(runner.status.stepIndex).toBe(3);
    expect(runner.status.analysis?.step).toMatchObject({
      phase: 'Successful',
      terminated: true,
      message: 'Run Terminated',
    });
    expect(dueMeasurements(runner.status, runner.now + 3_600_000)).toEqual([]);
  });

  it('a missing template holds the rollout as InvalidSpec, saying which and how to fix it', () => {
    const runner = new Runner(
      stepRollout({ templates: [{ templateName: 'nope' }, { templateName: 'watch', clusterScope: true }] }),
    );
    runner.start();
    expect(runner.status).toMatchObject({
      phase: 'InvalidSpec',
      message: 'analysis step 2: AnalysisTemplate default/nope not found; apply it with rollouts apply',
    });
    expect(runner.last.wakeAt).toBe(runner.now + 60_000);
  });

  it('args that cannot be resolved make the run Error at its start: the rollout aborts saying why', () => {
    const runner = new Runner(stepRollout({ templates: [{ templateName: 'success-rate' }] }));
    runner.start();
    expect(runner.status).toMatchObject({
      phase: 'Degraded',
      message:
        "Rollout aborted update to revision 2: Step-based analysis phase failed: Unable to resolve metric arguments: args.service-name was not resolved: the Rollout's analysis args give it no value",
    });
  });

  it('freezes the template and args at the start: a template changed afterwards does not change the run', () => {
    const runner = new Runner(stepRollout()).read('quick', [0.99]);
    runner.start();
    const frozen = runner.status.analysis?.step?.metrics;
    runner.templates = [
      { ...QUICK, metrics: [{ ...QUICK.metrics[0]!, successCondition: 'result[0] > 100' }] },
    ];
    runner.runUntil((status) => status.stepIndex > 1);
    expect(runner.status.analysis?.step?.metrics).toEqual(frozen);
    expect(frozen?.[0]?.successCondition).toBe('len(result) > 0 && result[0] >= 0.95');
  });
});

describe('measurements are counted once', () => {
  it('a pass whose save is lost is redone with the same measurement keys; a repeated or stale delivery is ignored', () => {
    const runner = new Runner(stepRollout()).read('quick', [0.99]);
    runner.start();
    const saved = runner.status;
    const due = dueMeasurements(saved, runner.now);
    const taken = due.map((entry) => runner.measure(entry));
    // The first attempt's save loses its conditional write: its status is discarded.
    runner.pass(null, taken);
    runner.status = saved;
    expect(dueMeasurements(saved, runner.now)).toEqual(due);
    runner.pass(null, [...taken, ...taken]);
    expect(runner.status.analysis?.step?.results[0]).toMatchObject({ taken: 1, successful: 1 });
    // Delivered again with the next pass (or for a run that no longer exists): ignored.
    runner.pass(null, [...taken, { ...taken[0]!, runId: 'r1-step2-1', index: 1 }]);
    expect(runner.status.analysis?.step?.results[0]).toMatchObject({ taken: 1, successful: 1 });
  });

  it('several commands in one pass see the same measurements and count them once', () => {
    const runner = new Runner(stepRollout()).read('quick', [0.99]);
    runner.start();
    const taken = dueMeasurements(runner.status, runner.now).map((entry) => runner.measure(entry));
    const observation = {
      ...runner.cluster.observe(),
      analysisTemplates: runner.templates,
      measurements: taken,
    };
    const first = decide(runner.rollout, runner.status, observation, { kind: 'abort' }, runner.now);
    const second = decide(runner.rollout, first.status, observation, null, runner.now);
    expect(second.status.analysis?.step?.results[0]?.taken).toBe(1);
  });

  it('a measurement the runner did not take is asked for again after a poll, not in a tight loop', () => {
    const runner = new Runner(stepRollout());
    runner.start();
    runner.advance(1).pass(null, []);
    expect(runner.last.wakeAt).toBe(runner.now + 5000);
  });
});

describe('background analysis', () => {
  it('starts at the first step by default, runs while the canary progresses, and is terminated on completion', () => {
    const runner = new Runner(
      backgroundRollout({ templates: [{ templateName: 'watch', clusterScope: true }] }),
    ).read('errors', 0.01);
    runner.start();
    expect(runner.status.analysis?.background).toMatchObject({
      id: 'r2-background-1',
      kind: 'Background',
      phase: 'Running',
    });
    expect(runner.status).toMatchObject({ phase: 'Paused', stepIndex: 1 });
    expect(runner.last.wakeAt).toBe(runner.now + 20_000);
    runner.advance(20).pass();
    expect(runner.status.analysis?.background?.results[0]).toMatchObject({ taken: 2, phase: 'Running' });
    runner.pass({ kind: 'promote' });
    runner.pass({ kind: 'promote' });
    runner.runUntil((status) => status.phase === 'Healthy');
    expect(runner.status.analysis?.background).toMatchObject({
      phase: 'Successful',
      terminated: true,
      message: 'Run Terminated',
    });
    expect(dueMeasurements(runner.status, runner.now + 3_600_000)).toEqual([]);
  });

  it('starts at startingStep', () => {
    const runner = new Runner(
      backgroundRollout({ templates: [{ templateName: 'watch', clusterScope: true }], startingStep: 2 }),
    );
    runner.start();
    expect(runner.status.stepIndex).toBe(1);
    expect(runner.status.analysis?.background).toBeUndefined();
    runner.pass({ kind: 'promote' });
    expect(runner.status.stepIndex).toBe(3);
    expect(runner.status.analysis?.background?.phase).toBe('Pending');
  });

  it('Failed aborts the rollout: "Background analysis phase failed: ..."', () => {
    const runner = new Runner(
      backgroundRollout({ templates: [{ templateName: 'watch', clusterScope: true }] }),
    ).read('errors', 0.01, 0.2);
    runner.start();
    runner.runUntil((status) => status.phase === 'Degraded');
    expect(runner.status.message).toBe(
      'Rollout aborted update to revision 2: Background analysis phase failed: Metric "errors" assessed Failed due to failed (1) > failureLimit (0)',
    );
    expect(runner.cluster.weight).toBe(0);
  });

  it('is terminated by an abort', () => {
    const runner = new Runner(
      backgroundRollout({ templates: [{ templateName: 'watch', clusterScope: true }] }),
    ).read('errors', 0.01);
    runner.start();
    runner.advance(1).pass({ kind: 'abort' });
    expect(runner.status.analysis?.background).toMatchObject({ terminated: true, phase: 'Successful' });
  });

  it('Inconclusive pauses the rollout; promote resumes the same step under a new background run', () => {
    const inconclusive = template(`
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: unsure}
spec:
  metrics:
  - name: unsure
    interval: 10s
    successCondition: result > 1
    failureCondition: result < 0
    provider: {web: {url: "http://x"}}
`);
    const runner = new Runner(
      backgroundRollout({ templates: [{ templateName: 'unsure' }] }, [
        { setWeight: 20 },
        { pause: { duration: '1h' } },
        { setWeight: 50 },
      ]),
    ).read('unsure', 2, 0.5, 2);
    runner.templates = [inconclusive];
    runner.start();
    runner.runUntil((status) => status.pausedForAnalysis === 'Background');
    expect(runner.status).toMatchObject({ phase: 'Paused', stepIndex: 1 });
    expect(runner.status.pauseUntil).toBeUndefined();
    runner.pass({ kind: 'promote' });
    expect(runner.status).toMatchObject({
      phase: 'Paused',
      stepIndex: 1,
      pauseUntil: new Date(runner.now + 3_600_000).toISOString(),
    });
    expect(runner.status.analysis?.background).toMatchObject({ id: 'r2-background-2', phase: 'Pending' });
    expect(runner.status.pausedForAnalysis).toBeUndefined();
  });

  it('a new image forgets the previous runs', () => {
    const runner = new Runner(
      backgroundRollout({ templates: [{ templateName: 'watch', clusterScope: true }] }),
    );
    runner.start();
    runner.pass({ kind: 'setImage', image: 'argoproj/rollouts-demo:red' });
    expect(runner.status.analysis?.background).toMatchObject({ id: 'r3-background-2', phase: 'Pending' });
  });
});

describe('templates the runner loads', () => {
  it('lists every template the steps and the background analysis name, once', () => {
    const rollout = demoRollout((doc) => {
      doc.spec.strategy.canary.analysis = { templates: [{ templateName: 'watch', clusterScope: true }] };
      doc.spec.strategy.canary.steps = [
        {
          analysis: { templates: [{ templateName: 'quick' }, { templateName: 'watch', clusterScope: true }] },
        },
        { analysis: { templates: [{ templateName: 'quick' }] } },
      ];
    });
    expect(analysisTemplateRefs(rollout)).toEqual([
      { kind: 'AnalysisTemplate', namespace: 'default', name: 'quick' },
      { kind: 'ClusterAnalysisTemplate', name: 'watch' },
    ]);
  });
});
