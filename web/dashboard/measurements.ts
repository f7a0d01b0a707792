/**
 * An analysis metric's measurements as chart columns: pure, so the page's chart and its unit test
 * read the same numbers.
 */
import type { MeasurementRecord } from './types.js';

/** The phases drawn as points, each its own series (so the legend names them in words). */
export const CHARTED_PHASES = ['Successful', 'Failed', 'Inconclusive'] as const;

/**
 * A measurement's value as a number to plot: a number, a numeric string, or a one-element vector
 * such as Prometheus' `[0.99]`. Anything else (several series, objects, a value cut for length,
 * an error with no value) is not plotted and stays in the table below the chart.
 */
export function plottedValue(value: string | undefined): number | null {
  if (value === undefined) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return null;
  }
  if (Array.isArray(parsed) && parsed.length === 1) parsed = parsed[0];
  if (typeof parsed === 'string' && parsed.trim() !== '') parsed = Number(parsed);
  return typeof parsed === 'number' && Number.isFinite(parsed) ? parsed : null;
}

export interface ChartColumns {
  /** uPlot's aligned data: seconds since the epoch, every value, then one column per charted phase. */
  columns: [times: number[], values: (number | null)[], ...byPhase: (number | null)[][]];
  /** How many measurements have a value to plot. */
  plotted: number;
}

/** The columns for measurements kept oldest first, as the run stores them. */
export function chartColumns(records: MeasurementRecord[]): ChartColumns {
  const times = records.map((record) => Date.parse(record.at) / 1000);
  const values = records.map((record) => plottedValue(record.value));
  const byPhase = CHARTED_PHASES.map((phase) =>
    records.map((record, index) => (record.phase === phase ? (values[index] ?? null) : null)),
  );
  return { columns: [times, values, ...byPhase], plotted: values.filter((value) => value !== null).length };
}

/** What the chart shows, and which measurements it cannot (no single number: NaN, an error, a vector). */
export function caption(metric: string, records: MeasurementRecord[], values: (number | null)[]): string {
  const missing = records.filter((_, index) => values[index] === null);
  const shown = records.length - missing.length;
  const what =
    shown === 0
      ? `${metric}: no measurement with a single number to chart yet`
      : `${metric} over time: ${shown} of ${records.length} measurements charted`;
  if (missing.length === 0) return what;
  const listed = missing.map(
    (record) => `#${record.index} ${record.phase} ${record.value ?? 'without a value'}`,
  );
  return `${what}; not charted: ${listed.join(', ')}`;
}
