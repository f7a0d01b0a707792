/**
 * The step engine: one pure function from (Rollout, status, observation, command, now) to the next
 * status and the actions that bring the cluster there. Actions state desired state, so running
 * them twice is harmless, and every pass re-asserts the weight to correct drift.
 */
import type { Rollout } from '../model/rollout.js';
import { initialStatus } from './status.js';
import {
  ingestMeasurements,
  resetAnalysis,
  resumeFromBackgroundAnalysis,
  runAnalysisStep,
  settleAnalysis,
  watchBackgroundAnalysis,
} from './analysis.js';
import { availablePodsWithImage, canaryPodsFor, isRolledOut, weightAllowedBy } from './replicas.js';
import { managedRoutesFor, withManagedRoutes } from './managed-routes.js';
import { isRouteStep, routeOf } from '../model/route-step-kinds.js';
import type {
  Action,
  AnalysisStatus,
  Command,
  CommandOutcome,
  Decision,
  EngineOptions,
  LifecycleEvent,
  Observation,
  PodWait,
  RolloutStatus,
} from './types.js';

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = { pollSeconds: 5, resyncSeconds: 60 };
const ACTIVE_PHASES = new Set(['Progressing', 'Paused', 'Promoting']);

export { initialStatus };

export function abortMessage(revision: number): string {
  return `Rollout aborted update to revision ${revision}`;
}

/** What the runner records when a Rollout's references cannot be planned: nothing moves until it is fixed. */
export function markInvalidSpec(status: RolloutStatus, message: string): RolloutStatus {
  return { ...status, phase: 'InvalidSpec', message };
}

/** Once the references check out again, carry on from where the rollout was. */
export function recoverFromInvalidSpec(status: RolloutStatus): RolloutStatus {
  if (status.phase !== 'InvalidSpec') return status;
  return status.canaryImage
    ? {
        ...status,
        phase: 'Progressing',
        message: `references are valid again; resuming step ${status.stepIndex + 1}`,
      }
    : { ...status, phase: 'Healthy', message: 'references are valid' };
}

export class Pass {
  readonly actions: Action[] = [];
  wakeAt: number | null = null;
  /** The pods this pass ended waiting for, so the runner can watch for them. */
  waitingFor: PodWait | undefined = undefined;
  constructor(
    readonly rollout: Rollout,
    public status: RolloutStatus,
    readonly observation: Observation,
    readonly now: number,
    readonly options: EngineOptions,
  ) {}

  get stableReplicas(): number {
    return this.observation.stable.replicas;
  }
  get availableCanary(): number {
    return availablePodsWithImage(this.observation.canary, this.status.canaryImage);
  }
  update(changes: Partial<RolloutStatus>, remove: (keyof RolloutStatus)[] = []): void {
    const next = { ...this.status, ...changes };
    for (const key of remove) delete next[key];
    this.status = next;
  }
  act(action: Action): void {
    this.actions.push(action);
  }
  emit(type: LifecycleEvent['type'], extra: Partial<LifecycleEvent> = {}): void {
    const event: LifecycleEvent = { type, revision: this.status.revision, ...extra };
    if (this.status.canaryImage && !event.image) event.image = this.status.canaryImage;
    this.act({ type: 'emit', event });
  }
  wake(at: number): void {
    this.wakeAt = this.wakeAt === null ? at : Math.min(this.wakeAt, at);
  }
  resync(): void {
    this.wake(this.now + this.options.resyncSeconds * 1000);
  }
  /** Re-assert the weight reached, capped by the canary pods that can serve it. */
  assertWeight(): void {
    this.act({
      type: 'setWeight',
      weight: weightAllowedBy(this.availableCanary, this.status.weight, this.stableReplicas),
    });
  }
  abort(reason?: string): void {
    const message = reason
      ? `${abortMessage(this.status.revision)}: ${reason}`
      : abortMessage(this.status.revision);
    this.update(
      { phase: 'Degraded', weight: 0, abortedAt: iso(this.now), canaryScaledDown: false, message },
      ['pauseStartedAt', 'pauseUntil', 'waitingSince', 'promotion'],
    );
    this.act({ type: 'setWeight', weight: 0 });
    this.emit('Rollout Aborted', { message });
  }
  /** Keeps the traffic the canary can carry while it waits for `needed` pods. */
  waitForCanary(needed: number): void {
    const { rollout, status } = this;
    this.assertWeight();
    this.waitForPods(
      `canary Deployment ${rollout.namespace}/${rollout.workload.canaryDeployment} has ${this.availableCanary} of ${needed} pods available with ${status.canaryImage}`,
      { deployment: 'canary', image: status.canaryImage as string, availablePods: needed },
    );
  }
  /** Waiting for pods: poll, and abort once progressDeadlineSeconds have passed since the wait began. */
  waitForPods(what: string, wait: PodWait): void {
    this.waitingFor = wait;
    const since = this.status.waitingSince ? Date.parse(this.status.waitingSince) : this.now;
    if (!this.status.waitingSince) this.update({ waitingSince: iso(this.now) });
    const deadline = since + this.rollout.progressDeadlineSeconds * 1000;
    if (this.now >= deadline) {
      this.abort(
        `ProgressDeadlineExceeded: ${what} after ${this.rollout.progressDeadlineSeconds}s (progressDeadlineSeconds)`,
      );
      return;
    }
    this.wake(Math.min(deadline, this.now + this.options.pollSeconds * 1000));
  }
}

