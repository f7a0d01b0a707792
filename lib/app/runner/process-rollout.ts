/**
 * One Rollout, one pass: lease -> observe -> decide -> act -> save -> publish -> wake-up (or a
 * watch on the pods it waits for, then the next pass). The only place where the engine's decisions
 * meet the cluster and the store.
 */
import {
  decide,
  DEFAULT_ENGINE_OPTIONS,
  markInvalidSpec,
  recoverFromInvalidSpec,
} from '../../core/engine/decide.js';
import { podsReady } from '../../core/engine/replicas.js';
import type {
  Action,
  Command,
  Decision,
  LifecycleEvent,
  Observation,
  PodWait,
  RolloutStatus,
} from '../../core/engine/types.js';
import { dueMeasurements } from '../../core/engine/analysis.js';
import type { AnalysisTemplate } from '../../core/analysis/template.js';
import { formatPlanError, plan } from '../../core/istio/weights.js';
import { checkScope } from '../../core/model/clusters.js';
import { formatRef } from '../../core/model/references.js';
import type { VirtualService } from '../../core/model/virtualservice.js';
import {
  ClusterApiError,
  formatKey,
  InvalidReferenceError,
  UnknownClusterError,
  type ClusterPort,
  type HistoryEntry,
  type ObservedDeployment,
  type PublishedEvent,
  type RolloutKey,
  type RunnerDeps,
  type StoredCommand,
  type StoredRollout,
} from './ports.js';
import { loadTemplates, takeMeasurements } from './analysis.js';
import { setCanaryWeight } from './traffic.js';

export type { RunnerDeps };

export type Outcome =
  | { key: RolloutKey; result: 'done'; status: RolloutStatus; dueAt: number | null }
  | { key: RolloutKey; result: 'leased-elsewhere' }
  | { key: RolloutKey; result: 'not-found' }
  | { key: RolloutKey; result: 'lease-lost'; message: string }
  | { key: RolloutKey; result: 'invalid-spec'; message: string }
  | { key: RolloutKey; result: 'error'; message: string; retryAt: number };

export const DEFAULT_LEASE_MS = 120_000;
/** The first retry after an error; each failure in a row doubles it, up to MAX_BACKOFF_MS. */
export const FIRST_BACKOFF_MS = 10_000;
export const MAX_BACKOFF_MS = 5 * 60_000;
/** A cluster that refuses the runner (403) or is not registered is retried this slowly. */
export const REFUSED_RETRY_MS = 5 * 60_000;
export const MAX_SAVE_ATTEMPTS = 3;

/** The wait before the next attempt after `failures` failed passes in a row (the first is 1). */
export function backoffMs(failures: number, retryAfterSeconds?: number): number {
  const doubled = FIRST_BACKOFF_MS * 2 ** Math.min(Math.max(failures - 1, 0), 16);
  return Math.max(Math.min(doubled, MAX_BACKOFF_MS), (retryAfterSeconds ?? 0) * 1000);
}

/** Another runner took the Rollout while this pass was still writing: stop, write nothing more. */
export class LeaseLostError extends Error {
  constructor(key: RolloutKey) {
    super(`lease on ${formatKey(key)} lost to another runner; this pass stopped before writing`);
    this.name = 'LeaseLostError';
  }
}

interface Observed {
  stable: ObservedDeployment;
  canary: ObservedDeployment;
  virtualServices: Map<string, VirtualService>;
}

interface PassContext {
  deps: RunnerDeps;
  stored: StoredRollout;
  now: number;
  /** Renews the lease, or throws LeaseLostError: called before every cluster write. */
  fence: () => Promise<void>;
}

/** Pods a saved pass waits for, to watch before coming back (RunnerDeps.watchSeconds). */
interface PendingWatch {
  cluster: ClusterPort;
  wait: PodWait;
  namespace: string;
  name: string;
  container: string | undefined;
  /** As this pass read it: the watch starts after its resourceVersion. */
  deployment: ObservedDeployment;
  /** The engine's wake-up, used when the watch ends without the pods. */
  wakeAt: number;
}

/** A runaway guard: each continuation is a step done, and a Rollout has few steps. */
const MAX_CONTINUATIONS = 50;

/**
 * One Rollout: a pass, and while it ends waiting for pods and the watch budget lasts, a watch on
 * the Deployment it waits for and, once the pods are there, the next pass at once (a fresh lease,
 * so commands that arrived meanwhile are taken). A watch that ends without them falls back to the
 * engine's wake-up.
 */
