/**
 * Analysis in the step engine: runs start from the templates the runner observed, count the
 * measurements it took, and move the rollout as Argo Rollouts does: Failed or Error aborts it,
 * Inconclusive pauses it (promote goes on, abort rolls back), Successful completes the step.
 * Background analysis runs from startingStep until the rollout completes or aborts.
 */
import {
  isCompleted,
  recordMeasurement,
  assessRun,
  startRun,
  terminateRun,
  type AnalysisRun,
  type RunKind,
} from '../analysis/run.js';
import { measurementsDue, type DueMeasurement } from '../analysis/schedule.js';
import type { AnalysisTemplate } from '../analysis/template.js';
import { findTemplate, refLabel } from '../analysis/template-refs.js';
import type { Rollout, RolloutAnalysis } from '../model/rollout.js';
import type { Pass } from './decide.js';
import type { AnalysisStatus, LifecycleEventType, RolloutStatus } from './types.js';

const RUN_LABEL: Record<RunKind, string> = { Step: 'Step-based', Background: 'Background' };

export interface TemplateRef {
  kind: 'AnalysisTemplate' | 'ClusterAnalysisTemplate';
  /** Absent for a ClusterAnalysisTemplate. */
  namespace?: string;
  name: string;
}

/** Every template the Rollout's analysis steps and background analysis name: what the runner loads into the observation. */
export function analysisTemplateRefs(rollout: Rollout): TemplateRef[] {
  const blocks = [
    ...rollout.canary.steps.flatMap((step) => ('analysis' in step ? [step.analysis] : [])),
    ...(rollout.canary.analysis ? [rollout.canary.analysis] : []),
  ];
  const refs = new Map<string, TemplateRef>();
  for (const ref of blocks.flatMap((block) => block.templates)) {
    const found: TemplateRef = ref.clusterScope
      ? { kind: 'ClusterAnalysisTemplate', name: ref.templateName }
      : { kind: 'AnalysisTemplate', namespace: rollout.namespace, name: ref.templateName };
    refs.set(`${found.kind}/${found.namespace ?? ''}/${found.name}`, found);
  }
  return [...refs.values()];
}

function activeRuns(status: RolloutStatus): AnalysisRun[] {
  const { step, background } = status.analysis ?? {};
  return [step, background].filter((run): run is AnalysisRun => run !== undefined && !isCompleted(run.phase));
}

/**
 * What the runner measures now for this status: each entry's provider block (args substituted;
 * fill secrets with `withSecrets`), its timeout, and the key (runId, metric, index) to hand back.
 */
export function dueMeasurements(status: RolloutStatus, now: number | Date): DueMeasurement[] {
  return measurementsDue(activeRuns(status), now instanceof Date ? now.getTime() : now).due;
}

function setRun(pass: Pass, kind: RunKind, run: AnalysisRun | undefined): void {
  const analysis: AnalysisStatus = { runs: pass.status.analysis?.runs ?? 0, ...pass.status.analysis };
  if (run) analysis[kind === 'Step' ? 'step' : 'background'] = run;
  else delete analysis[kind === 'Step' ? 'step' : 'background'];
  pass.update({ analysis });
}

function emitCompletion(pass: Pass, run: AnalysisRun): void {
  const type = `Analysis Run ${run.phase}` as LifecycleEventType;
  pass.emit(type, {
    ...(run.stepIndex !== undefined ? { stepIndex: run.stepIndex } : {}),
    message: `${RUN_LABEL[run.kind]} analysis run ${run.id} ${run.phase}${run.message ? `: ${run.message}` : ''}`,
  });
}

/** Counts the runner's measurements into their runs (each once: see recordMeasurement) and assesses them. */
export function ingestMeasurements(pass: Pass): void {
  for (const kind of ['Step', 'Background'] as const) {
    const before = kind === 'Step' ? pass.status.analysis?.step : pass.status.analysis?.background;
    if (!before || isCompleted(before.phase)) continue;
    let run = before;
    for (const taken of pass.observation.measurements ?? []) {
      if (taken.runId !== run.id) continue;
      run = recordMeasurement(run, taken) ?? run;
    }
    run = assessRun(run, pass.now);
    if (run === before) continue;
    setRun(pass, kind, run);
    if (isCompleted(run.phase)) emitCompletion(pass, run);
  }
}

/** Starts a run from the observed templates; false (and the Rollout marked InvalidSpec) when one is missing. */
function start(pass: Pass, kind: RunKind, analysis: RolloutAnalysis): AnalysisRun | undefined {
  const { rollout, status } = pass;
  const templates: AnalysisTemplate[] = [];
  const missing: string[] = [];
  for (const ref of analysis.templates) {
    const found = findTemplate(pass.observation.analysisTemplates ?? [], ref, rollout.namespace);
    if (found) templates.push(found);
    else missing.push(refLabel(ref, rollout.namespace));
  }
  if (missing.length) {
    const where = kind === 'Step' ? `analysis step ${status.stepIndex + 1}` : 'background analysis';
    pass.update({
      phase: 'InvalidSpec',
      message: `${where}: ${missing.join(', ')} not found; apply it with rollouts apply`,
    });
    pass.resync();
    return undefined;
  }
  const number = (status.analysis?.runs ?? 0) + 1;
  const run = startRun({
    id: `r${status.revision}-${kind === 'Step' ? `step${status.stepIndex + 1}` : 'background'}-${number}`,
    kind,
    ...(kind === 'Step' ? { stepIndex: status.stepIndex } : {}),
    templates,
    args: analysis.args,
    dryRun: analysis.dryRun,
    measurementRetention: analysis.measurementRetention,
    fields: {
      revision: status.revision,
      ...(status.canaryImage ? { canaryImage: status.canaryImage } : {}),
      ...(status.stableImage ? { stableImage: status.stableImage } : {}),
    },
    now: pass.now,
  });
  pass.update({ analysis: { ...status.analysis, runs: number } });
  setRun(pass, kind, run);
  pass.emit('Analysis Run Started', {
    ...(run.stepIndex !== undefined ? { stepIndex: run.stepIndex } : {}),
    message: `${RUN_LABEL[kind]} analysis run ${run.id} started (${run.templates.join(', ')})`,
  });
  if (isCompleted(run.phase)) emitCompletion(pass, run);
  return run;
}

