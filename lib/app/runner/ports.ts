/**
 * What the step runner needs from the world, and nothing more. The runner (process-rollout, pass,
 * handle) depends only on these interfaces; DynamoDB, Kubernetes and AWS implement them in
 * lib/adapters, and lib/adapters/memory implements them in memory for fast unit tests and local
 * tools. Keep each port narrow: a method exists here only because the runner calls it.
 */
import type {
  Command,
  DeploymentObservation,
  LifecycleEvent,
  RolloutStatus,
} from '../../core/engine/types.js';
import type { EngineOptions } from '../../core/engine/types.js';
import type { TemplateRef } from '../../core/engine/analysis.js';
import type { MetricProvider } from '../../core/analysis/provider.js';
import type { ClusterScope } from '../../core/model/clusters.js';
import type { JsonPatchOperation } from '../../core/istio/weights.js';
import type { ObjectRef } from '../../core/model/references.js';
import type { VirtualService } from '../../core/model/virtualservice.js';
import type { Result } from '../../core/result.js';
import type { Fleet } from '../../core/model/fleet.js';
import type { FleetCommand, FleetOptions, FleetStatus, MemberStatuses } from '../../core/fleet/types.js';
import type {
  CommandResult,
  HistoryEntry,
  RecordedError,
  RolloutKey,
  StoredCommand,
  StoredRollout,
} from '../../adapters/dynamodb/types.js';

export type { CommandResult, HistoryEntry, RecordedError, RolloutKey, StoredCommand, StoredRollout };

/** `cluster/namespace/name`: how a Rollout is named in messages and logs. */
export function formatKey(key: RolloutKey): string {
  return `${key.cluster}/${key.namespace}/${key.name}`;
}

/** Milliseconds since the epoch; injected so tests and benchmarks control time. */
export type Clock = () => number;

// ---------------------------------------------------------------------------------------------
// Store

export interface SaveInput {
  stored: StoredRollout;
  owner: string;
  status: RolloutStatus;
  dueAt: number | null;
  processed: StoredCommand[];
  history: HistoryEntry[];
  now: number;
}

export interface ErrorInput {
  stored: StoredRollout;
  owner: string;
  message: string;
  /** When to try again. */
  retryAt: number;
  now: number;
}

/** The part of the Rollout store a runner pass uses. Every write is conditional on the lease. */
export interface RunnerStore {
  /** Keys of the Rollouts due at `now`, earliest first. */
  due(now: number): Promise<RolloutKey[]>;
  /** Takes the Rollout for `owner` until `until` unless another owner holds an unexpired lease; its state. */
  acquireLease(
    key: RolloutKey,
    owner: string,
    now: number,
    until: number,
  ): Promise<Result<StoredRollout, 'not-found' | 'leased-elsewhere'>>;
  /** Extends `owner`'s lease to `until`; false when `owner` no longer holds it (another runner took it). */
  renewLease(key: RolloutKey, owner: string, until: number): Promise<boolean>;
  /** Commands queued for the Rollout, in receipt order. */
  pendingCommands(key: RolloutKey): Promise<StoredCommand[]>;
  /** Queues a command and makes the Rollout due now, atomically. */
  enqueueCommand(key: RolloutKey, command: Command, source: string, now: number): Promise<CommandResult>;
  /**
   * Saves status, next due time, consumed commands and history atomically, releases the lease and
   * clears the last error; only if the version and command sequence are what was read and `owner`
   * still holds the lease. `err('conflict')` when that lost.
   */
  savePass(input: SaveInput): Promise<Result<void, 'conflict'>>;
  /**
   * A pass that could not act: the status is kept, the error recorded (an identical repeat only
   * counts up, with the last time, and adds no history item), the lease released, due at `retryAt`.
   */
  recordError(input: ErrorInput): Promise<void>;
  /**
   * The stored AnalysisTemplate/ClusterAnalysisTemplate documents (as applied, unparsed) for the
   * refs that exist; a missing ref is simply absent.
   */
  templates(refs: TemplateRef[]): Promise<StoredTemplate[]>;
}

// ---------------------------------------------------------------------------------------------
// Fleets