/** `rollout` as parseRollout gives it (the store holds nothing else). */
export function decide(
  rollout: Rollout,
  status: RolloutStatus | undefined,
  observation: Observation,
  command: Command | null,
  now: number | Date,
  options: EngineOptions = DEFAULT_ENGINE_OPTIONS,
): Decision {
  const pass = new Pass(
    rollout,
    status ?? initialStatus(),
    observation,
    now instanceof Date ? now.getTime() : now,
    options,
  );
  if (!pass.status.stableImage && observation.stable.image)
    pass.update({ stableImage: observation.stable.image });
  ingestMeasurements(pass);
  const outcome = command ? applyCommand(pass, command) : undefined;
  advance(pass);
  settleAnalysis(pass);
  return {
    status: pass.status,
    actions: withManagedRoutes(pass.actions, managedRoutesFor(rollout, pass.status, observation)),
    wakeAt: pass.wakeAt,
    ...(pass.waitingFor && pass.status.waitingSince ? { waitingFor: pass.waitingFor } : {}),
    ...(outcome ? { command: outcome } : {}),
  };
}

/** Whether a command would be accepted now: it depends on the status alone, so the CLI can say at once. */
export function checkCommand(rollout: Rollout, status: RolloutStatus, command: Command): CommandOutcome {
  const idle = {
    replicas: 0,
    generation: 0,
    observedGeneration: 0,
    statusReplicas: 0,
    updatedReplicas: 0,
    availableReplicas: 0,
  };
  const pass = new Pass(rollout, status, { stable: idle, canary: idle }, 0, DEFAULT_ENGINE_OPTIONS);
  return applyCommand(pass, command);
}

