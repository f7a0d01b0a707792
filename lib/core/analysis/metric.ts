/**
 * A metric's numbers and their rules (Argo's ValidateMetric and EffectiveCount), and the frozen form
 * a run keeps: every argument substituted, every field a number, defaults applied.
 */
import { err, ok, type Result } from '../result.js';
import { compileCondition } from './conditions.js';
import { parseGoDuration } from './duration.js';
import type { IntOrString, MetricSpec } from './template.js';

export const DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4;
/** Argo's DefaultMeasurementHistoryLimit: measurements kept per metric unless measurementRetention says. */
export const DEFAULT_MEASUREMENT_RETENTION = 10;

export interface FrozenMetric {
  name: string;
  intervalMs?: number;
  initialDelayMs?: number;
  /** Argo's effective count: absent = measure until the run is terminated. */
  count?: number;
  successCondition?: string;
  failureCondition?: string;
  failureLimit: number;
  inconclusiveLimit: number;
  consecutiveErrorLimit: number;
  consecutiveSuccessLimit: number;
  dryRun: boolean;
  measurementRetention: number;
  /** Args substituted, except secrets (`{{args.x}}` left for the runner: see measurementsDue). */
  provider: Record<string, unknown>;
}

const PLACEHOLDER = /\{\{[^{}]*\}\}/;

/** An IntOrString as a number; undefined while it still holds `{{args.x}}` (checked once resolved). */
function intValue(
  field: string,
  value: IntOrString | undefined,
  fallback: number,
): Result<number | undefined> {
  if (value === undefined) return ok(fallback);
  if (typeof value === 'number') return ok(value);
  if (PLACEHOLDER.test(value)) return ok(undefined);
  const trimmed = value.trim();
  return /^[+-]?\d+$/.test(trimmed)
    ? ok(Number(trimmed))
    : err(`${field} must be an integer, found '${value}'`);
}

function durationMs(field: string, label: string, value: string | undefined): Result<number | undefined> {
  if (value === undefined || value === '' || PLACEHOLDER.test(value)) return ok(undefined);
  const parsed = parseGoDuration(value);
  return parsed.ok ? parsed : err(`invalid ${label} string: ${parsed.error}`);
}

interface Numbers {
  count: number | undefined;
  failureLimit: number | undefined;
  inconclusiveLimit: number | undefined;
  consecutiveErrorLimit: number | undefined;
  consecutiveSuccessLimit: number | undefined;
  intervalMs: number | undefined;
  initialDelayMs: number | undefined;
}

function readNumbers(metric: MetricSpec): Result<Numbers> {
  const fields = {
    count: intValue('count', metric.count, 0),
    failureLimit: intValue('failureLimit', metric.failureLimit, 0),
    inconclusiveLimit: intValue('inconclusiveLimit', metric.inconclusiveLimit, 0),
    consecutiveErrorLimit: intValue(
      'consecutiveErrorLimit',
      metric.consecutiveErrorLimit,
      DEFAULT_CONSECUTIVE_ERROR_LIMIT,
    ),
    consecutiveSuccessLimit: intValue('consecutiveSuccessLimit', metric.consecutiveSuccessLimit, 0),
    intervalMs: durationMs('interval', 'interval', metric.interval),
    initialDelayMs: durationMs('initialDelay', 'startDelay', metric.initialDelay),
  };
  const out: Partial<Numbers> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (!value.ok) return value;
    out[key as keyof Numbers] = value.value;
  }
  return ok(out as Numbers);
}