export async function processRollout(deps: RunnerDeps, key: RolloutKey): Promise<Outcome> {
  const deadline = deps.clock() + (deps.watchSeconds ?? 0) * 1000;
  for (let continued = 0; ; continued++) {
    const pending: { watch?: PendingWatch } = {};
    const outcome = await leasedPass(deps, key, pending);
    const { watch } = pending;
    if (!watch) return outcome;
    const seconds = Math.floor((deadline - deps.clock()) / 1000);
    // A watch that fails (no `watch` right, a lost connection) is no worse than no watch.
    const ready =
      seconds >= 1 && continued < MAX_CONTINUATIONS
        ? await watchFor(watch, seconds).catch(() => undefined)
        : undefined;
    if (!ready) {
      const now = deps.clock();
      await deps.wakeups.schedule(key, Math.max(watch.wakeAt, now), now);
      return outcome;
    }
  }
}

async function leasedPass(
  deps: RunnerDeps,
  key: RolloutKey,
  pending: { watch?: PendingWatch },
): Promise<Outcome> {
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  for (let attempt = 1; ; attempt++) {
    const now = deps.clock();
    const leased = await deps.store.acquireLease(key, deps.owner, now, now + leaseMs);
    if (!leased.ok) return { key, result: leased.error };
    const stored = leased.value;
    const fence = async () => {
      if (!(await deps.store.renewLease(key, deps.owner, deps.clock() + leaseMs)))
        throw new LeaseLostError(key);
    };
    try {
      const outcome = await passOnce({ deps, stored, now, fence }, pending);
      if (outcome !== 'conflict') return outcome;
      if (attempt >= MAX_SAVE_ATTEMPTS) {
        const message = `status not saved: the rollout changed during ${attempt} passes in a row`;
        return await recordFailure(deps, stored, message);
      }
    } catch (error) {
      return await handleFailure({ deps, stored, now, fence }, error);
    }
  }
}

function watchFor(watch: PendingWatch, seconds: number): Promise<ObservedDeployment | undefined> {
  const { cluster, wait, deployment, namespace, name, container } = watch;
  return (
    cluster.deployments.waitFor?.(namespace, name, deployment, container, seconds, (observed) =>
      podsReady(wait, observed),
    ) ?? Promise.resolve(undefined)
  );
}

async function handleFailure(context: PassContext, error: unknown): Promise<Outcome> {
  const { deps, stored } = context;
  const { key } = stored;
  if (error instanceof LeaseLostError) {
    deps.logger?.warn('rollout pass stopped: lease lost', { rollout: formatKey(key), owner: deps.owner });
    return { key, result: 'lease-lost', message: error.message };
  }
  if (error instanceof UnknownClusterError || (error instanceof ClusterApiError && error.status === 403)) {
    // A registration or RBAC problem does not fix itself in seconds: show it, retry slowly.
    const saved = await saveInvalid(context, error.message, context.now + REFUSED_RETRY_MS);
    if (saved !== 'conflict') return saved;
  }
  if (error instanceof ClusterApiError && error.status === 401) deps.clusters.forget(stored.rollout.cluster);
  const retryAfter = error instanceof ClusterApiError ? error.retryAfterSeconds : undefined;
  return recordFailure(deps, stored, describeError(stored, error), retryAfter);
}

async function recordFailure(
  deps: RunnerDeps,
  stored: StoredRollout,
  message: string,
  retryAfterSeconds?: number,
): Promise<Outcome> {
  const now = deps.clock();
  const retryAt = now + backoffMs((stored.failures ?? 0) + 1, retryAfterSeconds);
  deps.logger?.error('rollout pass failed', { rollout: formatKey(stored.key), error: message, retryAt });
  await deps.store.recordError({ stored, owner: deps.owner, message, retryAt, now });
  await deps.wakeups.schedule(stored.key, retryAt, now).catch(() => undefined);
  return { key: stored.key, result: 'error', message, retryAt };
}

