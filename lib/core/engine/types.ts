/** The step engine's vocabulary: status kept per Rollout, what was observed, commands and actions. */
import type { Measurement } from '../analysis/provider.js';
import type { AnalysisRun, RunKind } from '../analysis/run.js';
import type { AnalysisTemplate } from '../analysis/template.js';
import type { Result } from '../result.js';
import type { RouteStep } from '../model/route-steps.js';

export type Phase = 'Healthy' | 'Progressing' | 'Paused' | 'Promoting' | 'Degraded' | 'InvalidSpec';

/** After the last step: first the canary takes all traffic, then the stable Deployment takes the image. */
export type PromotionStage = 'ScaleCanary' | 'UpdateStable';

export interface RolloutStatus {
  phase: Phase;
  /** 1 for what was there when the Rollout was applied; each new image is the next revision. */
  revision: number;
  stableImage?: string;
  /** The image being rolled out; absent when Healthy. */
  canaryImage?: string;
  stepIndex: number;
  /** The canary weight the steps have reached (what the VirtualServices should carry). */
  weight: number;
  promotion?: PromotionStage;
  /** ISO instants. */
  pauseStartedAt?: string;
  pauseUntil?: string;
  waitingSince?: string;
  abortedAt?: string;
  canaryScaledDown?: boolean;
  message?: string;
  /** The analysis runs of this revision (frozen templates, counters, last measurements). */
  analysis?: AnalysisStatus;
  /** Paused because this analysis was Inconclusive: promote goes on, abort rolls back. */
  pausedForAnalysis?: RunKind;
}

export interface AnalysisStatus {
  /** How many runs this Rollout has started: numbers the next run's id. */
  runs: number;
  /** The run of the current (or last) analysis step. */
  step?: AnalysisRun;
  background?: AnalysisRun;
}

/** A measurement the runner took for one entry of `dueMeasurements`, handed back as it was asked. */
export interface TakenMeasurement {
  runId: string;
  metric: string;
  index: number;
  /** Epoch ms when the measurement finished. */
  at: number;
  result: Result<Measurement, string>;
}

export interface DeploymentObservation {
  image?: string;
  /** spec.replicas */
  replicas: number;
  generation: number;
  observedGeneration: number;
  /** status.replicas: every pod, old and new */
  statusReplicas: number;
  updatedReplicas: number;
  availableReplicas: number;
}

export interface Observation {
  stable: DeploymentObservation;
  canary: DeploymentObservation;
  /** The templates `analysisTemplateRefs` names, as stored now: read only when a run starts. */
  analysisTemplates?: AnalysisTemplate[];
  /** Measurements taken for `dueMeasurements(status, now)` with the same status and now. */
  measurements?: TakenMeasurement[];
}

export type Command =
  | { kind: 'setImage'; image: string }
  | { kind: 'promote' }
  | { kind: 'promoteFull' }
  | { kind: 'abort' }
  | { kind: 'retry' };

export type LifecycleEventType =
  | 'Rollout Started'
  | 'Rollout Step Completed'
  | 'Rollout Paused'
  | 'Rollout Promoted'
  | 'Rollout Completed'
  | 'Rollout Aborted'
  | 'Analysis Run Started'
  | 'Analysis Run Successful'
  | 'Analysis Run Failed'
  | 'Analysis Run Error'
  | 'Analysis Run Inconclusive'
  /** A fleet's events (lib/core/fleet): on the fleet's key, with the wave and its clusters. */
  | 'Wave Started'
  | 'Wave Completed'
  | 'Fleet Aborted';

export interface LifecycleEvent {
  type: LifecycleEventType;
  revision: number;
  image?: string;
  stepIndex?: number;
  weight?: number;
  message?: string;
  wave?: string;
  clusters?: string[];
}

export type Action =
  | { type: 'setCanaryImage'; image: string }
  | { type: 'scaleCanary'; replicas: number }
  /** `routes`: the header and mirror routes to keep (managed-routes.ts); absent: leave them alone. */
  | { type: 'setWeight'; weight: number; routes?: RouteStep[] }
  | { type: 'setStableImage'; image: string }
  | { type: 'emit'; event: LifecycleEvent };

export interface CommandOutcome {
  accepted: boolean;
  message: string;
}

/**
 * Pods a pass ended waiting for: the canary's `availablePods` on `image`, or the stable Deployment
 * fully rolled out to `image`. `podsReady` tells when an observation satisfies it.
 */
export type PodWait =
  { deployment: 'canary'; image: string; availablePods: number } | { deployment: 'stable'; image: string };

export interface Decision {
  status: RolloutStatus;
  /** In order: traffic moves away from pods before they go, and towards them only once they are there. */
  actions: Action[];
  /** Epoch ms of the next instant this Rollout needs a pass, or null when nothing is pending. */
  wakeAt: number | null;
  /** Set when the pass waits for pods: the runner may watch for them instead of coming back at wakeAt. */
  waitingFor?: PodWait;
  command?: CommandOutcome;
}

export interface EngineOptions {
  /** How often to look again while waiting for pods. */
  pollSeconds: number;
  /** How often to re-assert weights while nothing else is due (corrects drift). */
  resyncSeconds: number;
}
