/**
 * An analysis run: the templates and args frozen when it starts, each metric's counters and last
 * measurements, and its phase. Every function is pure: measurements come in as data, time as a
 * parameter. The rules are Argo Rollouts' (analysis/analysis.go), with one deliberate difference:
 * a metric whose count is reached with no successful measurement is Inconclusive, not Successful.
 */
import { RE2JS } from 're2js';
import { err, ok, type Result } from '../result.js';
import {
  combineTemplateArgs,
  mergeArgs,
  substituteTree,
  type ResolvedArg,
  type RolloutFields,
} from './args.js';
import { measurementPhase, type MeasurementPhase } from './conditions.js';
import { freezeMetric, type FrozenMetric } from './metric.js';
import type { Measurement } from './provider.js';
import type { AnalysisTemplate, ArgSource, MetricNameRule, RetentionRule } from './template.js';
import { templateLabel } from './template-refs.js';

export type AnalysisPhase = 'Pending' | 'Running' | 'Successful' | 'Failed' | 'Error' | 'Inconclusive';
export type RunKind = 'Step' | 'Background';

/** Argo's order, best to worst: a run is as bad as its worst metric. */
const PHASE_ORDER: AnalysisPhase[] = ['Successful', 'Running', 'Pending', 'Inconclusive', 'Error', 'Failed'];
export const isWorse = (current: AnalysisPhase, next: AnalysisPhase): boolean =>
  PHASE_ORDER.indexOf(next) > PHASE_ORDER.indexOf(current);
export const isCompleted = (phase: AnalysisPhase): boolean =>
  phase === 'Successful' || phase === 'Failed' || phase === 'Error' || phase === 'Inconclusive';

/** How long an errored measurement waits before it is taken again (Argo's DefaultErrorRetryInterval). */
export const ERROR_RETRY_MS = 10_000;
const VALUE_CHARS = 200;

export interface MeasurementRecord {
  /** The metric's measurement number, from 0: with the run id, the key that keeps it from counting twice. */
  index: number;
  phase: MeasurementPhase;
  /** When the measurement finished (ISO). */
  at: string;
  /** What the conditions saw, as JSON, cut to a readable length. */
  value?: string;
  message?: string;
}

export interface MetricResult {
  name: string;
  phase: AnalysisPhase;
  message?: string;
  /** What decided a completed phase, in Argo's words (`failed (4) > failureLimit (3)`). */
  reason?: string;
  /** Successful + Failed + Inconclusive (errors are not counted, as in Argo). */
  count: number;
  successful: number;
  failed: number;
  inconclusive: number;
  error: number;
  consecutiveError: number;
  consecutiveSuccess: number;
  /** Every measurement taken, errors included: the next measurement's index. */
  taken: number;
  /** The last `measurementRetention` measurements, oldest first. */
  measurements: MeasurementRecord[];
}

export interface SecretArg {
  name: string;
  secretsManager: { secretId: string; jsonKey?: string };
}

export interface AnalysisRun {
  /** Unique within the Rollout: measurements for any other id are ignored. */
  id: string;
  kind: RunKind;
  /** The analysis step this run belongs to (Step runs). */
  stepIndex?: number;
  /** What it was built from, for people: `AnalysisTemplate default/success-rate`. */
  templates: string[];
  startedAt: string;
  completedAt?: string;
  phase: AnalysisPhase;
  message?: string;
  /** Asked to stop (the rollout moved on, completed or aborted): no new measurements. */
  terminated?: boolean;
  /** Args read from Secrets Manager when measuring; never stored as values. */
  secrets: SecretArg[];
  metrics: FrozenMetric[];
  results: MetricResult[];
}

export interface RunRequest {
  id: string;
  kind: RunKind;
  stepIndex?: number;
  /** In the order the Rollout lists them. */
  templates: AnalysisTemplate[];
  args: ArgSource[];
  dryRun?: MetricNameRule[];
  measurementRetention?: RetentionRule[];
  fields: RolloutFields;
  now: number;
}

/**
 * Freezes the templates and args into a new run. A run that cannot be built (an arg with no value, an
 * invalid resolved metric) starts in Error with Argo's message, so the rollout reacts as to any error.
 */
