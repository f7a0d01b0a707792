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
import { storedDueAt } from '../../core/engine/wake-schedule.js';
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
  /** Proves the lease is still held (renewing it when a quarter has run), or throws LeaseLostError: called before every cluster write. */
  fence: () => Promise<void>;
}

/**
 * The watch on the pods a pass waits for (RunnerDeps.watchSeconds). It starts as the pass's writes
 * end, while the pass saves: pods that come up during the save are not waited for twice.
 */
interface PendingWatch {
  /** The Deployment as the watch saw it with the pods there, or undefined (timed out, failed, aborted). */
  ready: Promise<ObservedDeployment | undefined>;
  /** The engine's wake-up, used when the watch ends without the pods. */
  wakeAt: number;
}

/** What processRollout lends a pass: its watch budget, and where the pass leaves its watch. */
interface WatchSlot {
  /** When the watching must end (RunnerDeps.watchSeconds after processRollout started). */
  deadline: number;
  /** Whether another continuation is allowed (MAX_CONTINUATIONS). */
  mayContinue: boolean;
  watch?: PendingWatch;
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
    const slot: WatchSlot = { deadline, mayContinue: continued < MAX_CONTINUATIONS };
    const outcome = await leasedPass(deps, key, slot);
    const { watch } = slot;
    if (!watch) return outcome;
    if (!(await watch.ready)) {
      const now = deps.clock();
      await deps.wakeups.schedule(key, Math.max(watch.wakeAt, now), now);
      return outcome;
    }
  }
}