/** Argo's ValidateMetric, in its words; rules whose numbers are still `{{args.x}}` wait for the run. */
export function validateMetricSpec(metric: MetricSpec): Result<void> {
  const read = readNumbers(metric);
  if (!read.ok) return read;
  const {
    count = 0,
    failureLimit,
    inconclusiveLimit,
    consecutiveErrorLimit,
    consecutiveSuccessLimit,
  } = read.value;
  const known = (value: number | undefined): value is number => value !== undefined;
  if (known(consecutiveSuccessLimit) && consecutiveSuccessLimit < 0)
    return err('consecutiveSuccessLimit must be >= 0');
  if (known(failureLimit) && failureLimit < -1) return err('failureLimit must be >= 0, or -1 to be disabled');
  if (consecutiveSuccessLimit === 0 && failureLimit === -1)
    return err('failureLimit and consecutiveSuccessLimit cannot both be disabled');
  if (known(inconclusiveLimit) && inconclusiveLimit < 0) return err('inconclusiveLimit must be >= 0');
  if (known(consecutiveErrorLimit) && consecutiveErrorLimit < 0)
    return err('consecutiveErrorLimit must be >= 0');
  if (count > 0 && known(consecutiveSuccessLimit) && known(failureLimit)) {
    if (consecutiveSuccessLimit >= 0 && failureLimit >= 0 && count < failureLimit + consecutiveSuccessLimit)
      return err(
        `count (${count}) must be >= failureLimit + consecutiveSuccessLimit (${failureLimit} + ${consecutiveSuccessLimit}) if both >= 0`,
      );
    if (consecutiveSuccessLimit >= 0 && failureLimit < 0 && count < consecutiveSuccessLimit)
      return err('count must be >= consecutiveSuccessLimit');
  }
  if (count > 0 && known(inconclusiveLimit) && count < inconclusiveLimit)
    return err('count must be >= inconclusiveLimit');
  if (count > 1 && !metric.interval) return err('interval must be specified when count > 1');
  for (const kind of ['successCondition', 'failureCondition'] as const) {
    const expression = metric[kind];
    if (!expression) continue;
    // A value substituted into the expression is checked when the run resolves it; `0` stands in now.
    const compiled = compileCondition(expression.replace(/\{\{[^{}]*\}\}/g, '0'));
    if (!compiled.ok) return err(`${kind} "${expression}": ${compiled.error}`);
  }
  return ok(undefined);
}

/** A resolved metric (no `{{args.x}}` left outside the provider) as a run keeps it. */
export function freezeMetric(
  metric: MetricSpec,
  options: { dryRun: boolean; measurementRetention?: number },
): Result<FrozenMetric> {
  const { provider, ...fields } = metric;
  const placeholder = PLACEHOLDER.exec(JSON.stringify(fields));
  if (placeholder)
    return err(
      `metric "${metric.name}": ${placeholder[0]} is left outside the provider block (an arg from Secrets Manager may only be used in the provider)`,
    );
  const valid = validateMetricSpec(metric);
  if (!valid.ok) return err(`metric "${metric.name}": ${valid.error}`);
  const read = readNumbers(metric);
  if (!read.ok) return err(`metric "${metric.name}": ${read.error}`);
  const numbers = read.value;
  const count = numbers.count ?? 0;
  const effectiveCount = count === 0 ? (numbers.intervalMs === undefined ? 1 : undefined) : count;
  return ok({
    name: metric.name,
    ...(numbers.intervalMs !== undefined ? { intervalMs: numbers.intervalMs } : {}),
    ...(numbers.initialDelayMs !== undefined ? { initialDelayMs: numbers.initialDelayMs } : {}),
    ...(effectiveCount !== undefined ? { count: effectiveCount } : {}),
    ...(metric.successCondition ? { successCondition: metric.successCondition } : {}),
    ...(metric.failureCondition ? { failureCondition: metric.failureCondition } : {}),
    failureLimit: numbers.failureLimit ?? 0,
    inconclusiveLimit: numbers.inconclusiveLimit ?? 0,
    consecutiveErrorLimit: numbers.consecutiveErrorLimit ?? DEFAULT_CONSECUTIVE_ERROR_LIMIT,
    consecutiveSuccessLimit: numbers.consecutiveSuccessLimit ?? 0,
    dryRun: options.dryRun,
    measurementRetention:
      options.measurementRetention && options.measurementRetention > 0
        ? options.measurementRetention
        : DEFAULT_MEASUREMENT_RETENTION,
    provider,
  });
}
