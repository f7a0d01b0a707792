/**
 * One analysis metric's measurements over time, drawn by uPlot: a thin line through every value and
 * a point per measurement, one series per phase. Successful points are filled, failed ones hollow,
 * inconclusive ones half-tone, and the legend names each phase in words.
 */
import uPlot from 'uplot';
import { useEffect, useRef } from 'preact/hooks';
import { html } from 'htm/preact';
import { caption, CHARTED_PHASES, chartColumns } from './measurements.js';
import type { MeasurementRecord } from './types.js';

const POINTS: Record<(typeof CHARTED_PHASES)[number], { stroke: string; fill: string }> = {
  Successful: { stroke: '#1a7f37', fill: '#1a7f37' },
  Failed: { stroke: '#cf222e', fill: '#ffffff' },
  Inconclusive: { stroke: '#9a6700', fill: '#f2cc60' },
};

function options(metric: string): uPlot.Options {
  return {
    width: 560,
    height: 180,
    scales: { x: { time: true } },
    series: [
      { label: 'time' },
      { label: metric, stroke: '#8c959f', width: 1, spanGaps: true, points: { show: false } },
      ...CHARTED_PHASES.map((phase) => ({
        label: phase,
        stroke: POINTS[phase].stroke,
        fill: POINTS[phase].fill,
        paths: () => null,
        points: { show: true, size: 10, width: 2, ...POINTS[phase] },
      })),
    ],
    axes: [{}, { size: 60 }],
  };
}

export function MeasurementChart({ metric, records }: { metric: string; records: MeasurementRecord[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const { columns, plotted } = chartColumns(records);
  const data = JSON.stringify(columns);

  useEffect(() => {
    if (!box.current || plotted === 0) return;
    const aligned = JSON.parse(data) as uPlot.AlignedData;
    if (plot.current) plot.current.setData(aligned);
    else plot.current = new uPlot(options(metric), aligned, box.current);
  }, [data, metric, plotted]);
  useEffect(() => () => plot.current?.destroy(), []);

  const counts = CHARTED_PHASES.map(
    (phase) => `${records.filter((record) => record.phase === phase).length} ${phase}`,
  ).join(', ');
  return html`<figure class="chart" data-chart=${metric}>
    <div ref=${box} role="img" aria-label=${`${metric}: ${records.length} measurements, ${counts}`}></div>
    <figcaption>${caption(metric, records, columns[1])}</figcaption>
  </figure>`;
}