function applyCommand(pass: Pass, command: Command): CommandOutcome {
  const { status } = pass;
  const active = ACTIVE_PHASES.has(status.phase);
  switch (command.kind) {
    case 'setImage': {
      if (active && command.image === status.canaryImage) {
        return {
          accepted: false,
          message: `${command.image} is already being rolled out (revision ${status.revision})`,
        };
      }
      if (!active && status.phase !== 'Degraded' && command.image === status.stableImage) {
        return { accepted: false, message: `${command.image} is already the stable image` };
      }
      if (status.phase === 'Degraded' && command.image === status.canaryImage) {
        return {
          accepted: false,
          message: `revision ${status.revision} with ${command.image} was aborted; use retry to roll it out again`,
        };
      }
      const restarted = active;
      pass.update(
        {
          phase: 'Progressing',
          revision: status.revision + 1,
          canaryImage: command.image,
          stepIndex: 0,
          weight: 0,
          canaryScaledDown: false,
          message: `rolling out ${command.image} (revision ${status.revision + 1})`,
        },
        ['pauseStartedAt', 'pauseUntil', 'waitingSince', 'abortedAt', 'promotion'],
      );
      resetAnalysis(pass);
      pass.act({ type: 'setWeight', weight: 0 });
      pass.emit(
        'Rollout Started',
        restarted ? { message: `replaces ${status.canaryImage} mid-rollout` } : {},
      );
      return { accepted: true, message: `rolling out ${command.image} as revision ${pass.status.revision}` };
    }
    case 'promote':
    case 'promoteFull': {
      if (status.phase !== 'Progressing' && status.phase !== 'Paused') {
        return { accepted: false, message: `nothing to promote: the rollout is ${status.phase}` };
      }
      const full = command.kind === 'promoteFull';
      // Paused by an Inconclusive background run: resume this step under a new background run.
      const resume = !full && resumeFromBackgroundAnalysis(status);
      pass.update(
        {
          phase: 'Progressing',
          stepIndex: full
            ? pass.rollout.canary.steps.length
            : resume
              ? status.stepIndex
              : status.stepIndex + 1,
          message: full
            ? 'promoted fully: skipping the remaining steps'
            : resume
              ? `resumed step ${status.stepIndex + 1} after an inconclusive background analysis`
              : `promoted past step ${status.stepIndex + 1}`,
          ...(resume && status.analysis ? { analysis: withoutBackground(status.analysis) } : {}),
        },
        ['pauseStartedAt', 'pauseUntil', 'waitingSince', 'pausedForAnalysis'],
      );
      pass.emit('Rollout Promoted', { stepIndex: status.stepIndex, ...(full ? { message: 'full' } : {}) });
      return { accepted: true, message: pass.status.message ?? 'promoted' };
    }
    case 'abort': {
      if (!active) return { accepted: false, message: `nothing to abort: the rollout is ${status.phase}` };
      if (status.promotion === 'UpdateStable') {
        return {
          accepted: false,
          message: `too late to abort: the stable Deployment is already taking ${status.canaryImage}`,
        };
      }
      pass.abort();
      return { accepted: true, message: abortMessage(status.revision) };
    }
    case 'retry': {
      if (status.phase !== 'Degraded' || !status.canaryImage) {
        return { accepted: false, message: `nothing to retry: the rollout is ${status.phase}, not aborted` };
      }
      pass.update(
        {
          phase: 'Progressing',
          stepIndex: 0,
          weight: 0,
          canaryScaledDown: false,
          message: `retrying revision ${status.revision}`,
        },
        ['abortedAt', 'waitingSince', 'pauseStartedAt', 'pauseUntil', 'promotion'],
      );
      resetAnalysis(pass);
      pass.emit('Rollout Started', { message: 'retry' });
      return { accepted: true, message: `retrying revision ${status.revision}` };
    }
  }
}

/** Walks as far as this observation allows: several steps at once when nothing needs waiting for. */
function advance(pass: Pass): void {
  const { steps } = pass.rollout.canary;
  for (let guard = 0; guard <= steps.length + 3; guard++) {
    if (pass.status.phase === 'Healthy' || pass.status.phase === 'InvalidSpec') return;
    watchBackgroundAnalysis(pass);
    const { status } = pass;
    if (status.phase === 'InvalidSpec') return;
    if (status.phase === 'Degraded') return holdAborted(pass);
    if (status.phase === 'Promoting') return promote(pass);
    if (status.phase === 'Paused') {
      if (!continuePause(pass)) return;
      continue;
    }
    if (status.stepIndex >= steps.length) {
      pass.update(
        { phase: 'Promoting', promotion: 'ScaleCanary', message: 'promoting: canary to full size' },
        ['waitingSince'],
      );
      continue;
    }
    if (!runStep(pass)) return;
  }
}

/** Runs the current step; true when it completed and the next one can start now. */
function runStep(pass: Pass): boolean {
  const { status, rollout } = pass;
  const image = status.canaryImage as string;
  const step = rollout.canary.steps[status.stepIndex];
  if (step && 'analysis' in step) {
    pass.act({ type: 'setCanaryImage', image });
    pass.act({ type: 'scaleCanary', replicas: canaryPodsFor(status.weight, pass.stableReplicas) });
    pass.assertWeight();
    return runAnalysisStep(pass, step.analysis) && completeStep(pass);
  }
  if (step && 'pause' in step) {
    const seconds = step.pause.durationSeconds;
    if (seconds === 0) return completeStep(pass);
    pass.update(
      {
        phase: 'Paused',
        pauseStartedAt: iso(pass.now),
        message: seconds === undefined ? 'paused until promoted' : `paused for ${seconds}s`,
        ...(seconds === undefined ? {} : { pauseUntil: iso(pass.now + seconds * 1000) }),
      },
      seconds === undefined ? ['waitingSince', 'pauseUntil'] : ['waitingSince'],
    );
    pass.emit('Rollout Paused', { stepIndex: status.stepIndex, weight: status.weight });
    return true;
  }
  if (step && isRouteStep(step)) return runRouteStep(pass, Boolean(routeOf(step).match));
  const target = (step as { setWeight: number }).setWeight;
  const needed = canaryPodsFor(target, pass.stableReplicas);
  const available = pass.availableCanary;
  pass.act({ type: 'setCanaryImage', image });
  if (available >= needed) {
    pass.act({ type: 'setWeight', weight: target });
    pass.act({ type: 'scaleCanary', replicas: needed });
    pass.update({ weight: target });
    return completeStep(pass);
  }
  pass.act({
    type: 'scaleCanary',
    replicas: Math.max(needed, canaryPodsFor(status.weight, pass.stableReplicas)),
  });
  pass.waitForCanary(needed);
  return false;
}

