/**
 * The fleet engine against a model of its members: random member progress and failures, fleet
 * commands, time, and fleet passes that crash after queueing member commands but before saving.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decideFleet, initialFleetStatus } from '../../lib/core/fleet/decide.js';
import type { FleetCommand, FleetStatus } from '../../lib/core/fleet/types.js';
import type { Command, RolloutStatus } from '../../lib/core/engine/types.js';
import type { Fleet } from '../../lib/core/model/fleet.js';
import { parseFleet } from '../../lib/core/model/fleet-spec.js';
import { fleetDocument } from './fleet-fixtures.js';

const V1 = 'app:v1';
const V2 = 'app:v2';
const ACTIVE = new Set(['Progressing', 'Paused', 'Promoting']);

/** A member as its engine would behave, reduced to what the fleet reads: phase, images, weight. */
class ModelMember {
  status: RolloutStatus = { phase: 'Healthy', revision: 1, stableImage: V1, stepIndex: 0, weight: 0 };
  stepsLeft = 0;
  readonly queue: Command[] = [];
  /** Dedupe keys ever queued, as the store records them. */
  readonly keys = new Set<string>();
  readonly accepted: Command['kind'][] = [];

  enqueue(command: Command, key: string): void {
    if (this.keys.has(key)) return;
    this.keys.add(key);
    this.queue.push(command);
  }
  get active(): boolean {
    return ACTIVE.has(this.status.phase);
  }
  process(now: number): void {
    for (let command = this.queue.shift(); command; command = this.queue.shift()) this.apply(command, now);
  }
  private apply(command: Command, now: number): void {
    const s = this.status;
    switch (command.kind) {
      case 'setImage':
        if (this.active && command.image === s.canaryImage) return;
        if (!this.active && s.phase !== 'Degraded' && command.image === s.stableImage) return;
        if (s.phase === 'Degraded' && command.image === s.canaryImage) return;
        this.status = {
          ...s,
          phase: 'Progressing',
          canaryImage: command.image,
          weight: 10,
          revision: s.revision + 1,
        };
        this.stepsLeft = 2;
        break;
      case 'promote':
      case 'promoteFull':
        if (s.phase !== 'Progressing' && s.phase !== 'Paused') return;
        this.stepsLeft = command.kind === 'promoteFull' ? 0 : this.stepsLeft - 1;
        break;
      case 'abort':
        if (!this.active) return;
        this.status = { ...s, phase: 'Degraded', weight: 0, abortedAt: new Date(now).toISOString() };
        break;
      case 'retry':
        if (s.phase !== 'Degraded' || !s.canaryImage) return;
        this.status = { ...s, phase: 'Progressing', weight: 10 };
        this.stepsLeft = 2;
        break;
    }
    this.accepted.push(command.kind);
  }
  /** One step of its own: a weight step, or completion. */
  advance(): void {
    if (!this.active) return;
    if (this.stepsLeft-- > 0) {
      this.status = { ...this.status, phase: 'Paused', weight: 50 };
      return;
    }
    const { canaryImage: _canary, abortedAt: _aborted, ...rest } = this.status;
    this.status = { ...rest, phase: 'Healthy', stableImage: this.status.canaryImage as string, weight: 0 };
  }
  fail(now: number): void {
    if (this.active)
      this.status = { ...this.status, phase: 'Degraded', weight: 0, abortedAt: new Date(now).toISOString() };
  }
}

type Event =
  | { kind: 'advance'; member: number }
  | { kind: 'fail'; member: number }
  | { kind: 'time'; seconds: number }
  | { kind: 'command'; command: FleetCommand }
  | { kind: 'pass'; crash: boolean };

const event: fc.Arbitrary<Event> = fc.oneof(
  { weight: 6, arbitrary: fc.nat(5).map((member) => ({ kind: 'advance', member }) as Event) },
  { weight: 1, arbitrary: fc.nat(5).map((member) => ({ kind: 'fail', member }) as Event) },
  {
    weight: 3,
    arbitrary: fc.integer({ min: 1, max: 120 }).map((seconds) => ({ kind: 'time', seconds }) as Event),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom<FleetCommand>(
        { kind: 'promote' },
        { kind: 'promoteWave' },
        { kind: 'abort' },
        { kind: 'retry' },
      )
      .map((command) => ({ kind: 'command', command }) as Event),
  },
  { weight: 6, arbitrary: fc.boolean().map((crash) => ({ kind: 'pass', crash }) as Event) },
);

