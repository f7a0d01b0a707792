/**
 * The README's figures are the committed artefacts' figures: its Benchmarks, Speed and Reliability
 * tables are rendered by bench/readme.ts from bench/results.json and bench/faults.json, and the
 * README must be exactly that rendering (run `npm run readme` after a bench or fault run).
 */
import { describe, expect, it } from '@jest/globals';
import { readArtefacts, renderReadme, type BenchResults } from '../../bench/readme.js';

const artefacts = readArtefacts();

describe('README.md', () => {
  it('is byte for byte what bench/readme.ts renders from bench/results.json and bench/faults.json', async () => {
    const rendered = await renderReadme(artefacts.readme, artefacts.bench, artefacts.faults);
    expect(artefacts.readme).toBe(rendered);
  });

  it('shows figures from a full benchmark run and a full fault run, never a smoke run or a partial one', () => {
    expect(artefacts.bench.smoke).toBe(false);
    expect(artefacts.faults.groups.length).toBeGreaterThan(0);
    for (const group of artefacts.faults.groups) {
      expect({ group: group.id, injected: group.injected > 0, verified: group.verified }).toEqual({
        group: group.id,
        injected: true,
        verified: true,
      });
    }
    expect(artefacts.faults.faults).toBe(artefacts.faults.groups.reduce((sum, g) => sum + g.injected, 0));
  });

  it('changes when a committed figure changes (the tables are read from the artefacts, not typed)', async () => {
    const bench: BenchResults = structuredClone(artefacts.bench);
    bench.latency.imageToWeight5Ms = 987_654;
    bench.latency.scenarios = bench.latency.scenarios.map((s) => ({ ...s, imageToWeight5Ms: 987_654 }));
    bench.fleet.results[0]!.idle.wallMs = 876_543;
    const faults = structuredClone(artefacts.faults);
    faults.faults = 765_432;
    const rendered = await renderReadme(artefacts.readme, bench, faults);
    expect(rendered).toContain('987,654 ms');
    expect(rendered).toContain('876,543');
    expect(rendered).toContain('765,432 faults injected');
    expect(rendered).not.toBe(artefacts.readme);
  });
});
