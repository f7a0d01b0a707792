/**
 * What `rollouts lint` adds for analysis: warnings on a template's conditions, and a Rollout's
 * analysis blocks checked against the templates given beside it (each run built as it would start).
 */
import type { RolloutAnalysis, TrafficSpec } from '../model/rollout.js';
import { expressionHints } from './conditions.js';
import { startRun } from './run.js';
import { findTemplate, refLabel, type AnalysisTemplate } from './template.js';

export interface AnalysisLint {
  errors: string[];
  warnings: string[];
}

/** Conditions that evaluate but read `result[0]` with no emptiness guard, each with its field path. */
export function templateWarnings(template: AnalysisTemplate): string[] {
  return template.metrics.flatMap((metric, index) =>
    (['successCondition', 'failureCondition'] as const).flatMap((kind) =>
      expressionHints(metric[kind] ?? '')
        .filter((hint) => hint.severity === 'warning')
        .map((hint) => `spec.metrics[${index}].${kind}: ${hint.message}`),
    ),
  );
}

/**
 * Each analysis block of the Rollout: a template not among those given is a warning (it may be
 * applied on its own); with all of them, the run is built as it would start, and any reason it
 * would start in Error (an arg with no value, a duplicate metric, a rule matching nothing) is an error.
 */
export function checkRolloutAnalysis(rollout: TrafficSpec, templates: AnalysisTemplate[]): AnalysisLint {
  const blocks: [string, RolloutAnalysis][] = [
    ...rollout.canary.steps.flatMap((step, index): [string, RolloutAnalysis][] =>
      'analysis' in step ? [[`spec.strategy.canary.steps[${index}].analysis`, step.analysis]] : [],
    ),
    ...(rollout.canary.analysis
      ? [['spec.strategy.canary.analysis', rollout.canary.analysis] as [string, RolloutAnalysis]]
      : []),
  ];
  const out: AnalysisLint = { errors: [], warnings: [] };
  for (const [path, block] of blocks) {
    const found: AnalysisTemplate[] = [];
    for (const ref of block.templates) {
      const template = findTemplate(templates, ref, rollout.namespace);
      if (template) found.push(template);
      else
        out.warnings.push(
          `${path}: ${refLabel(ref, rollout.namespace)} is not among the files given; apply it before the rollout reaches this analysis`,
        );
    }
    if (found.length !== block.templates.length) continue;
    const run = startRun({
      id: 'lint',
      kind: path.endsWith('canary.analysis') ? 'Background' : 'Step',
      templates: found,
      args: block.args,
      dryRun: block.dryRun,
      measurementRetention: block.measurementRetention,
      fields: { revision: 2, canaryImage: 'canary:lint', stableImage: 'stable:lint' },
      now: 0,
    });
    if (run.phase === 'Error')
      out.errors.push(`${path}: ${run.message ?? 'the analysis run would not start'}`);
  }
  return out;
}