/** A header or mirror route is added once a canary pod can serve it; the weight write that follows carries it. */
function runRouteStep(pass: Pass, adds: boolean): boolean {
  const { status } = pass;
  pass.act({ type: 'setCanaryImage', image: status.canaryImage as string });
  pass.act({ type: 'scaleCanary', replicas: canaryPodsFor(status.weight, pass.stableReplicas) });
  if (adds && pass.availableCanary < 1) {
    pass.waitForCanary(1);
    return false;
  }
  pass.assertWeight();
  return completeStep(pass);
}

function completeStep(pass: Pass): boolean {
  const { status } = pass;
  pass.emit('Rollout Step Completed', { stepIndex: status.stepIndex, weight: status.weight });
  pass.update(
    { phase: 'Progressing', stepIndex: status.stepIndex + 1, message: `step ${status.stepIndex + 1} done` },
    ['waitingSince', 'pauseStartedAt', 'pauseUntil'],
  );
  return true;
}

/** True when the pause is over and the next step can start now. */
function continuePause(pass: Pass): boolean {
  const { status } = pass;
  pass.act({ type: 'setCanaryImage', image: status.canaryImage as string });
  pass.act({ type: 'scaleCanary', replicas: canaryPodsFor(status.weight, pass.stableReplicas) });
  pass.assertWeight();
  if (status.pauseUntil && pass.now >= Date.parse(status.pauseUntil)) return completeStep(pass);
  if (status.pauseUntil) pass.wake(Date.parse(status.pauseUntil));
  pass.resync();
  return false;
}

function promote(pass: Pass): void {
  const { status, rollout, observation } = pass;
  const image = status.canaryImage as string;
  const fullSize = Math.max(1, pass.stableReplicas);
  const stableUpdating = status.promotion === 'UpdateStable';
  pass.act({ type: 'setCanaryImage', image });
  pass.act({ type: 'scaleCanary', replicas: fullSize });
  if (!stableUpdating) {
    const available = pass.availableCanary;
    if (available < fullSize) {
      pass.waitForCanary(fullSize);
      return;
    }
    pass.act({ type: 'setWeight', weight: 100 });
    pass.update(
      { weight: 100, promotion: 'UpdateStable', message: `promoting: stable Deployment takes ${image}` },
      ['waitingSince'],
    );
  }
  pass.act({ type: 'setStableImage', image });
  if (!isRolledOut(observation.stable, image)) {
    if (stableUpdating) pass.assertWeight();
    pass.waitForPods(
      `stable Deployment ${rollout.namespace}/${rollout.workload.stableDeployment} has not rolled out ${image} (${observation.stable.availableReplicas} of ${observation.stable.replicas} available)`,
      { deployment: 'stable', image },
    );
    return;
  }
  pass.act({ type: 'setWeight', weight: 0 });
  pass.act({ type: 'scaleCanary', replicas: 0 });
  pass.update(
    {
      phase: 'Healthy',
      stableImage: image,
      weight: 0,
      stepIndex: rollout.canary.steps.length,
      message: `${image} is stable`,
    },
    ['canaryImage', 'promotion', 'waitingSince', 'pauseStartedAt', 'pauseUntil', 'canaryScaledDown'],
  );
  pass.emit('Rollout Completed', { image, weight: 0 });
}

function holdAborted(pass: Pass): void {
  const { status, rollout } = pass;
  pass.act({ type: 'setWeight', weight: 0 });
  if (status.canaryScaledDown) return pass.resync();
  const scaleDownAt =
    Date.parse(status.abortedAt ?? iso(pass.now)) + rollout.canary.abortScaleDownDelaySeconds * 1000;
  if (pass.now >= scaleDownAt) {
    pass.act({ type: 'scaleCanary', replicas: 0 });
    pass.update({ canaryScaledDown: true });
    return pass.resync();
  }
  pass.wake(scaleDownAt);
}

function withoutBackground(analysis: AnalysisStatus): AnalysisStatus {
  const { background: _finished, ...rest } = analysis;
  return rest;
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
