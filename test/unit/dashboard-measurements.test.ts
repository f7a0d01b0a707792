/** The dashboard's analysis chart columns: which measurement values are plotted, and where. */
import { describe, expect, it } from '@jest/globals';
import type { MeasurementRecord } from '../../lib/core/analysis/run.js';
import { caption, chartColumns, plottedValue } from '../../web/dashboard/measurements.js';

describe('plottedValue', () => {
  it.each([
    ['0.97', 0.97],
    ['[0.99]', 0.99],
    ['"12.5"', 12.5],
    ['["3"]', 3],
    ['[]', null],
    ['[0.9,0.8]', null],
    ['{"Values":[1]}', null],
    ['"Infinity"', null],
    ['"NaN"', null],
    ['""', null],
    ['true', null],
    ['null', null],
    ['[0.12345678901234…', null],
  ])('reads %s as %p', (value, expected) => {
    expect(plottedValue(value)).toBe(expected);
  });

  it('plots nothing for a measurement without a value (an error)', () => {
    expect(plottedValue(undefined)).toBeNull();
  });
});

describe('chartColumns', () => {
  const record = (index: number, phase: MeasurementRecord['phase'], value?: string): MeasurementRecord => ({
    index,
    phase,
    at: `2026-01-01T00:00:${String(10 * index).padStart(2, '0')}.500Z`,
    ...(value === undefined ? {} : { value }),
  });

  it('puts every value in one column and each phase in its own, in seconds since the epoch', () => {
    const records = [
      record(0, 'Successful', '[0.99]'),
      record(1, 'Failed', '[0.5]'),
      record(2, 'Error'),
      record(3, 'Inconclusive', '[0.7]'),
      record(4, 'Successful', '{"a":1}'),
    ];
    const start = Date.parse('2026-01-01T00:00:00.500Z') / 1000;
    expect(chartColumns(records)).toEqual({
      columns: [
        [start, start + 10, start + 20, start + 30, start + 40],
        [0.99, 0.5, null, 0.7, null],
        [0.99, null, null, null, null],
        [null, 0.5, null, null, null],
        [null, null, null, 0.7, null],
      ],
      plotted: 3,
    });
  });

  it('has empty columns and nothing plotted before the first measurement', () => {
    expect(chartColumns([])).toEqual({ columns: [[], [], [], [], []], plotted: 0 });
  });
});

describe('caption', () => {
  const record = (index: number, phase: MeasurementRecord['phase'], value?: string): MeasurementRecord => ({
    index,
    phase,
    at: '2026-01-01T00:00:00Z',
    ...(value === undefined ? {} : { value }),
  });

  it('names the measurements the chart cannot show, so a failure without a number is not hidden', () => {
    const records = [record(0, 'Failed', '["NaN"]'), record(1, 'Successful', '[1]'), record(2, 'Error')];
    expect(caption('success-rate', records, chartColumns(records).columns[1])).toBe(
      'success-rate over time: 1 of 3 measurements charted; not charted: #0 Failed ["NaN"], #2 Error without a value',
    );
  });

  it('says when every measurement is charted, and when none can be', () => {
    const one = [record(0, 'Successful', '0.99')];
    expect(caption('m', one, chartColumns(one).columns[1])).toBe('m over time: 1 of 1 measurements charted');
    const none = [record(0, 'Successful', '[1,2]')];
    expect(caption('m', none, chartColumns(none).columns[1])).toBe(
      'm: no measurement with a single number to chart yet; not charted: #0 Successful [1,2]',
    );
  });
});
