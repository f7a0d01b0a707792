/**
 * One Rollout, one pass: lease -> observe -> decide -> act -> save -> publish -> wake-up. The only
 * place where the engine's decisions meet the cluster and the store.
 */
import {
  decide,
  DEFAULT_ENGINE_OPTIONS,
  markInvalidSpec,
  recoverFromInvalidSpec,
} from '../../core/engine/decide.js';
import type {
  Action,
  Command,
  Decision,
  EngineOptions,
  LifecycleEvent,
  RolloutStatus,
} from '../../core/engine/types.js';
import { formatPlanError, plan } from '../../core/istio/weights.js';
import type { ClusterClient, ClusterConnections } from '../../adapters/kube/clusters.js';
import type { ObservedDeployment } from '../../adapters/kube/deployments.js';
import { InvalidReferenceError, KubeApiError } from '../../adapters/kube/errors.js';
import { checkScope } from '../../core/model/clusters.js';
import { formatRef } from '../../core/model/references.js';
import type { VirtualService } from '../../core/model/virtualservice.js';
import { formatKey, type RolloutStore } from '../../adapters/dynamodb/repository.js';
import type { HistoryEntry, RolloutKey, StoredRollout } from '../../adapters/dynamodb/types.js';
import type { EventPublisher, PublishedEvent } from '../../adapters/aws/events.js';
import type { WakeupScheduler } from '../../adapters/aws/wakeups.js';

export interface RunnerDeps {
  store: RolloutStore;
  clusters: ClusterConnections;
  events: EventPublisher;
  wakeups: WakeupScheduler;
  /** Who holds the lease: a Lambda request id, a local process. */
  owner: string;
  clock: () => number;
  leaseMs?: number;
  engine?: EngineOptions;
  log?: (message: string, detail?: Record<string, unknown>) => void;
}

export type Outcome =
  | { key: RolloutKey; result: 'done'; status: RolloutStatus; dueAt: number | null }
  | { key: RolloutKey; result: 'leased-elsewhere' }
  | { key: RolloutKey; result: 'invalid-spec'; message: string }
  | { key: RolloutKey; result: 'error'; message: string };

const DEFAULT_LEASE_MS = 120_000;
const ERROR_RETRY_MS = 10_000;
const MAX_SAVE_ATTEMPTS = 3;

interface Observed {
  stable: ObservedDeployment;
  canary: ObservedDeployment;
  virtualServices: Map<string, VirtualService>;
}

export async function processRollout(deps: RunnerDeps, key: RolloutKey): Promise<Outcome> {
  for (let attempt = 1; ; attempt++) {
    const now = deps.clock();
    const stored = await deps.store.acquireLease(
      key,
      deps.owner,
      now,
      now + (deps.leaseMs ?? DEFAULT_LEASE_MS),
    );
    if (!stored) return { key, result: 'leased-elsewhere' };
    try {
      const outcome = await passOnce(deps, stored, now);
      if (outcome !== 'conflict') return outcome;
      if (attempt >= MAX_SAVE_ATTEMPTS) {
        const message = `status not saved: the rollout changed during ${attempt} passes in a row`;
        await deps.store.recordError(stored, deps.owner, message, deps.clock(), deps.clock());
        return { key, result: 'error', message };
      }
    } catch (error) {
      const message = describeError(stored, error);
      const retryAfter =
        error instanceof KubeApiError && error.retryAfterSeconds
          ? error.retryAfterSeconds * 1000
          : ERROR_RETRY_MS;
      deps.log?.('rollout pass failed', { rollout: formatKey(key), error: message });
      await deps.store.recordError(stored, deps.owner, message, deps.clock() + retryAfter, deps.clock());
      await deps.wakeups.schedule(key, deps.clock() + retryAfter, deps.clock()).catch(() => undefined);
      return { key, result: 'error', message };
    }
  }
}

async function passOnce(deps: RunnerDeps, stored: StoredRollout, now: number): Promise<Outcome | 'conflict'> {
  const { rollout } = stored;
  const cluster = await deps.clusters.get(rollout.cluster);
  const commands = await deps.store.pendingCommands(stored.key);
  let observed: Observed;
  try {
    observed = await observe(cluster, stored);
  } catch (error) {
    if (!(error instanceof InvalidReferenceError)) throw error;
    return saveInvalid(deps, stored, error, now);
  }

  let status = recoverFromInvalidSpec(stored.status);
  const observation = { stable: observed.stable, canary: observed.canary };
  const decisions: Decision[] = [];
  const history: HistoryEntry[] = [];
  const at = new Date(now).toISOString();
  for (const pending of commands.length ? commands : [null]) {
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
  const actions = decisions.flatMap((decision) => decision.actions);
  const wakeAt = decisions.at(-1)?.wakeAt ?? null;

  try {
    await act(cluster, stored, observed, actions);
  } catch (error) {
    if (!(error instanceof InvalidReferenceError)) throw error;
    return saveInvalid(deps, stored, error, now);
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
  if (!saved) return 'conflict';
  await publish(deps, stored.key, events, status, at);
  if (wakeAt !== null) await deps.wakeups.schedule(stored.key, wakeAt, now);
  return { key: stored.key, result: 'done', status, dueAt: wakeAt };
}

async function observe(cluster: ClusterClient, stored: StoredRollout): Promise<Observed> {
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
  cluster: ClusterClient,
  stored: StoredRollout,
  observed: Observed,
  actions: Action[],
): Promise<void> {
  const { rollout } = stored;
  const { namespace, workload } = rollout;
  // The observed copy follows each write, so a later action in the same pass sees what is there now.
  const setImage = async (track: 'stable' | 'canary', image: string) => {
    const name = track === 'stable' ? workload.stableDeployment : workload.canaryDeployment;
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
        await cluster.virtualServices.setWeight(rollout, action.weight, observed.virtualServices);
        break;
      case 'emit':
        break;
    }
  }
}

async function saveInvalid(
  deps: RunnerDeps,
  stored: StoredRollout,
  error: InvalidReferenceError,
  now: number,
): Promise<Outcome | 'conflict'> {
  const message = `Rollout ${stored.key.namespace}/${stored.key.name}: ${error.message}`;
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
    dueAt: null,
    processed: [],
    history,
    now,
  });
  if (!saved) return 'conflict';
  return { key: stored.key, result: 'invalid-spec', message };
}

async function publish(
  deps: RunnerDeps,
  key: RolloutKey,
  events: LifecycleEvent[],
  status: RolloutStatus,
  at: string,
): Promise<void> {
  if (events.length === 0) return;
  const published: PublishedEvent[] = events.map((event) => ({ key, event, phase: status.phase, at }));
  try {
    await deps.events.publish(published);
  } catch (error) {
    // The transition is saved and in the history; a lost notification must not undo it.
    deps.log?.('publishing lifecycle events failed', {
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