/** Whether analysis may still turn the rollout back: not once the stable Deployment takes the image. */
function abortable(status: RolloutStatus): boolean {
  return (
    (status.phase === 'Progressing' || status.phase === 'Paused' || status.phase === 'Promoting') &&
    status.promotion !== 'UpdateStable'
  );
}

function react(pass: Pass, run: AnalysisRun): 'running' | 'successful' | 'stopped' {
  const label = RUN_LABEL[run.kind];
  switch (run.phase) {
    case 'Failed':
    case 'Error':
      pass.abort(`${label} analysis phase failed: ${run.message ?? run.phase}`);
      return 'stopped';
    case 'Inconclusive': {
      if (pass.status.phase === 'Paused' && pass.status.pausedForAnalysis === run.kind) return 'stopped';
      const message = `${label} analysis inconclusive${run.message ? `: ${run.message}` : ''}; promote to continue, abort to roll back`;
      pass.update(
        {
          phase: 'Paused',
          pausedForAnalysis: run.kind,
          pauseStartedAt: new Date(pass.now).toISOString(),
          message,
        },
        ['pauseUntil', 'waitingSince'],
      );
      pass.emit('Rollout Paused', { stepIndex: pass.status.stepIndex, weight: pass.status.weight, message });
      return 'stopped';
    }
    case 'Successful':
      return 'successful';
    default:
      return 'running';
  }
}

/** Starts the background run once the steps reach startingStep, and reacts to its outcome. */
export function watchBackgroundAnalysis(pass: Pass): void {
  const background = pass.rollout.canary.analysis;
  if (!background || !abortable(pass.status)) return;
  if (pass.status.stepIndex < background.startingStep) return;
  const run = pass.status.analysis?.background ?? start(pass, 'Background', background);
  if (run) react(pass, run);
}

/**
 * The analysis step: keeps the weight reached while its run measures; true once the run is
 * Successful and the next step can start.
 */
export function runAnalysisStep(pass: Pass, analysis: RolloutAnalysis): boolean {
  const current = pass.status.analysis?.step;
  const run =
    current && current.stepIndex === pass.status.stepIndex && !current.terminated
      ? current
      : start(pass, 'Step', analysis);
  if (!run) return false;
  const outcome = react(pass, run);
  if (outcome === 'successful') return true;
  if (outcome === 'running') {
    pass.update({ message: `${RUN_LABEL.Step} analysis run ${run.id} is ${run.phase}` }, ['waitingSince']);
    pass.resync();
  }
  return false;
}

/** A promote while paused for an Inconclusive background run resumes the step and starts a new background run. */
export function resumeFromBackgroundAnalysis(status: RolloutStatus): boolean {
  return status.pausedForAnalysis === 'Background';
}

/** Forgets the runs of an earlier attempt (new image, retry): measurements for them are then ignored. */
export function resetAnalysis(pass: Pass): void {
  if (!pass.status.analysis) return;
  pass.update({ analysis: { runs: pass.status.analysis.runs } }, ['pausedForAnalysis']);
}

/**
 * After the pass: stops the runs that no longer apply (the step moved on, the rollout completed or
 * aborted) and wakes the rollout for the next measurement.
 */
export function settleAnalysis(pass: Pass): void {
  const { status, rollout } = pass;
  if (status.pausedForAnalysis && status.phase !== 'Paused') pass.update({}, ['pausedForAnalysis']);
  const analysis = pass.status.analysis;
  if (!analysis) return;
  const currentStep = rollout.canary.steps[status.stepIndex];
  const stepApplies =
    (status.phase === 'Progressing' || status.phase === 'Paused') &&
    currentStep !== undefined &&
    'analysis' in currentStep &&
    analysis.step?.stepIndex === status.stepIndex;
  if (analysis.step && !isCompleted(analysis.step.phase) && !stepApplies)
    setRun(pass, 'Step', terminateRun(analysis.step, pass.now));
  if (analysis.background && !isCompleted(analysis.background.phase) && !abortable(status))
    setRun(pass, 'Background', terminateRun(analysis.background, pass.now));
  const runs = activeRuns(pass.status);
  const { due, nextAt } = measurementsDue(runs, pass.now);
  if (due.length) {
    // A run started in this pass measures at once; a measurement the runner did not take is retried after a poll.
    const fresh = due.every(
      (entry) =>
        entry.index === 0 &&
        runs.find((run) => run.id === entry.runId)?.startedAt === new Date(pass.now).toISOString(),
    );
    pass.wake(fresh ? pass.now : pass.now + pass.options.pollSeconds * 1000);
  }
  if (nextAt !== null) pass.wake(nextAt);
}
