/**
 * The Rollout's analysis runs (the current step's and the background one): each metric's phase,
 * counts and conditions, a chart of its measurements over time, and the measurements as a table.
 */
import { html } from 'htm/preact';
import { MeasurementChart } from './chart.js';
import { State } from './icons.js';
import type { AnalysisRun, Detail, MetricResult } from './types.js';

type FrozenMetric = AnalysisRun['metrics'][number];

export function Analysis({ detail }: { detail: Detail }) {
  const { step, background } = detail.status.analysis ?? {};
  const runs = [step, background].filter((run): run is AnalysisRun => run !== undefined);
  if (runs.length === 0) return null;
  return html`<section class="analysis" aria-labelledby="analysis-title">
    <h3 id="analysis-title">Analysis</h3>
    ${runs.map((run) => html`<${Run} key=${run.id} run=${run} />`)}
  </section>`;
}

function Run({ run }: { run: AnalysisRun }) {
  const what = run.kind === 'Step' ? `Step-based (step ${(run.stepIndex ?? 0) + 1})` : 'Background';
  return html`<section class="analysis-run" data-run=${run.id}>
    <h4>${what} ${run.id} <${State} state=${run.phase} /></h4>
    <p>
      ${`From ${run.templates.join(', ')}, started ${run.startedAt}${run.completedAt ? `, completed ${run.completedAt}` : ''}`}
    </p>
    ${run.message ? html`<p class="message">${run.message}</p>` : ''}
    ${run.results.map(
      (result, index) => html`<${Metric} key=${result.name} result=${result} metric=${run.metrics[index]} />`,
    )}
  </section>`;
}

function conditions(metric: FrozenMetric | undefined): string {
  if (!metric) return '';
  return [
    metric.successCondition ? `success when ${metric.successCondition}` : '',
    metric.failureCondition ? `failure when ${metric.failureCondition}` : '',
    metric.count !== undefined ? `count ${metric.count}` : '',
    metric.failureLimit >= 0 ? `failureLimit ${metric.failureLimit}` : '',
  ]
    .filter(Boolean)
    .join('; ');
}

function Metric({ result, metric }: { result: MetricResult; metric: FrozenMetric | undefined }) {
  return html`<div class="metric" data-metric=${result.name}>
    <h5>
      ${result.name}${' '}<${State}
        state=${result.phase}
      />${metric?.dryRun ? ' (dry run: does not decide the run)' : ''}
    </h5>
    <p class="counts">
      ${`successful ${result.successful}, failed ${result.failed}, inconclusive ${result.inconclusive}, error ${result.error}`}
      ${metric ? html`<br /><code>${conditions(metric)}</code>` : ''}
    </p>
    ${result.message ? html`<p class="message">${result.message}</p>` : ''}
    <${MeasurementChart} metric=${result.name} records=${result.measurements} />
    ${
      result.measurements.length
        ? html`<table class="measurements">
            <caption>
              ${`${result.name}: the last ${result.measurements.length} measurements`}
            </caption>
            <thead>
              <tr>
                <th>#</th>
                <th>Finished</th>
                <th>Phase</th>
                <th>Value</th>
                <th>Message</th>
              </tr>
            </thead>
            <tbody>
              ${result.measurements.map(
                (record) =>
                  html`<tr>
                    <td>${record.index}</td>
                    <td><time>${record.at}</time></td>
                    <td><${State} state=${record.phase} /></td>
                    <td><code>${record.value ?? ''}</code></td>
                    <td>${record.message ?? ''}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
        : ''
    }
  </div>`;
}
