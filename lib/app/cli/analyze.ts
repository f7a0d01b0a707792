/**
 * `rollouts analyze -f template.yaml --arg k=v`: takes each metric of the templates once, now,
 * against the live providers, and prints each measurement with the phase its conditions give and
 * what the analysis run would be after it. Nothing is stored and no rollout moves: a dry run for
 * tuning queries and conditions before a Rollout relies on them.
 */
import { assessRun, recordMeasurement, startRun, type AnalysisRun } from '../../core/analysis/run.js';
import { measurementOf } from '../../core/analysis/schedule.js';
import {
  parseAnalysisTemplate,
  templateLabel,
  type AnalysisTemplate,
  type ArgSource,
} from '../../core/analysis/template.js';
import { err, ok, type Result } from '../../core/result.js';
import { takeMeasurement, type MeasuringDeps } from '../runner/analysis.js';
import { loadManifests, type SourceFile } from './manifests.js';
import type { CommandOutput } from './store-commands.js';

/** `--arg name=value` flags as args a Rollout would give; every problem, one per line. */
export function parseArgFlags(flags: readonly string[]): Result<ArgSource[], string[]> {
  const args: ArgSource[] = [];
  const errors: string[] = [];
  for (const flag of flags) {
    const at = flag.indexOf('=');
    const name = at < 0 ? '' : flag.slice(0, at).trim();
    if (!name) errors.push(`--arg ${flag}: expected NAME=VALUE`);
    else if (args.some((arg) => arg.name === name)) errors.push(`--arg ${name} is given twice`);
    else args.push({ name, value: flag.slice(at + 1) });
  }
  return errors.length ? err(errors) : ok(args);
}

/** The templates' args the flags do not cover and that have no value or source of their own. */
function argProblems(templates: AnalysisTemplate[], given: ArgSource[]): string[] {
  const declared = templates.flatMap((template) => template.args);
  const names = [...new Set(declared.map((arg) => arg.name))];
  const problems = given
    .filter((arg) => !names.includes(arg.name))
    .map(
      (arg) =>
        `--arg ${arg.name}: no template declares an arg '${arg.name}' (declared: ${names.join(', ') || 'none'})`,
    );
  for (const name of names) {
    const sources = declared.filter((arg) => arg.name === name);
    const hasOwn = sources.some((arg) => arg.value !== undefined || arg.secretsManager !== undefined);
    if (!hasOwn && !given.some((arg) => arg.name === name))
      problems.push(`arg '${name}' has no value: give it with --arg ${name}=VALUE`);
  }
  return problems;
}

export async function analyze(
  files: SourceFile[],
  argFlags: readonly string[],
  deps: MeasuringDeps,
): Promise<CommandOutput> {
  const fail = (lines: string[]): CommandOutput => ({ ok: false, stderr: `${lines.join('\n')}\n` });
  const loaded = loadManifests(files, [], { templates: true });
  if (!loaded.ok) return fail(loaded.error);
  if (loaded.value.analysisTemplates.length === 0)
    return fail([
      `${files.map((file) => file.path).join(', ')}: no AnalysisTemplate found (kind: AnalysisTemplate or ClusterAnalysisTemplate); analyze measures templates, not Rollouts`,
    ]);
  const templates: AnalysisTemplate[] = [];
  const errors: string[] = [];
  for (const { source, document } of loaded.value.analysisTemplates) {
    const parsed = parseAnalysisTemplate(document);
    if (parsed.ok) templates.push(parsed.value);
    else errors.push(...parsed.error.map((error) => `${source}: ${error}`));
  }
  const given = parseArgFlags(argFlags);
  if (!given.ok) errors.push(...given.error);
  if (errors.length) return fail(errors);
  const args = given.ok ? given.value : [];
  const problems = argProblems(templates, args);
  if (problems.length) return fail(problems);

  const started = deps.clock();
  let run = startRun({
    id: 'analyze',
    kind: 'Step',
    templates,
    args,
    fields: { revision: 0 },
    now: started,
  });
  if (run.phase === 'Error') return fail([`the analysis cannot start: ${run.message}`]);
  // The providers' sockets are unref'd so that they never keep a runner alive; a CLI with nothing
  // else to do would exit mid-request, so a timer holds the process until every measurement is in.
  const hold = setInterval(() => undefined, 60_000);
  const taken = await Promise.all(
    run.metrics.map((_metric, index) => takeMeasurement(deps, measurementOf(run, index), started)),
  ).finally(() => clearInterval(hold));
  for (const measurement of taken) run = recordMeasurement(run, measurement) ?? run;
  run = assessRun(run, deps.clock());
  const lines = [`${templates.map(templateLabel).join(', ')}: each metric measured once, now`, ''];
  lines.push(...run.metrics.flatMap((_metric, index) => describeMetric(run, index)));
  lines.push(`analysis run after these measurements: ${run.phase}${run.message ? `: ${run.message}` : ''}`);
  const good = run.results.every(
    (result, index) => run.metrics[index]?.dryRun || result.measurements.at(-1)?.phase === 'Successful',
  );
  return good ? { ok: true, stdout: `${lines.join('\n')}\n` } : fail(lines);
}

function describeMetric(run: AnalysisRun, index: number): string[] {
  const metric = run.metrics[index];
  const result = run.results[index];
  const measurement = result?.measurements.at(-1);
  if (!metric || !result || !measurement) return [];
  const value = measurement.value === undefined ? '' : ` ${measurement.value}`;
  const message = measurement.message ? `: ${measurement.message}` : '';
  const [provider] = Object.keys(metric.provider);
  const conditions = [
    metric.successCondition ? `successCondition: ${metric.successCondition}` : undefined,
    metric.failureCondition ? `failureCondition: ${metric.failureCondition}` : undefined,
  ].filter((line) => line !== undefined);
  const count = metric.count === undefined ? 'until stopped' : `of ${metric.count}`;
  return [
    `${metric.name}${metric.dryRun ? ' (dry run)' : ''}: ${measurement.phase}${value}${message}`,
    `  ${provider} ${JSON.stringify(metric.provider[provider as string])}`,
    ...conditions.map((line) => `  ${line.replace(/\s+/g, ' ').trim()}`),
    `  metric after 1 measurement ${count}: ${result.phase}${result.message && result.message !== measurement.message ? `: ${result.message}` : ''}`,
    '',
  ];
}
