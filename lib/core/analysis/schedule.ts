/**
 * Which measurements are due: a pure function of the runs and the time (Argo's generateMetricTasks
 * and calculateNextReconcileTime). The runner takes exactly these, each under its timeout, and hands
 * them back in the observation keyed by run id, metric and index.
 */
import { argsUsed, substituteTree } from './args.js';
import { ERROR_RETRY_MS, isCompleted, isTerminating, type AnalysisRun, type SecretArg } from './run.js';
import type { FrozenMetric } from './metric.js';
import type { Result } from '../result.js';

/** A measurement's time limit when its provider block sets none. */
export const DEFAULT_MEASUREMENT_TIMEOUT_MS = 30_000;

export interface DueMeasurement {
  runId: string;
  metric: string;
  /** Hand it back unchanged: a measurement counts only for the index the metric is waiting for. */
  index: number;
  /** The metric's provider block, args substituted except the secrets below. */
  provider: Record<string, unknown>;
  timeoutMs: number;
  /** Args to read from Secrets Manager and fill in with `withSecrets` before measuring. */
  secrets: SecretArg[];
}

export interface Schedule {
  due: DueMeasurement[];
  /** Epoch ms of the next measurement after these, or null when none is pending. */
  nextAt: number | null;
}

/** When a metric's next measurement is due, or undefined when it takes no more. */
export function nextMeasurementAt(run: AnalysisRun, metricIndex: number): number | undefined {
  if (isCompleted(run.phase) || isTerminating(run)) return undefined;
  const metric = run.metrics[metricIndex];
  const result = run.results[metricIndex];
  if (!metric || !result || isCompleted(result.phase)) return undefined;
  const last = result.measurements.at(-1);
  if (!last) return Date.parse(run.startedAt) + (metric.initialDelayMs ?? 0);
  if (metric.count !== undefined && result.count >= metric.count) return undefined;
  const interval = last.phase === 'Error' ? ERROR_RETRY_MS : (metric.intervalMs ?? ERROR_RETRY_MS);
  return Date.parse(last.at) + interval;
}

export function measurementsDue(runs: readonly AnalysisRun[], now: number): Schedule {
  const due: DueMeasurement[] = [];
  let nextAt: number | null = null;
  for (const run of runs) {
    run.metrics.forEach((_metric, index) => {
      const at = nextMeasurementAt(run, index);
      if (at === undefined) return;
      if (at <= now) due.push(measurementOf(run, index));
      else nextAt = nextAt === null ? at : Math.min(nextAt, at);
    });
  }
  return { due, nextAt };
}

/** The measurement metric `index` of `run` is waiting for, whether or not it is due. */
export function measurementOf(run: AnalysisRun, index: number): DueMeasurement {
  const metric = run.metrics[index] as FrozenMetric;
  return {
    runId: run.id,
    metric: metric.name,
    index: run.results[index]?.taken ?? 0,
    provider: metric.provider,
    timeoutMs: timeoutOf(metric),
    secrets: run.secrets.filter((secret) => argsUsed(metric.provider).has(secret.name)),
  };
}

/** Argo's provider timeouts: prometheus `timeout` and web `timeoutSeconds`, both in seconds. */
function timeoutOf(metric: FrozenMetric): number {
  const [block] = Object.values(metric.provider) as Record<string, unknown>[];
  const seconds = Number(block?.timeout ?? block?.timeoutSeconds);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_MEASUREMENT_TIMEOUT_MS;
}

/** The provider block with the secret args filled in (values keyed by arg name), for the runner. */
export function withSecrets(
  due: DueMeasurement,
  values: ReadonlyMap<string, string>,
): Result<Record<string, unknown>> {
  return substituteTree(due.provider, values);
}
