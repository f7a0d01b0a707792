/**
 * The runner's side of analysis: loads the templates a Rollout names and takes the measurements
 * the engine asks for. The engine decides what is due and assesses what was taken; this module
 * only does the I/O, in parallel, each measurement under its own timeout.
 */
import { analysisTemplateRefs, dueMeasurements } from '../../core/engine/analysis.js';
import { withSecrets, type DueMeasurement } from '../../core/analysis/schedule.js';
import { parseAnalysisTemplate, templateLabel, type AnalysisTemplate } from '../../core/analysis/template.js';
import type { RolloutStatus, TakenMeasurement } from '../../core/engine/types.js';
import type { Rollout } from '../../core/model/rollout.js';
import { err, ok, type Result } from '../../core/result.js';
import { InvalidReferenceError, type RunnerDeps } from './ports.js';

/** What replaces a secret's value in any message a provider returns. */
export const MASK = '*****';

/**
 * The templates the Rollout's analysis names, parsed. A stored template that no longer parses
 * makes the Rollout InvalidSpec with its problems; a missing one is left to the engine, which says
 * which template to apply.
 */
export async function loadTemplates(deps: RunnerDeps, rollout: Rollout): Promise<AnalysisTemplate[]> {
  const refs = analysisTemplateRefs(rollout);
  if (refs.length === 0) return [];
  const stored = await deps.store.templates(refs);
  const templates: AnalysisTemplate[] = [];
  const problems: string[] = [];
  for (const { ref, document } of stored) {
    const parsed = parseAnalysisTemplate(document);
    if (parsed.ok) templates.push(parsed.value);
    else problems.push(`stored ${templateLabel(ref)} is invalid: ${parsed.error.join('; ')}`);
  }
  if (problems.length) throw new InvalidReferenceError(problems);
  return templates;
}

/** Takes every measurement due for `status` at `now`, in parallel; never throws. */
export async function takeMeasurements(
  deps: RunnerDeps,
  status: RolloutStatus,
  now: number,
): Promise<TakenMeasurement[]> {
  const due = dueMeasurements(status, now);
  return Promise.all(due.map((entry) => takeMeasurement(deps, entry, now)));
}

/** What taking a measurement needs: the providers, the secrets reader, the clock. */
export type MeasuringDeps = Pick<RunnerDeps, 'metrics' | 'secrets' | 'clock'>;

/** One measurement under its timeout, secrets read and masked in any error; never throws. */
export async function takeMeasurement(
  deps: MeasuringDeps,
  due: DueMeasurement,
  now: number,
): Promise<TakenMeasurement> {
  const secrets = await readSecrets(deps, due);
  const result = secrets.ok ? await measure(deps, due, secrets.value, now) : secrets;
  const masked = result.ok || !secrets.ok ? result : err(mask(result.error, [...secrets.value.values()]));
  return { runId: due.runId, metric: due.metric, index: due.index, at: deps.clock(), result: masked };
}

async function measure(
  deps: MeasuringDeps,
  due: DueMeasurement,
  secrets: ReadonlyMap<string, string>,
  now: number,
): ReturnType<RunnerDeps['metrics']['measure']> {
  const block = secrets.size ? withSecrets(due, secrets) : ok(due.provider);
  if (!block.ok) return err(`metric "${due.metric}": ${block.error}`);
  const signal = AbortSignal.timeout(due.timeoutMs);
  try {
    return await deps.metrics.measure(block.value, { now: new Date(now), timeoutMs: due.timeoutMs, signal });
  } catch (error) {
    // The port promises not to throw; a provider that does still yields an Error measurement.
    return err(`metric "${due.metric}": provider failed: ${(error as Error).message}`);
  }
}

/** The secret args' values by arg name; a secret that cannot be read fails the measurement. */
async function readSecrets(
  deps: MeasuringDeps,
  due: DueMeasurement,
): Promise<Result<Map<string, string>, string>> {
  const values = new Map<string, string>();
  for (const { name, secretsManager } of due.secrets) {
    const { secretId, jsonKey } = secretsManager;
    let text: string;
    try {
      text = await deps.secrets.read(secretId);
    } catch (error) {
      return err(`arg "${name}": reading secret ${secretId} failed: ${(error as Error).message}`);
    }
    if (jsonKey === undefined) {
      values.set(name, text);
      continue;
    }
    const value = jsonField(text, jsonKey);
    if (value === undefined)
      return err(
        `arg "${name}": secret ${secretId} is not a JSON object with a string or number "${jsonKey}"`,
      );
    values.set(name, value);
  }
  return ok(values);
}

function jsonField(text: string, key: string): string | undefined {
  try {
    const value: unknown = (JSON.parse(text) as Record<string, unknown> | null)?.[key];
    return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
  } catch {
    return undefined;
  }
}

/** Every occurrence of every secret value replaced: provider errors may echo a URL or header. */
export function mask(message: string, secrets: readonly string[]): string {
  return secrets
    .filter((secret) => secret.length > 0)
    .sort((a, b) => b.length - a.length)
    .reduce((text, secret) => text.split(secret).join(MASK), message);
}
