/**
 * What the fault run injected, as it measured it: every fault with where it landed and what the
 * test then asserted, and the ordinary commands (promote, abort) counted apart. Written to
 * .tmp/faults-report.json on every run; `npm run faults:update` also writes bench/faults.json, the
 * committed report README.md's Reliability table is generated from (bench/readme.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface FaultGroup {
  /** What was injected, for the table's first column. */
  fault: string;
  /** What the test asserts after each one. */
  outcome: string;
}

export interface FaultHit {
  group: string;
  /** Where it landed, e.g. `500 on GET VirtualService rollouts-demo-vsvc1`. */
  where: string;
}

export interface FaultReportFile {
  date: string;
  faults: number;
  groups: (FaultGroup & { id: string; injected: number; verified: boolean; hits: Record<string, number> })[];
  commands: Record<string, number>;
}

export class FaultReport {
  private readonly hits: FaultHit[] = [];
  private readonly commands: Record<string, number> = {};
  private readonly verified = new Set<string>();

  constructor(private readonly groups: Record<string, FaultGroup>) {}

  fault(group: string, where: string): void {
    if (!this.groups[group]) throw new Error(`fault group '${group}' is not declared`);
    this.hits.push({ group, where });
  }

  /** The test that injected the group's faults got to its end: every assertion after them held. */
  verify(...groups: string[]): void {
    for (const group of groups) this.verified.add(group);
  }

  command(kind: string): void {
    this.commands[kind] = (this.commands[kind] ?? 0) + 1;
  }

  toJSON(date: Date): FaultReportFile {
    const groups = Object.entries(this.groups).map(([id, group]) => {
      const hits: Record<string, number> = {};
      for (const hit of this.hits.filter((h) => h.group === id)) hits[hit.where] = (hits[hit.where] ?? 0) + 1;
      const injected = Object.values(hits).reduce((a, b) => a + b, 0);
      return { id, ...group, injected, verified: this.verified.has(id), hits };
    });
    return { date: date.toISOString(), faults: this.hits.length, groups, commands: { ...this.commands } };
  }

  /** Always to .tmp/; to `committed` too when asked and only if every group was exercised (a full run). */
  write(root: string, committed: string | undefined, date = new Date()): void {
    const report = this.toJSON(date);
    const text = `${JSON.stringify(report, null, 2)}\n`;
    mkdirSync(join(root, '.tmp'), { recursive: true });
    writeFileSync(join(root, '.tmp/faults-report.json'), text);
    if (!committed) return;
    const missing = report.groups
      .filter((group) => !group.injected || !group.verified)
      .map((group) => group.id);
    if (missing.length)
      throw new Error(
        `not writing ${committed}: ${missing.join(', ')} not injected or not verified (run the whole file, green)`,
      );
    mkdirSync(dirname(join(root, committed)), { recursive: true });
    writeFileSync(join(root, committed), text);
  }
}