export function startRun(request: RunRequest): AnalysisRun {
  const base = {
    id: request.id,
    kind: request.kind,
    ...(request.stepIndex !== undefined ? { stepIndex: request.stepIndex } : {}),
    templates: request.templates.map(templateLabel),
    startedAt: new Date(request.now).toISOString(),
  };
  const built = buildRun(request);
  if (!built.ok)
    return {
      ...base,
      phase: 'Error',
      message: built.error,
      completedAt: base.startedAt,
      secrets: [],
      metrics: [],
      results: [],
    };
  const { metrics, secrets } = built.value;
  return {
    ...base,
    phase: 'Pending',
    secrets,
    metrics,
    results: metrics.map((metric) => ({
      name: metric.name,
      phase: 'Pending',
      count: 0,
      successful: 0,
      failed: 0,
      inconclusive: 0,
      error: 0,
      consecutiveError: 0,
      consecutiveSuccess: 0,
      taken: 0,
      measurements: [],
    })),
  };
}

function buildRun(request: RunRequest): Result<{ metrics: FrozenMetric[]; secrets: SecretArg[] }> {
  const specs = request.templates.flatMap((template) => template.metrics);
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.name))
      return err(`Analysis spec invalid: two metrics have the same name '${spec.name}'`);
    seen.add(spec.name);
  }
  const combined = combineTemplateArgs(request.templates.map((template) => template.args));
  if (!combined.ok) return err(`Unable to resolve metric arguments: ${combined.error}`);
  const args = mergeArgs(combined.value, request.args, request.fields);
  if (!args.ok) return err(`Unable to resolve metric arguments: ${args.error}`);
  const values = new Map(
    args.value.flatMap((arg) => ('value' in arg ? [[arg.name, arg.value] as const] : [])),
  );
  const secrets = args.value.filter(
    (arg): arg is Extract<ResolvedArg, { secretsManager: unknown }> => 'secretsManager' in arg,
  );
  const secretNames = new Set(secrets.map((arg) => arg.name));
  const dryRunRules = [
    ...(request.dryRun ?? []),
    ...request.templates.flatMap((template) => template.dryRun),
  ];
  const retentionRules = [
    ...(request.measurementRetention ?? []),
    ...request.templates.flatMap((template) => template.measurementRetention),
  ];
  const names = specs.map((spec) => spec.name);
  const dryRun = matchRules('dryRun', 'Dry-Run', dryRunRules, names);
  if (!dryRun.ok) return err(`Analysis spec invalid: ${dryRun.error}`);
  const retention = matchRules('measurementRetention', 'Measurement Retention', retentionRules, names);
  if (!retention.ok) return err(`Analysis spec invalid: ${retention.error}`);
  const metrics: FrozenMetric[] = [];
  for (const spec of specs) {
    const resolved = substituteTree(spec, values, secretNames);
    if (!resolved.ok)
      return err(`Unable to resolve metric arguments: metric "${spec.name}": ${resolved.error}`);
    const rule = retention.value.get(spec.name) as RetentionRule | undefined;
    const frozen = freezeMetric(resolved.value, {
      dryRun: dryRun.value.has(spec.name),
      ...(rule ? { measurementRetention: rule.limit } : {}),
    });
    if (!frozen.ok) return err(`Analysis spec invalid: ${frozen.error}`);
    metrics.push(frozen.value);
  }
  return ok({ metrics, secrets: secrets.map(({ name, secretsManager }) => ({ name, secretsManager })) });
}

/**
 * Argo's GetDryRunMetrics / GetMeasurementRetentionMetrics: each rule's metricName is a regular
 * expression (RE2, unanchored, as Go's regexp.MatchString; `*` alone means every metric) that must
 * match at least one metric; the same metricName twice is an error.
 */
function matchRules<R extends MetricNameRule>(
  field: string,
  label: string,
  rules: R[],
  names: string[],
): Result<Map<string, R>> {
  const matched = new Map<string, R>();
  const seen = new Set<string>();
  for (const [index, rule] of rules.entries()) {
    if (seen.has(rule.metricName))
      return err(`two ${label} metric rules have the same name '${rule.metricName}'`);
    seen.add(rule.metricName);
    let test: (name: string) => boolean;
    if (rule.metricName === '*') test = () => true;
    else {
      try {
        const pattern = RE2JS.compile(rule.metricName);
        test = (name) => pattern.test(name);
      } catch (error) {
        return err(
          `${field}[${index}]: metricName '${rule.metricName}' is not a valid regular expression: ${(error as Error).message}`,
        );
      }
    }
    const hits = names.filter(test);
    if (hits.length === 0) return err(`${field}[${index}]: Rule didn't match any metric name(s)`);
    for (const name of hits) matched.set(name, rule);
  }
  return ok(matched);
}