async function passOnce(
  context: PassContext,
  pending: { watch?: PendingWatch },
): Promise<Outcome | 'conflict'> {
  const { deps, stored, now } = context;
  const { rollout } = stored;
  const cluster = await deps.clusters.get(rollout.cluster);
  const commands = await deps.store.pendingCommands(stored.key);
  let observed: Observed;
  try {
    observed = await observe(cluster, stored);
  } catch (error) {
    if (!(error instanceof InvalidReferenceError)) throw error;
    return saveInvalid(context, error.message, null);
  }

  let status = recoverFromInvalidSpec(stored.status);
  let templates: AnalysisTemplate[];
  try {
    templates = await loadTemplates(deps, rollout);
  } catch (error) {
    if (!(error instanceof InvalidReferenceError)) throw error;
    return saveInvalid(context, error.message, null);
  }
  const decisions: Decision[] = [];
  const history: HistoryEntry[] = [];
  const at = new Date(now).toISOString();
  // Every decide call of a round sees the same measurements: each counts once, for the run and
  // index it was taken for, and is ignored by the others.
  const round = async (queue: (StoredCommand | null)[]) => {
    const measurements = await takeMeasurements(deps, status, now);
    const observation: Observation = {
      stable: observed.stable,
      canary: observed.canary,
      analysisTemplates: templates,
      ...(measurements.length ? { measurements } : {}),
    };
    for (const pending of queue) {
      const command: Command | null = pending?.command ?? null;
      const decision = decide(
        rollout,
        status,
        observation,
        command,
        now,
        deps.engine ?? DEFAULT_ENGINE_OPTIONS,
      );
      decisions.push(decision);
      if (pending && decision.command) {
        history.push({
          at,
          kind: 'command',
          message: `${describeCommand(command)} from ${pending.source}: ${decision.command.message}`,
          runner: deps.owner,
        });
      }
      status = decision.status;
    }
  };
  await round(commands.length ? commands : [null]);
  // A run started in this pass measures at once: one more round takes its first measurements
  // instead of a pass that would only do that. Only one: a run that starts in it waits for a pass.
  if (decisions.at(-1)?.wakeAt === now && dueMeasurements(status, now).length) await round([null]);
  const actions = decisions.flatMap((decision) => decision.actions);
  const wakeAt = decisions.at(-1)?.wakeAt ?? null;
  const waitingFor = decisions.at(-1)?.waitingFor;

  try {
    await act(context, cluster, observed, actions);
  } catch (error) {
    if (!(error instanceof InvalidReferenceError)) throw error;
    return saveInvalid(context, error.message, null);
  }

  const events = actions.flatMap((action) => (action.type === 'emit' ? [action.event] : []));
  history.push(...events.map((event) => transition(event, status, at, deps.owner)));
  const saved = await deps.store.savePass({
    stored,
    owner: deps.owner,
    status,
    dueAt: wakeAt,
    processed: commands,
    history,
    now,
  });
  if (!saved.ok) return 'conflict';
  await publish(deps, stored.key, events, status.phase, at);
  if (wakeAt !== null && waitingFor && deps.watchSeconds && cluster.deployments.waitFor) {
    // processRollout watches, then goes on or schedules this wake-up.
    const { workload } = rollout;
    pending.watch = {
      cluster,
      wait: waitingFor,
      namespace: rollout.namespace,
      name: waitingFor.deployment === 'stable' ? workload.stableDeployment : workload.canaryDeployment,
      container: workload.container,
      deployment: observed[waitingFor.deployment],
      wakeAt,
    };
  } else if (wakeAt !== null) await deps.wakeups.schedule(stored.key, wakeAt, now);
  return { key: stored.key, result: 'done', status, dueAt: wakeAt };
}

async function observe(cluster: ClusterPort, stored: StoredRollout): Promise<Observed> {
  const { rollout, status } = stored;
  const inScope = checkScope(rollout, [cluster.scope]);
  if (!inScope.ok) throw new InvalidReferenceError(inScope.error);
  const { namespace, workload } = rollout;
  const [stable, canary] = await Promise.all([
    cluster.deployments.observe(namespace, workload.stableDeployment, workload.container),
    cluster.deployments.observe(namespace, workload.canaryDeployment, workload.container),
  ]);
  const virtualServices = new Map<string, VirtualService>();
  for (const ref of rollout.canary.virtualServices)
    virtualServices.set(formatRef(ref), await cluster.virtualServices.get(ref));
  const planned = plan(rollout, [...virtualServices.values()], status.weight);
  if (!planned.ok) throw new InvalidReferenceError(planned.errors.map(formatPlanError));
  return { stable, canary, virtualServices };
}