/** A fleet record as read under its lease: kept like a Rollout (version, command sequence, lease). */
export interface StoredFleet {
  key: RolloutKey;
  fleet: Fleet;
  status: FleetStatus;
  /** The underlying record, for the conditional save. */
  record: StoredRollout;
}

export interface StoredFleetCommand {
  sortKey: string;
  command: FleetCommand;
  source: string;
  receivedAt: string;
}

export interface FleetSaveInput {
  stored: StoredFleet;
  owner: string;
  status: FleetStatus;
  dueAt: number | null;
  processed: StoredFleetCommand[];
  history: HistoryEntry[];
  now: number;
}

/** What a fleet pass needs of the store; every write is conditional on the fleet's lease, as for Rollouts. */
export interface FleetRecords {
  acquireLease(
    key: RolloutKey,
    owner: string,
    now: number,
    until: number,
  ): Promise<Result<StoredFleet, 'not-found' | 'leased-elsewhere'>>;
  renewLease(key: RolloutKey, owner: string, until: number): Promise<boolean>;
  pendingCommands(key: RolloutKey): Promise<StoredFleetCommand[]>;
  /** Each member's stored status, by cluster. */
  members(fleet: Fleet): Promise<MemberStatuses>;
  /** Queues a command for a member once ever per `dedupeKey`, and makes the member due now. */
  enqueueMember(
    key: RolloutKey,
    command: Command,
    source: string,
    now: number,
    dedupeKey: string,
  ): Promise<CommandResult>;
  savePass(input: FleetSaveInput): Promise<Result<void, 'conflict'>>;
  recordError(input: FleetErrorInput): Promise<void>;
}

export type FleetErrorInput = Omit<ErrorInput, 'stored'> & { stored: StoredFleet };

/** `Kind/namespace/name` (`Kind/name` for a ClusterAnalysisTemplate): how a stored template is keyed. */
export function templateKey(ref: TemplateRef): string {
  return ref.namespace === undefined ? `${ref.kind}/${ref.name}` : `${ref.kind}/${ref.namespace}/${ref.name}`;
}

/** An AnalysisTemplate or ClusterAnalysisTemplate as `rollouts apply` stored it. */
export interface StoredTemplate {
  ref: TemplateRef;
  /** The manifest document; the runner parses it with parseAnalysisTemplate. */
  document: unknown;
}

/** What `recordError` stores after `previous`: the same message counts up, another starts afresh. */
export function nextError(previous: RecordedError | undefined, message: string, at: string): RecordedError {
  return previous?.message === message
    ? { ...previous, count: previous.count + 1, lastAt: at }
    : { message, count: 1, firstAt: at, lastAt: at };
}

// ---------------------------------------------------------------------------------------------
// Clusters

/** A Deployment as the runner needs it: what the engine observes plus where its container is. */
export interface ObservedDeployment extends DeploymentObservation {
  containerIndex: number;
  /** metadata.resourceVersion as read: a watch starts after it. */
  resourceVersion?: string;
}

/** Deployments: the stable and canary workloads of a Rollout. */
export interface WorkloadPort {
  observe(namespace: string, name: string, container: string | undefined): Promise<ObservedDeployment>;
  /** Sets the container's image, guarded by the container read; false when already there. */
  setImage(
    namespace: string,
    name: string,
    current: ObservedDeployment,
    container: string | undefined,
    image: string,
  ): Promise<boolean>;
  /** Scales through the scale subresource; false when already there. */
  scale(namespace: string, name: string, current: ObservedDeployment, replicas: number): Promise<boolean>;
  /**
   * Watches the Deployment from `after.resourceVersion` until `ready` holds (the observation then),
   * for at most `timeoutSeconds` (undefined: it did not, or the watch could not run). Optional: a
   * runner without it comes back at the engine's wake-up instead.
   */
  waitFor?(
    namespace: string,
    name: string,
    after: ObservedDeployment,
    container: string | undefined,
    timeoutSeconds: number,
    ready: (deployment: ObservedDeployment) => boolean,
    /** Ends the watch early (undefined): the pass that started it could not save. */
    signal?: AbortSignal,
  ): Promise<ObservedDeployment | undefined>;
}