async function leasedPass(deps: RunnerDeps, key: RolloutKey, slot: WatchSlot): Promise<Outcome> {
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  for (let attempt = 1; ; attempt++) {
    const now = deps.clock();
    const leased = await deps.store.acquireLease(key, deps.owner, now, now + leaseMs);
    if (!leased.ok) return { key, result: leased.error };
    const stored = leased.value;
    let heldUntil = now + leaseMs;
    const fence = async () => {
      // No other runner can take the lease before it runs out (acquireLease), so while three
      // quarters of it remain the last acquisition or renewal proves it is held, at no store round
      // trip per write; past that, the renewal extends it or finds it lost.
      if (heldUntil - deps.clock() > (leaseMs * 3) / 4) return;
      const until = deps.clock() + leaseMs;
      if (!(await deps.store.renewLease(key, deps.owner, until))) throw new LeaseLostError(key);
      heldUntil = until;
    };
    try {
      const outcome = await passOnce({ deps, stored, now, fence }, slot);
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

/**
 * Starts watching the Deployment `wait` names, from the version this pass read, for what is left
 * of the budget; undefined when there is no budget or no watch. A watch that fails (no `watch`
 * right, a lost connection) is no worse than none: it ends in the engine's wake-up.
 */
function startWatch(
  cluster: ClusterPort,
  rollout: StoredRollout['rollout'],
  wait: PodWait,
  observed: Observed,
  slot: WatchSlot,
  now: number,
  signal: AbortSignal,
): Promise<ObservedDeployment | undefined> | undefined {
  const seconds = Math.floor((slot.deadline - now) / 1000);
  if (seconds < 1 || !slot.mayContinue || !cluster.deployments.waitFor) return undefined;
  const { workload, namespace } = rollout;
  const name = wait.deployment === 'stable' ? workload.stableDeployment : workload.canaryDeployment;
  return cluster.deployments
    .waitFor(
      namespace,
      name,
      observed[wait.deployment],
      workload.container,
      seconds,
      (deployment) => podsReady(wait, deployment),
      signal,
    )
    .catch(() => undefined);
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

function recordFailure(
  deps: RunnerDeps,
  stored: StoredRollout,
  message: string,
  retryAfterSeconds?: number,
): Promise<Outcome> {
  return recordPassFailure(
    deps,
    { kind: 'rollout', key: stored.key, failures: stored.failures, message, retryAfterSeconds },
    (retryAt, now) => deps.store.recordError({ stored, owner: deps.owner, message, retryAt, now }),
  );
}

/**
 * A pass of a Rollout or a fleet record that failed: logged, recorded by `record`, due again after
 * the backoff for one more failure in a row, and woken then.
 */
export async function recordPassFailure(
  deps: RunnerDeps,
  failed: {
    kind: 'rollout' | 'fleet';
    key: RolloutKey;
    failures: number | undefined;
    message: string;
    retryAfterSeconds?: number | undefined;
  },
  record: (retryAt: number, now: number) => Promise<void>,
): Promise<Outcome> {
  const { kind, key, message } = failed;
  const now = deps.clock();
  const retryAt = now + backoffMs((failed.failures ?? 0) + 1, failed.retryAfterSeconds);
  deps.logger?.error(`${kind} pass failed`, { [kind]: formatKey(key), error: message, retryAt });
  await record(retryAt, now);
  await deps.wakeups.schedule(key, retryAt, now).catch(() => undefined);
  return { key, result: 'error', message, retryAt };
}

async function passOnce(context: PassContext, slot: WatchSlot): Promise<Outcome | 'conflict'> {
  const { deps, stored, now } = context;
  const { rollout } = stored;
  const cluster = await deps.clusters.get(rollout.cluster);
  // The store and the cluster are read side by side: a pass waits for the slower, not the sum.
  const [commands, observed, templates] = await Promise.all([
    deps.store.pendingCommands(stored.key),
    observe(cluster, stored).catch(invalidReference),
    loadTemplates(deps, rollout).catch(invalidReference),
  ]);
  if (observed instanceof InvalidReferenceError) return saveInvalid(context, observed.message, null);
  if (templates instanceof InvalidReferenceError) return saveInvalid(context, templates.message, null);

  let status = recoverFromInvalidSpec(stored.status);
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
  // Beyond the wake-up's reach, due when it comes within reach: that pass arms it (wake-schedule.ts).
  const dueAt = wakeAt === null ? null : storedDueAt(wakeAt, now, deps.wakeups.reachMs);
  const waitingFor = decisions.at(-1)?.waitingFor;

  try {
    await act(context, cluster, observed, actions);
  } catch (error) {
    if (!(error instanceof InvalidReferenceError)) throw error;
    return saveInvalid(context, error.message, null);
  }

  const events = actions.flatMap((action) => (action.type === 'emit' ? [action.event] : []));
  history.push(...events.map((event) => transition(event, status, at, deps.owner)));
  const abandon = new AbortController();
  const ready =
    wakeAt !== null && waitingFor && deps.watchSeconds
      ? startWatch(cluster, rollout, waitingFor, observed, slot, deps.clock(), abandon.signal)
      : undefined;
  const saved = await deps.store
    .savePass({ stored, owner: deps.owner, status, dueAt, processed: commands, history, now })
    .catch((error: unknown) => {
      abandon.abort();
      throw error;
    });
  if (!saved.ok) {
    abandon.abort();
    return 'conflict';
  }
  await publish(deps, stored.key, events, status.phase, at);
  // processRollout waits for the watch, then goes on or schedules this wake-up.
  if (ready && wakeAt !== null) slot.watch = { ready, wakeAt };
  else if (wakeAt !== null) {
    // Timed from now, not from the pass's start: a pause ends at its instant, not a pass later.
    await deps.wakeups.schedule(stored.key, wakeAt, deps.clock());
  }
  return { key: stored.key, result: 'done', status, dueAt };
}

/** A reference the Rollout makes that does not hold is a value (InvalidSpec); anything else stays thrown. */
function invalidReference(error: unknown): InvalidReferenceError {
  if (error instanceof InvalidReferenceError) return error;
  throw error;
}

async function observe(cluster: ClusterPort, stored: StoredRollout): Promise<Observed> {
  const { rollout, status } = stored;
  const inScope = checkScope(rollout, [cluster.scope]);
  if (!inScope.ok) throw new InvalidReferenceError(inScope.error);
  const { namespace, workload } = rollout;
  // Every read at once: a pass's reads cost one round trip, not one each.
  const [stable, canary, ...read] = await Promise.all([
    cluster.deployments.observe(namespace, workload.stableDeployment, workload.container),
    cluster.deployments.observe(namespace, workload.canaryDeployment, workload.container),
    ...rollout.canary.virtualServices.map((ref) => cluster.virtualServices.get(ref)),
  ]);
  const virtualServices = new Map<string, VirtualService>(
    rollout.canary.virtualServices.map((ref, index) => [formatRef(ref), read[index] as VirtualService]),
  );
  const planned = plan(rollout, [...virtualServices.values()], status.weight);
  if (!planned.ok) throw new InvalidReferenceError(planned.error.map(formatPlanError));
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
  const details = [];
  if (event.stepIndex !== undefined) details.push(`step ${event.stepIndex + 1}`);
  if (event.weight !== undefined) details.push(`weight ${event.weight}`);
  return transitionEntry(event, details, status.phase, at, runner, {
    ...(event.stepIndex === undefined ? {} : { stepIndex: event.stepIndex }),
    ...(event.weight === undefined ? {} : { weight: event.weight }),
  });
}

/**
 * A transition's history entry, for a Rollout's and a fleet's events alike: one line of its type,
 * revision, the `details` its kind adds, image and message.
 */
export function transitionEntry(
  event: { type: string; revision: number; image?: string; message?: string },
  details: readonly string[],
  phase: string,
  at: string,
  runner: string,
  fields: Pick<HistoryEntry, 'stepIndex' | 'weight'> = {},
): HistoryEntry {
  const parts = [event.type, `revision ${event.revision}`, ...details];
  if (event.image) parts.push(event.image);
  if (event.message) parts.push(event.message);
  return {
    at,
    kind: 'transition',
    event: event.type,
    message: parts.join(', '),
    revision: event.revision,
    phase,
    ...fields,
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