/** Argo's IsTerminating: asked to stop, or a metric that counts (not dry-run) ended badly. */
export function isTerminating(run: AnalysisRun): boolean {
  if (run.terminated) return true;
  return run.results.some((result, index) => {
    if (run.metrics[index]?.dryRun) return false;
    return result.phase === 'Failed' || result.phase === 'Error' || result.phase === 'Inconclusive';
  });
}

/**
 * Counts one measurement into the run, or returns undefined when it does not belong: another run,
 * an unknown or finished metric, a stopping run, or not the measurement the metric is waiting for
 * (an index already counted, or taken for a status that was never saved).
 */
export function recordMeasurement(
  run: AnalysisRun,
  taken: { metric: string; index: number; at: number; result: Result<Measurement, string> },
): AnalysisRun | undefined {
  if (isCompleted(run.phase) || isTerminating(run)) return undefined;
  const position = run.results.findIndex((result) => result.name === taken.metric);
  const result = run.results[position];
  const metric = run.metrics[position];
  if (!result || !metric || isCompleted(result.phase) || taken.index !== result.taken) return undefined;
  const assessed = taken.result.ok
    ? measurementPhase(metric, taken.result.value.value)
    : { phase: 'Error' as const, message: taken.result.error };
  const record: MeasurementRecord = {
    index: taken.index,
    phase: assessed.phase,
    at: new Date(taken.at).toISOString(),
    ...(taken.result.ok ? { value: describeValue(taken.result.value.value) } : {}),
    ...(assessed.message ? { message: assessed.message } : {}),
  };
  const next: MetricResult = { ...result, taken: result.taken + 1 };
  switch (assessed.phase) {
    case 'Successful':
      Object.assign(next, {
        successful: next.successful + 1,
        count: next.count + 1,
        consecutiveError: 0,
        consecutiveSuccess: next.consecutiveSuccess + 1,
      });
      break;
    case 'Failed':
      Object.assign(next, {
        failed: next.failed + 1,
        count: next.count + 1,
        consecutiveError: 0,
        consecutiveSuccess: 0,
      });
      break;
    case 'Inconclusive':
      Object.assign(next, {
        inconclusive: next.inconclusive + 1,
        count: next.count + 1,
        consecutiveError: 0,
        consecutiveSuccess: 0,
      });
      break;
    case 'Error':
      Object.assign(next, {
        error: next.error + 1,
        consecutiveError: next.consecutiveError + 1,
        consecutiveSuccess: 0,
      });
      break;
  }
  next.measurements = [...result.measurements, record].slice(-metric.measurementRetention);
  if (next.phase === 'Pending') next.phase = 'Running';
  const results = run.results.map((item, index) => (index === position ? next : item));
  return { ...run, results, ...(run.phase === 'Pending' ? { phase: 'Running' as const } : {}) };
}

function describeValue(value: unknown): string {
  const text = JSON.stringify(value, (_key, item: unknown) =>
    typeof item === 'number' && !Number.isFinite(item)
      ? String(item)
      : typeof item === 'bigint'
        ? Number(item)
        : item,
  );
  const shown = text ?? 'null';
  return shown.length > VALUE_CHARS ? `${shown.slice(0, VALUE_CHARS - 1)}…` : shown;
}

interface Verdict {
  phase: AnalysisPhase;
  /** Why, in Argo's words (`failed (4) > failureLimit (3)`), when a limit decided it. */
  reason?: string;
}

/** Argo's assessMetricFailureInconclusiveOrError: later checks win (error over inconclusive over failed). */
function limitsVerdict(metric: FrozenMetric, result: MetricResult): Verdict | undefined {
  let verdict: Verdict | undefined;
  if (metric.failureLimit >= 0 && result.failed > metric.failureLimit)
    verdict = {
      phase: 'Failed',
      reason: `failed (${result.failed}) > failureLimit (${metric.failureLimit})`,
    };
  if (result.inconclusive > metric.inconclusiveLimit)
    verdict = {
      phase: 'Inconclusive',
      reason: `inconclusive (${result.inconclusive}) > inconclusiveLimit (${metric.inconclusiveLimit})`,
    };
  if (result.consecutiveError > metric.consecutiveErrorLimit)
    verdict = {
      phase: 'Error',
      reason: `consecutiveErrors (${result.consecutiveError}) > consecutiveErrorLimit (${metric.consecutiveErrorLimit})`,
    };
  return verdict;
}