async function act(
  { stored, fence }: PassContext,
  cluster: ClusterPort,
  observed: Observed,
  actions: Action[],
): Promise<void> {
  const { rollout } = stored;
  const { namespace, workload } = rollout;
  // The observed copy follows each write, so a later action in the same pass sees what is there now.
  const setImage = async (track: 'stable' | 'canary', image: string) => {
    const name = track === 'stable' ? workload.stableDeployment : workload.canaryDeployment;
    if (observed[track].image === image) return;
    await fence();
    if (await cluster.deployments.setImage(namespace, name, observed[track], workload.container, image)) {
      observed[track] = { ...observed[track], image };
    }
  };
  for (const action of actions) {
    switch (action.type) {
      case 'setCanaryImage':
        await setImage('canary', action.image);
        break;
      case 'setStableImage':
        await setImage('stable', action.image);
        break;
      case 'scaleCanary':
        if (observed.canary.replicas === action.replicas) break;
        await fence();
        if (
          await cluster.deployments.scale(
            namespace,
            workload.canaryDeployment,
            observed.canary,
            action.replicas,
          )
        ) {
          observed.canary = { ...observed.canary, replicas: action.replicas };
        }
        break;
      case 'setWeight':
        await setCanaryWeight(
          cluster.virtualServices,
          rollout,
          action.weight,
          observed.virtualServices,
          fence,
          action.routes,
        );
        break;
      case 'emit':
        break;
    }
  }
}

/**
 * The Rollout cannot act as written (a missing reference, an unregistered cluster, no rights):
 * saved as InvalidSpec with the reason. `retryAt` null waits for the spec to change; a time
 * retries then, for what an operator fixes outside the spec.
 */
async function saveInvalid(
  { deps, stored, now }: PassContext,
  reason: string,
  retryAt: number | null,
): Promise<Outcome | 'conflict'> {
  const message = `Rollout ${stored.key.namespace}/${stored.key.name}: ${reason}`;
  const status = markInvalidSpec(stored.status, message);
  const at = new Date(now).toISOString();
  const changed = stored.status.phase !== 'InvalidSpec' || stored.status.message !== message;
  const history: HistoryEntry[] = changed
    ? [{ at, kind: 'transition', message, phase: 'InvalidSpec', runner: deps.owner }]
    : [];
  // Commands stay queued: they apply once the spec or the cluster is fixed.
  const saved = await deps.store.savePass({
    stored,
    owner: deps.owner,
    status,
    dueAt: retryAt,
    processed: [],
    history,
    now,
  });
  if (!saved.ok) return 'conflict';
  deps.logger?.warn('rollout is InvalidSpec', { rollout: formatKey(stored.key), message, retryAt });
  return { key: stored.key, result: 'invalid-spec', message };
}

/** Publishes a saved pass's events; a failure is logged, never undoes the pass (Rollouts and fleets). */
export async function publish(
  deps: RunnerDeps,
  key: RolloutKey,
  events: LifecycleEvent[],
  phase: RolloutStatus['phase'],
  at: string,
): Promise<void> {
  if (events.length === 0) return;
  const published: PublishedEvent[] = events.map((event) => ({ key, event, phase, at }));
  try {
    await deps.events.publish(published);
  } catch (error) {
    // The transition is saved and in the history; a lost notification must not undo it.
    deps.logger?.error('publishing lifecycle events failed', {
      rollout: formatKey(key),
      error: (error as Error).message,
    });
  }
}

function transition(event: LifecycleEvent, status: RolloutStatus, at: string, runner: string): HistoryEntry {
  const parts = [event.type, `revision ${event.revision}`];
  if (event.stepIndex !== undefined) parts.push(`step ${event.stepIndex + 1}`);
  if (event.weight !== undefined) parts.push(`weight ${event.weight}`);
  if (event.image) parts.push(event.image);
  if (event.message) parts.push(event.message);
  return {
    at,
    kind: 'transition',
    event: event.type,
    message: parts.join(', '),
    revision: event.revision,
    phase: status.phase,
    ...(event.stepIndex === undefined ? {} : { stepIndex: event.stepIndex }),
    ...(event.weight === undefined ? {} : { weight: event.weight }),
    runner,
  };
}

export function describeCommand(command: Command | null): string {
  if (!command) return 'pass';
  return command.kind === 'setImage'
    ? `set image ${command.image}`
    : command.kind === 'promoteFull'
      ? 'promote --full'
      : command.kind;
}

function describeError(stored: StoredRollout, error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return `Rollout ${stored.key.namespace}/${stored.key.name} on cluster ${stored.key.cluster}: ${text}`;
}