/** 2..6 clusters split into 1..3 waves, each with a bake and a maxParallel. */
const fleetArb: fc.Arbitrary<Fleet> = fc
  .tuple(
    fc.integer({ min: 2, max: 6 }),
    fc.array(fc.nat(2), { minLength: 6, maxLength: 6 }),
    fc.array(fc.constantFrom(0, 30, 90), { minLength: 3, maxLength: 3 }),
    fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 3, maxLength: 3 }),
    fc.constantFrom('Keep', 'Revert'),
  )
  .map(([count, assignment, bakes, parallel, completedClusters]) => {
    const clusters = Array.from({ length: count }, (_, index) => `c${index}`);
    const waves = [0, 1, 2]
      .map((wave) => ({
        name: `w${wave}`,
        clusters: clusters.filter((_, index) => (assignment[index] as number) === wave),
        bake: bakes[wave] as number,
      }))
      .filter((wave) => wave.clusters.length > 0)
      .map((wave, index) => ({
        ...wave,
        maxParallel: Math.min(parallel[index] as number, wave.clusters.length),
      }));
    const parsed = parseFleet(fleetDocument({ clusters, waves, onAbort: { completedClusters } }));
    if (!parsed.ok) throw new Error(parsed.error.join('\n'));
    return parsed.value;
  });

describe('the fleet engine, against modelled members', () => {
  it('never moves wave k+1 before wave k is complete and baked; aborts leave no canary weight; each member command once', () => {
    fc.assert(
      fc.property(fleetArb, fc.array(event, { maxLength: 80 }), (fleet, events) => {
        let now = Date.parse('2026-01-01T00:00:00Z');
        const members = new Map(fleet.clusters.map((cluster) => [cluster, new ModelMember()]));
        const waveOf = (cluster: string) => fleet.waves.findIndex((wave) => wave.clusters.includes(cluster));
        /** The first pass instant at which every member of the wave was Healthy on the image, by wave. */
        const completeSeen = new Map<number, number>();
        const bakeEndedByCommand = new Set<number>();
        let status: FleetStatus = initialFleetStatus();
        const pending: FleetCommand[] = [{ kind: 'setImage', image: V2 }];

        const pass = (crash: boolean) => {
          const statuses = Object.fromEntries(
            [...members].map(([cluster, member]) => [cluster, member.status]),
          );
          fleet.waves.forEach((wave, index) => {
            const complete = wave.clusters.every(
              (cluster) => statuses[cluster]?.phase === 'Healthy' && statuses[cluster]?.stableImage === V2,
            );
            // The first pass that could see it: a crashed pass may have opened the wave unsaved.
            if (complete && !completeSeen.has(index)) completeSeen.set(index, now);
          });
          let next = status;
          for (const command of pending.length ? pending : [null]) {
            const decision = decideFleet(fleet, next, statuses, command, now, { pollSeconds: 5 });
            if (command?.kind === 'promoteWave' && decision.command?.accepted)
              bakeEndedByCommand.add(next.wave);
            for (const issued of decision.commands) {
              const wave = waveOf(issued.cluster);
              if (issued.command.kind === 'setImage' && issued.command.image === V2 && wave > 0) {
                // No member of wave k+1 moves before wave k is complete and baked.
                for (const cluster of fleet.waves[wave - 1]?.clusters ?? [])
                  expect(statuses[cluster]).toMatchObject({ phase: 'Healthy', stableImage: V2 });
                const seen = completeSeen.get(wave - 1);
                expect(seen).toBeDefined();
                if (!bakeEndedByCommand.has(wave - 1))
                  expect(now).toBeGreaterThanOrEqual(
                    (seen as number) + (fleet.waves[wave - 1]?.bakeSeconds ?? 0) * 1000,
                  );
              }
              members.get(issued.cluster)?.enqueue(issued.command, issued.dedupeKey);
            }
            next = decision.status;
          }
          // A crash after queueing: the status is not saved and the commands stay pending.
          if (!crash) {
            status = next;
            pending.length = 0;
          }
        };

        for (const e of events) {
          if (e.kind === 'time') now += e.seconds * 1000;
          else if (e.kind === 'command') pending.push(e.command);
          else if (e.kind === 'pass') pass(e.crash);
          else {
            const member = members.get(
              fleet.clusters[e.member % fleet.clusters.length] as string,
            ) as ModelMember;
            member.process(now);
            if (e.kind === 'advance') member.advance();
            else member.fail(now);
          }
        }
        // Settle: passes and member queues until nothing moves. Members make no progress of their own,
        // except one promoted to the end (a Revert's promoteFull): nothing is left for it to wait for.
        for (let round = 0; round < 10; round++) {
          pass(false);
          for (const member of members.values()) {
            member.process(now);
            if (member.active && member.stepsLeft <= 0 && member.accepted.at(-1) === 'promoteFull')
              member.advance();
          }
        }
        if (status.phase === 'Degraded')
          for (const [cluster, member] of members)
            expect([cluster, member.status.weight, member.active]).toEqual([cluster, 0, false]);
        // Each member accepted at most one abort per revision and attempt of the fleet.
        for (const member of members.values()) {
          const aborts = [...member.keys].filter((key) => key.endsWith('/abort'));
          expect(new Set(aborts).size).toBe(aborts.length);
        }
      }),
      { numRuns: 300 },
    );
  });
});