/**
 * The Istio traffic router, after Argo Rollouts' TrafficRoutingReconciler but only what a
 * VirtualService weight change needs: read an object, apply a guarded JSON Patch planned by
 * lib/core/istio. Planning and the re-read on a lost race live in the runner (traffic.ts).
 */
export interface TrafficRouter {
  /** InvalidReferenceError when it does not exist. */
  get(ref: ObjectRef): Promise<VirtualService>;
  /** The patched object, or `err('conflict')` when a guard `test` failed or the write raced (422/409). */
  apply(ref: ObjectRef, patch: JsonPatchOperation[]): Promise<Result<VirtualService, 'conflict'>>;
}

export interface ClusterPort {
  /** The namespaces the runner may act in there, from the registry. */
  scope: ClusterScope;
  deployments: WorkloadPort;
  virtualServices: TrafficRouter;
}

export interface ClusterResolver {
  /** UnknownClusterError when no cluster of that name is registered. */
  get(name: string): Promise<ClusterPort>;
  /** Drops a cached connection (its credentials were refused); the next `get` connects afresh. */
  forget(name: string): void;
}

/** The Rollout does not fit what is in the cluster: nothing is written until it is fixed. */
export class InvalidReferenceError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'InvalidReferenceError';
  }
}

/** A cluster API call that failed: the HTTP status and the server's Retry-After, if any. */
export class ClusterApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ClusterApiError';
  }
}

/** A Rollout names a cluster nobody registered. */
export class UnknownClusterError extends Error {
  constructor(
    readonly cluster: string,
    known: string[],
  ) {
    super(`cluster '${cluster}' is not registered (known: ${known.join(', ') || 'none'})`);
    this.name = 'UnknownClusterError';
  }
}

// ---------------------------------------------------------------------------------------------
// Events, wake-ups, logging

export interface PublishedEvent {
  key: RolloutKey;
  event: LifecycleEvent;
  phase: RolloutStatus['phase'];
  at: string;
}

/** Lifecycle events, published only after the transition that caused them is saved. */
export interface EventPublisher {
  publish(events: PublishedEvent[]): Promise<void>;
}

/** Wakes the runner for `key` at `at` (a best effort: the schedule is the safety net). */
export interface WakeupScheduler {
  schedule(key: RolloutKey, at: number, now: number): Promise<void>;
  /**
   * The longest wait (ms) `schedule` can arm; a later instant is dropped. Absent: no limit. The
   * runner stores a longer wait due when it comes within reach (core/engine/wake-schedule.ts).
   */
  readonly reachMs?: number;
}

/** Structured logging, as Powertools' Logger offers it: a message and its attributes. */
export interface RunnerLogger {
  info(message: string, detail: Record<string, unknown>): void;
  warn(message: string, detail: Record<string, unknown>): void;
  error(message: string, detail: Record<string, unknown>): void;
}

// ---------------------------------------------------------------------------------------------
// Analysis

/** Secrets Manager, read-only: the value of a secret args refer to with valueFrom.secretsManager. */
export interface SecretReader {
  /** The SecretString; throws with a message naming the secret when it cannot be read. */
  read(secretId: string): Promise<string>;
}

export interface RunnerDeps {
  store: RunnerStore;
  /** Fleet records; without them a fleet's key is not found. */
  fleets?: FleetRecords;
  fleet?: FleetOptions;
  /** Takes the measurements analysis runs ask for (lib/adapters/metrics createProviders). */
  metrics: MetricProvider;
  secrets: SecretReader;
  clusters: ClusterResolver;
  events: EventPublisher;
  wakeups: WakeupScheduler;
  /** Who holds the lease: a Lambda request id, a local process. */
  owner: string;
  clock: Clock;
  leaseMs?: number;
  engine?: EngineOptions;
  /**
   * How long a pass may watch the Deployments it waits for and go on when they are ready (seconds,
   * within the Lambda's time budget); absent: no watch, the pass ends and the wake-up brings it back.
   */
  watchSeconds?: number;
  logger?: RunnerLogger;
}