/** Argo's assessMetricStatus, plus the zero-successes rule. */
export function assessMetric(metric: FrozenMetric, result: MetricResult, terminating: boolean): Verdict {
  if (isCompleted(result.phase)) return { phase: result.phase };
  if (result.measurements.length === 0 && result.taken === 0)
    return { phase: terminating ? 'Successful' : 'Pending' };
  const limits = limitsVerdict(metric, result);
  if (limits) return limits;
  const { consecutiveSuccessLimit: successLimit, failureLimit } = metric;
  if (successLimit > 0 && result.consecutiveSuccess >= successLimit) return { phase: 'Successful' };
  if (metric.count !== undefined && result.count >= metric.count) {
    const failureApplies = failureLimit >= 0;
    const successApplies = successLimit > 0;
    if (failureApplies && successApplies)
      return {
        phase: 'Inconclusive',
        reason: `consecutiveSuccessLimit (${successLimit}) not reached and failureLimit (${failureLimit}) not violated after count (${metric.count})`,
      };
    if (successApplies)
      return {
        phase: 'Failed',
        reason: `consecutiveSuccessLimit (${successLimit}) not reached after count (${metric.count})`,
      };
    if (result.successful === 0)
      return {
        phase: 'Inconclusive',
        reason: `count (${metric.count}) reached with no successful measurement (failed ${result.failed}, inconclusive ${result.inconclusive}, errors ${result.error}); serverless-rollouts does not count that as a success, unlike Argo Rollouts`,
      };
    return { phase: 'Successful' };
  }
  return { phase: terminating ? 'Successful' : 'Running' };
}

/**
 * Argo's assessRunStatus: each metric's phase, then the run's: Running while any metric is, else the
 * worst metric that counts (dry-run metrics never decide it). A metric that fails stops the others
 * at once, so the run completes in the same assessment.
 */
export function assessRun(run: AnalysisRun, now: number): AnalysisRun {
  if (isCompleted(run.phase)) return run;
  const once = assessMetrics(run, isTerminating(run));
  const assessed = !run.terminated && isTerminating(once) ? assessMetrics(once, true) : once;
  const terminating = isTerminating(assessed);
  let worst: AnalysisPhase | undefined;
  let worstMessage = run.terminated ? 'Run Terminated' : '';
  let everythingCompleted = true;
  assessed.metrics.forEach((metric, index) => {
    const result = assessed.results[index] as MetricResult;
    if (!isCompleted(result.phase)) {
      everythingCompleted = false;
      return;
    }
    if (metric.dryRun) {
      worst ??= 'Successful';
      return;
    }
    if (worst === undefined || isWorse(worst, result.phase)) {
      worst = result.phase;
      const reason = verdictReason(metric, result);
      if (reason) {
        worstMessage = `Metric "${metric.name}" assessed ${result.phase} due to ${reason}`;
        const last = result.measurements.at(-1);
        if (last?.message) worstMessage += `: "Error Message: ${last.message}"`;
      }
    }
  });
  let phase: AnalysisPhase;
  if (terminating) phase = worst ?? 'Successful';
  else phase = !everythingCompleted || worst === undefined ? 'Running' : worst;
  if (phase === 'Running' && assessed.results.every((result) => result.phase === 'Pending'))
    phase = 'Pending';
  if (!isCompleted(phase)) return { ...assessed, phase };
  const message = worstMessage.trim();
  return {
    ...assessed,
    phase,
    completedAt: new Date(now).toISOString(),
    ...(message ? { message } : {}),
  };
}

function verdictReason(metric: FrozenMetric, result: MetricResult): string | undefined {
  return result.reason ?? limitsVerdict(metric, result)?.reason;
}

function assessMetrics(run: AnalysisRun, terminating: boolean): AnalysisRun {
  const results = run.results.map((result, index) => {
    const metric = run.metrics[index] as FrozenMetric;
    const verdict = assessMetric(metric, result, terminating);
    if (verdict.phase === result.phase) return result;
    const next: MetricResult = { ...result, phase: verdict.phase };
    const last = result.measurements.at(-1);
    if (isCompleted(verdict.phase)) {
      const why = verdict.reason
        ? `Metric assessed ${verdict.phase} due to ${verdict.reason}`
        : last?.message;
      const dryRun = metric.dryRun ? ' (dry run: does not affect the run)' : '';
      const text = why ? `${why}${dryRun}` : dryRun.trim();
      if (text) next.message = text;
      if (verdict.reason) next.reason = verdict.reason;
    } else if (last?.message) next.message = last.message;
    return next;
  });
  return { ...run, results };
}

/** Asks the run to stop: no new measurements, and every metric still running is assessed as Argo does on terminate. */
export function terminateRun(run: AnalysisRun, now: number): AnalysisRun {
  if (isCompleted(run.phase)) return run;
  return assessRun({ ...run, terminated: true }, now);
}
