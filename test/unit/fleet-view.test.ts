/** What `rollouts get`/`list` and the dashboard show of a fleet: one pure view, worded by describe-fleet. */
import { describe, expect, it } from '@jest/globals';
import type { StoredRollout } from '../../lib/adapters/dynamodb/types.js';
import { describeFleet, describeFleetList } from '../../lib/app/cli/describe-fleet.js';
import { fleetSummary, fleetWaves } from '../../lib/app/cli/fleet-view.js';
import type { StoredFleet } from '../../lib/app/runner/ports.js';
import type { RolloutStatus } from '../../lib/core/engine/types.js';
import type { FleetStatus } from '../../lib/core/fleet/types.js';
import { fleetKey, memberRollout } from '../../lib/core/model/fleet.js';
import { parseFleet } from '../../lib/core/model/fleet-spec.js';
import { firstWaveInFlight, fleetDocument } from './fleet-fixtures.js';

const BLUE = 'argoproj/rollouts-demo:blue';
const YELLOW = 'argoproj/rollouts-demo:yellow';
const AT = '2026-01-01T00:00:00.000Z';

const parsed = parseFleet(
  fleetDocument({
    clusters: ['one', 'two', 'three'],
    waves: [
      { name: 'canary', clusters: ['one'] },
      { name: 'rest', clusters: ['two', 'three'] },
    ],
  }),
);
if (!parsed.ok) throw new Error(parsed.error.join('\n'));
const fleet = parsed.value;

function storedFleet(status: FleetStatus): StoredFleet {
  const key = fleetKey(fleet);
  const record = {
    key,
    rollout: fleet as never,
    status: status as never,
    version: 1,
    commandSeq: 0,
    updatedAt: AT,
  };
  return { key, fleet, status, record };
}

function member(cluster: string, status: RolloutStatus): StoredRollout {
  const rollout = memberRollout(fleet, cluster);
  return {
    key: { cluster, namespace: fleet.namespace, name: fleet.name },
    rollout,
    status,
    version: 1,
    commandSeq: 0,
    updatedAt: AT,
  };
}

const inFlight = storedFleet(firstWaveInFlight(YELLOW, BLUE, 'one'));
const members = {
  one: member('one', {
    phase: 'Paused',
    revision: 2,
    stableImage: BLUE,
    canaryImage: YELLOW,
    stepIndex: 1,
    weight: 5,
  }),
  two: member('two', { phase: 'Healthy', revision: 1, stableImage: BLUE, stepIndex: 4, weight: 0 }),
  three: undefined,
};

describe('the fleet view', () => {
  it('summarises the fleet with the wave in flight', () => {
    expect(fleetSummary(inFlight)).toEqual({
      namespace: fleet.namespace,
      name: fleet.name,
      phase: 'Progressing',
      image: YELLOW,
      revision: 1,
      clusters: ['one', 'two', 'three'],
      wave: { index: 0, name: 'canary' },
      waves: 2,
    });
  });

  it('lists each wave with its members: phase, step k/n, canary weight, image and state; unregistered ones bare', () => {
    const steps = fleet.template.canary.steps.length;
    expect(fleetWaves(inFlight, members)).toEqual([
      {
        name: 'canary',
        current: true,
        members: [
          { cluster: 'one', phase: 'Paused', step: 1, steps, image: YELLOW, weight: 5, state: 'inFlight' },
        ],
      },
      {
        name: 'rest',
        current: false,
        members: [
          {
            cluster: 'two',
            phase: 'Healthy',
            step: Math.min(4, steps),
            steps,
            image: BLUE,
            weight: 0,
            state: 'idle',
          },
          { cluster: 'three', step: 0, steps: 0, weight: 0, state: 'idle' },
        ],
      },
    ]);
  });

  it('marks no wave in flight once the fleet is Healthy, and words the last wave as done', () => {
    const done = storedFleet({ ...inFlight.status, phase: 'Healthy', wave: 2 });
    expect(fleetWaves(done, members).map((wave) => wave.current)).toEqual([false, false]);
    expect(describeFleet(done, members, {})).toContain('Wave:            2/2 done');
    expect(describeFleetList([done])).toMatch(/Healthy +2\/2 /);
  });

  it("words the same view for `rollouts get`: the current wave marked, each member's row", () => {
    const text = describeFleet(inFlight, members, {});
    expect(text).toContain('Wave:            1/2 canary');
    const rows = text.split('\n').filter((line) => /^[► ] (canary|rest) /.test(line));
    expect(rows.map((row) => row.split(/\s{2,}/).filter(Boolean))).toEqual([
      [
        '► canary',
        'one',
        '॥ Paused',
        `1/${fleet.template.canary.steps.length}`,
        YELLOW,
        'desired 95/5',
        'inFlight',
      ],
      expect.arrayContaining(['rest', 'two', 'idle']),
      ['rest', 'three', '(not registered)', 'idle'],
    ]);
  });
});
