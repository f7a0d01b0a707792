/** What the dashboard's JSON API answers (lib/app/dashboard/server.ts), as the page reads it. */
import type { AnalysisRun } from '../../lib/core/analysis/run.js';

import type { FleetSummary, FleetWave } from '../../lib/app/cli/fleet-view.js';

export type { AnalysisRun, MeasurementRecord, MetricResult } from '../../lib/core/analysis/run.js';
export type { FleetMember, FleetSummary, FleetWave } from '../../lib/app/cli/fleet-view.js';

export interface Key {
  cluster: string;
  namespace: string;
  name: string;
}

export interface Summary {
  key: Key;
  phase: string;
  message?: string;
  step: number;
  steps: number;
  weight: number;
  revision: number;
  stableImage?: string;
  canaryImage?: string;
}

export interface Route {
  section: string;
  index: number;
  name?: string;
  stable: number;
  canary: number;
}

export interface HistoryEntry {
  at: string;
  kind: string;
  message: string;
}

export interface Detail {
  summary: Summary;
  rollout: { workload: { container?: string } };
  /** Each step as `rollouts get` words it. */
  steps: string[];
  status: { analysis?: { step?: AnalysisRun; background?: AnalysisRun } };
  lastError?: { message: string; count: number; lastAt: string };
  live:
    | { ref: string; routes: Route[]; managedRoutes?: { name: string; kind?: string }[] }[]
    | { unavailable: string };
  history: HistoryEntry[];
}

/** The list: Rollouts that are no fleet's member, and the fleets. */
export interface Listing {
  rollouts: Summary[];
  fleets: FleetSummary[];
}

export interface FleetKey {
  namespace: string;
  name: string;
}

export interface FleetDetail {
  summary: FleetSummary;
  waves: FleetWave[];
  lastError?: { message: string; count: number; lastAt: string };
  history: HistoryEntry[];
}

export const fleetText = (key: FleetKey) => `${key.namespace}/${key.name}`;

export const keyText = (key: Key) => `${key.cluster}/${key.namespace}/${key.name}`;
