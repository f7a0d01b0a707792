import { describe, expect, it } from '@jest/globals';
import { decideFleet, initialFleetStatus } from '../../lib/core/fleet/decide.js';
import type { FleetCommand, FleetStatus, MemberStatuses } from '../../lib/core/fleet/types.js';
import type { RolloutStatus } from '../../lib/core/engine/types.js';
import { memberRollout, type Fleet } from '../../lib/core/model/fleet.js';
import { checkFleetScope, parseFleet } from '../../lib/core/model/fleet-spec.js';
import { stringify } from 'yaml';
import { lint } from '../../lib/app/cli/lint.js';
import { fleetDocument } from './fleet-fixtures.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const V1 = 'app:v1';
const V2 = 'app:v2';

function fleetOf(spec: Record<string, unknown>): Fleet {
  const parsed = parseFleet(fleetDocument(spec));
  if (!parsed.ok) throw new Error(parsed.error.join('\n'));
  return parsed.value;
}

const ISSUE_SPEC = {
  clusters: ['staging-eu', 'prod-eu-1', 'prod-eu-2', 'prod-us-1'],
  waves: [
    { name: 'staging', clusters: ['staging-eu'] },
    { name: 'first-prod', clusters: ['prod-eu-1'], bake: '30m' },
    {
      name: 'rest',
      clusters: ['prod-eu-2', 'prod-us-1'],
      maxParallel: 1,
      steps: [{ setWeight: 25 }, { pause: { duration: '5m' } }],
    },
  ],
  onAbort: { completedClusters: 'Keep' },
};

describe('the fleet spec', () => {
  it("parses the issue's example: waves, bake, maxParallel, per-wave steps, onAbort", () => {
    const fleet = fleetOf(ISSUE_SPEC);
    expect(fleet.waves).toEqual([
      { name: 'staging', clusters: ['staging-eu'], bakeSeconds: 0, maxParallel: 1 },
      { name: 'first-prod', clusters: ['prod-eu-1'], bakeSeconds: 1800, maxParallel: 1 },
      {
        name: 'rest',
        clusters: ['prod-eu-2', 'prod-us-1'],
        bakeSeconds: 0,
        maxParallel: 1,
        steps: [{ setWeight: 25 }, { pause: { durationSeconds: 300 } }],
      },
    ]);
    expect(fleet.onAbort).toEqual({ completedClusters: 'Keep' });
    expect(fleet.trigger).toEqual({ repository: 'argoproj/rollouts-demo' });
    expect(memberRollout(fleet, 'prod-us-1')).toMatchObject({
      cluster: 'prod-us-1',
      canary: { steps: [{ setWeight: 25 }, { pause: { durationSeconds: 300 } }] },
    });
    expect(memberRollout(fleet, 'staging-eu').canary.steps).toHaveLength(4);
    expect(memberRollout(fleet, 'staging-eu')).not.toHaveProperty('trigger');
  });

  it('without waves, every listed cluster is one wave, all at once; onAbort defaults to Keep', () => {
    const fleet = fleetOf({ clusters: ['a', 'b', 'c'] });
    expect(fleet.waves).toEqual([{ name: 'all', clusters: ['a', 'b', 'c'], bakeSeconds: 0, maxParallel: 3 }]);
    expect(fleet.onAbort.completedClusters).toBe('Keep');
  });

  it.each([
    [
      'a cluster in two waves',
      {
        clusters: ['a', 'b'],
        waves: [
          { name: 'one', clusters: ['a', 'b'] },
          { name: 'two', clusters: ['a'] },
        ],
      },
      "spec.waves[1].clusters[0]: cluster 'a' is already in wave 'one': each cluster belongs to exactly one wave",
    ],
    [
      'a cluster in no wave',
      { clusters: ['a', 'b'], waves: [{ name: 'one', clusters: ['a'] }] },
      "spec.clusters[1]: cluster 'b' is in no wave: each cluster belongs to exactly one wave",
    ],
    [
      'a wave cluster not in spec.clusters',
      { clusters: ['a'], waves: [{ name: 'one', clusters: ['a', 'z'] }] },
      "spec.waves[0].clusters[1]: cluster 'z' is not in spec.clusters (a)",
    ],
    [
      'an invalid bake',
      { clusters: ['a'], waves: [{ name: 'one', clusters: ['a'], bake: 'soon' }] },
      "spec.waves[0].bake: invalid duration 'soon'",
    ],
    [
      'maxParallel 0',
      { clusters: ['a'], waves: [{ name: 'one', clusters: ['a'], maxParallel: 0 }] },
      'spec.waves[0].maxParallel: must be a whole number of clusters, at least 1',
    ],
    [
      'maxParallel above the wave size',
      { clusters: ['a'], waves: [{ name: 'one', clusters: ['a'], maxParallel: 2 }] },
      'spec.waves[0].maxParallel: is 2 but the wave has 1 cluster(s)',
    ],
    [
      'a bad step in a wave',
      { clusters: ['a'], waves: [{ name: 'one', clusters: ['a'], steps: [{ setWeight: 120 }] }] },
      'spec.waves[0].steps[0].setWeight: SetWeight needs to be between 0 and 100, found 120',
    ],
    [
      'spec.cluster beside spec.clusters',
      { cluster: 'a', clusters: ['a'] },
      'spec.cluster: give spec.cluster (one cluster) or spec.clusters (a fleet), not both',
    ],
    [
      'an unknown onAbort policy',
      { clusters: ['a'], onAbort: { completedClusters: 'Rollback' } },
      'spec.onAbort.completedClusters:',
    ],
    ['a duplicated cluster', { clusters: ['a', 'a'] }, "spec.clusters[1]: 'a' is listed twice"],
  ])('refuses %s with the field path', (_name, spec, expected) => {
    const parsed = parseFleet(fleetDocument(spec));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.join('\n')).toContain(expected);
  });

  it('every cluster must be registered and allow the namespace', () => {
    const fleet = fleetOf({ clusters: ['a', 'b', 'c'] });
    const scoped = checkFleetScope(fleet, [
      { name: 'a', namespaces: ['default'] },
      { name: 'b', namespaces: ['shop'] },
    ]);
    expect(scoped).toEqual({
      ok: false,
      error: [
        "spec.clusters[1] (b): metadata.namespace: namespace 'default' is not allowed: cluster 'b' serves namespaces shop only",
        expect.stringContaining(
          'spec.clusters[1] (b): spec.strategy.canary.trafficRouting.istio.virtualServices[0].name',
        ),
        expect.stringContaining(
          'spec.clusters[1] (b): spec.strategy.canary.trafficRouting.istio.virtualServices[1].name',
        ),
        "spec.clusters[2]: cluster 'c' is not registered (registered: a, b)",
      ],
    });
  });
});

// ---------------------------------------------------------------------------------------------

const healthy = (stableImage: string): RolloutStatus => ({
  phase: 'Healthy',
  revision: 1,
  stableImage,
  stepIndex: 0,
  weight: 0,
});
const inFlight = (image: string, weight = 5): RolloutStatus => ({
  phase: 'Paused',
  revision: 2,
  stableImage: V1,
  canaryImage: image,
  stepIndex: 1,
  weight,
});
const aborted = (image: string, at = '2026-01-01T00:01:00.000Z'): RolloutStatus => ({
  phase: 'Degraded',
  revision: 2,
  stableImage: V1,
  canaryImage: image,
  stepIndex: 1,
  weight: 0,
  abortedAt: at,
  message: 'Rollout aborted update to revision 2: ProgressDeadlineExceeded',
});

const THREE = {
  clusters: ['one', 'two', 'three'],
  waves: [
    { name: 'first', clusters: ['one'], bake: '60s' },
    { name: 'rest', clusters: ['two', 'three'] },
  ],
};

function start(fleet: Fleet, members: MemberStatuses, now = T0) {
  return decideFleet(fleet, undefined, members, { kind: 'setImage', image: V2 }, now);
}

const allOn = (image: string): MemberStatuses => ({
  one: healthy(image),
  two: healthy(image),
  three: healthy(image),
});

/** Wave 1 complete, its bake ended by promote --wave: wave 2's members started. */
function secondWaveOpened(fleet: Fleet, started: FleetStatus): FleetStatus {
  const members = { ...allOn(V1), one: healthy(V2) };
  const completed = decideFleet(fleet, started, members, null, T0 + 1).status;
  return decideFleet(fleet, completed, members, { kind: 'promoteWave' }, T0 + 2).status;
}

/** `command` while wave 1 (one) is complete and wave 2 (two, three) is in flight. */
function commandInWaveTwo(fleet: Fleet, command: FleetCommand) {
  const opened = secondWaveOpened(fleet, start(fleet, allOn(V1)).status);
  return decideFleet(
    fleet,
    opened,
    { one: healthy(V2), two: inFlight(V2), three: inFlight(V2) },
    command,
    T0 + 2,
  );
}

describe('the fleet engine', () => {
  it('a new image opens wave 1 only: setImage to its member, once, with a dedupe key', () => {
    const fleet = fleetOf(THREE);
    const decision = start(fleet, allOn(V1));
    expect(decision.command).toEqual({ accepted: true, message: 'rolling out app:v2 as revision 1' });
    expect(decision.commands).toEqual([
      {
        cluster: 'one',
        command: { kind: 'setImage', image: V2 },
        dedupeKey: 'fleet/default/rollouts-demo/r1/a0/start',
      },
    ]);
    expect(decision.events).toEqual([
      { type: 'Wave Started', revision: 1, image: V2, wave: 'first', clusters: ['one'] },
    ]);
    expect(decision.status).toMatchObject({
      phase: 'Progressing',
      wave: 0,
      members: { one: { previousImage: V1 } },
    });
    expect(decision.wakeAt).toBe(T0 + 10_000);
    // The next pass, member not yet moved: nothing issued again.
    const again = decideFleet(fleet, decision.status, allOn(V1), null, T0 + 1000);
    expect(again.commands).toEqual([]);
    expect(again.events).toEqual([]);
  });

  it('wave 2 waits for wave 1 to complete and bake; then opens with every member at once', () => {
    const fleet = fleetOf(THREE);
    const started = start(fleet, allOn(V1)).status;
    const midway = decideFleet(fleet, started, { ...allOn(V1), one: inFlight(V2) }, null, T0 + 5000);
    expect(midway.commands).toEqual([]);
    const done = decideFleet(fleet, midway.status, { ...allOn(V1), one: healthy(V2) }, null, T0 + 10_000);
    expect(done.commands).toEqual([]);
    expect(done.events.map((event) => event.type)).toEqual(['Wave Completed']);
    expect(done.status.bakeUntil).toBe(new Date(T0 + 70_000).toISOString());
    expect(done.wakeAt).toBe(T0 + 70_000);
    const baking = decideFleet(fleet, done.status, { ...allOn(V1), one: healthy(V2) }, null, T0 + 69_999);
    expect(baking.commands).toEqual([]);
    const opened = decideFleet(fleet, baking.status, { ...allOn(V1), one: healthy(V2) }, null, T0 + 70_000);
    expect(opened.commands.map((c) => [c.cluster, c.command])).toEqual([
      ['two', { kind: 'setImage', image: V2 }],
      ['three', { kind: 'setImage', image: V2 }],
    ]);
    expect(opened.events).toEqual([
      { type: 'Wave Started', revision: 1, image: V2, wave: 'rest', clusters: ['two', 'three'] },
    ]);
    const finished = decideFleet(fleet, opened.status, allOn(V2), null, T0 + 80_000);
    expect(finished.status).toMatchObject({
      phase: 'Healthy',
      wave: 2,
      message: 'app:v2 is stable on every cluster',
    });
    expect(finished.events.map((event) => event.type)).toEqual(['Wave Completed']);
    expect(finished.wakeAt).toBeNull();
  });

  it('maxParallel: the next member of a wave starts when one completes', () => {
    const fleet = fleetOf({
      clusters: ['a', 'b', 'c'],
      waves: [{ name: 'all', clusters: ['a', 'b', 'c'], maxParallel: 2 }],
    });
    const members = { a: healthy(V1), b: healthy(V1), c: healthy(V1) };
    const first = decideFleet(fleet, undefined, members, { kind: 'setImage', image: V2 }, T0);
    expect(first.commands.map((c) => c.cluster)).toEqual(['a', 'b']);
    const second = decideFleet(
      fleet,
      first.status,
      { ...members, a: inFlight(V2), b: healthy(V2) },
      null,
      T0 + 1,
    );
    expect(second.commands.map((c) => c.cluster)).toEqual(['c']);
  });

  it('promote --wave ends the bake at once', () => {
    const fleet = fleetOf(THREE);
    const started = start(fleet, allOn(V1)).status;
    const baked = decideFleet(fleet, started, { ...allOn(V1), one: healthy(V2) }, null, T0 + 1000);
    const promoted = decideFleet(
      fleet,
      baked.status,
      { ...allOn(V1), one: healthy(V2) },
      { kind: 'promoteWave' },
      T0 + 2000,
    );
    expect(promoted.command).toEqual({ accepted: true, message: 'ended the bake of wave first' });
    expect(promoted.commands.map((c) => c.cluster)).toEqual(['two', 'three']);
  });

  it('promote passes one step to every member in flight, or to --cluster only; each under its own key', () => {
    const fleet = fleetOf({ clusters: ['a', 'b'] });
    const members = { a: healthy(V1), b: healthy(V1) };
    const started = decideFleet(fleet, undefined, members, { kind: 'setImage', image: V2 }, T0).status;
    const flying = { a: inFlight(V2), b: inFlight(V2) };
    const all = decideFleet(fleet, started, flying, { kind: 'promote' }, T0 + 1);
    expect(all.commands).toEqual([
      { cluster: 'a', command: { kind: 'promote' }, dedupeKey: 'fleet/default/rollouts-demo/r1/a0/promote0' },
      { cluster: 'b', command: { kind: 'promote' }, dedupeKey: 'fleet/default/rollouts-demo/r1/a0/promote0' },
    ]);
    const one = decideFleet(fleet, all.status, flying, { kind: 'promote', cluster: 'b', full: true }, T0 + 2);
    expect(one.commands).toEqual([
      {
        cluster: 'b',
        command: { kind: 'promoteFull' },
        dedupeKey: 'fleet/default/rollouts-demo/r1/a0/promoteFull1',
      },
    ]);
    const unknown = decideFleet(fleet, all.status, flying, { kind: 'promote', cluster: 'zz' }, T0 + 2);
    expect(unknown.command).toEqual({ accepted: false, message: "cluster 'zz' is not in the fleet (a, b)" });
  });

  it('a member that aborts aborts the fleet: every member in flight gets abort once, no later wave opens', () => {
    const fleet = fleetOf({
      clusters: ['a', 'b', 'c'],
      waves: [
        { name: 'w1', clusters: ['a', 'b'] },
        { name: 'w2', clusters: ['c'] },
      ],
    });
    const members = { a: healthy(V1), b: healthy(V1), c: healthy(V1) };
    const started = decideFleet(fleet, undefined, members, { kind: 'setImage', image: V2 }, T0).status;
    const failing = { a: aborted(V2), b: inFlight(V2, 50), c: healthy(V1) };
    const decision = decideFleet(fleet, started, failing, null, T0 + 60_000);
    expect(decision.status.phase).toBe('Degraded');
    expect(decision.status.message).toBe(
      'Fleet aborted revision 1: member on a aborted (Rollout aborted update to revision 2: ProgressDeadlineExceeded)',
    );
    expect(decision.events.map((event) => event.type)).toEqual(['Fleet Aborted']);
    expect(decision.commands).toEqual([
      { cluster: 'b', command: { kind: 'abort' }, dedupeKey: 'fleet/default/rollouts-demo/r1/a0/abort' },
    ]);
    const later = decideFleet(fleet, decision.status, failing, null, T0 + 61_000);
    expect(later.commands).toEqual([]);
    expect(later.wakeAt).toBe(T0 + 71_000);
    const settled = decideFleet(fleet, later.status, { ...failing, b: aborted(V2) }, null, T0 + 70_000);
    expect(settled.wakeAt).toBeNull();
    expect(settled.commands).toEqual([]);
  });

  it('abort with Revert puts the previous stable image back on completed members, through promote --full', () => {
    const fleet = fleetOf({ ...THREE, onAbort: { completedClusters: 'Revert' } });
    const started = start(fleet, allOn(V1)).status;
    const opened = secondWaveOpened(fleet, started);
    const members = { one: healthy(V2), two: inFlight(V2), three: inFlight(V2) };
    const decision = decideFleet(fleet, opened, members, { kind: 'abort' }, T0 + 2);
    expect(decision.command).toEqual({ accepted: true, message: 'fleet aborted revision 1' });
    expect(decision.commands.map((c) => [c.cluster, c.command.kind, c.dedupeKey.split('/').at(-1)])).toEqual([
      ['one', 'setImage', 'revert'],
      ['one', 'promoteFull', 'revert-promote'],
      ['two', 'abort', 'abort'],
      ['three', 'abort', 'abort'],
    ]);
    expect(decision.commands[0]?.command).toEqual({ kind: 'setImage', image: V1 });
  });

  it('Keep leaves completed members alone', () => {
    const decision = commandInWaveTwo(fleetOf(THREE), { kind: 'abort' });
    expect(decision.commands.map((c) => c.cluster)).toEqual(['two', 'three']);
  });

  it('retry resumes from the first unfinished wave; a member aborted before is retried, not restarted', () => {
    const fleet = fleetOf(THREE);
    const started = start(fleet, allOn(V1)).status;
    const opened = secondWaveOpened(fleet, started);
    const members = { one: healthy(V2), two: aborted(V2), three: aborted(V2) };
    const abortedFleet = decideFleet(fleet, opened, members, { kind: 'abort' }, T0 + 2).status;
    const retried = decideFleet(fleet, abortedFleet, members, { kind: 'retry' }, T0 + 3);
    expect(retried.command).toEqual({ accepted: true, message: 'retrying revision 1 from wave rest' });
    expect(retried.commands).toEqual([
      { cluster: 'two', command: { kind: 'retry' }, dedupeKey: 'fleet/default/rollouts-demo/r1/a1/start' },
      { cluster: 'three', command: { kind: 'retry' }, dedupeKey: 'fleet/default/rollouts-demo/r1/a1/start' },
    ]);
    // The stale aborts do not abort the retried fleet again.
    const next = decideFleet(fleet, retried.status, members, null, T0 + 4);
    expect(next.status.phase).toBe('Progressing');
    expect(next.commands).toEqual([]);
  });

  it.each<[string, FleetStatus, string]>([
    ['promote on a Healthy fleet', initialFleetStatus(), 'nothing to promote: the fleet is Healthy'],
    ['abort on a Healthy fleet', initialFleetStatus(), 'nothing to abort: the fleet is Healthy'],
    ['retry on a Healthy fleet', initialFleetStatus(), 'nothing to retry: the fleet is Healthy, not aborted'],
    ['promote --wave with nothing baking', initialFleetStatus(), 'no wave is baking: the fleet is Healthy'],
  ])('refuses %s, saying why', (name, status, message) => {
    const fleet = fleetOf(THREE);
    const kind = name.split(' ')[0] as 'promote' | 'abort' | 'retry';
    const command = name.includes('--wave') ? { kind: 'promoteWave' as const } : { kind };
    const decision = decideFleet(fleet, status, allOn(V1), command, T0);
    expect(decision.command).toEqual({ accepted: false, message });
    expect(decision.commands).toEqual([]);
  });

  it('a new image mid-rollout aborts members of later waves in flight and restarts wave 1', () => {
    const decision = commandInWaveTwo(fleetOf(THREE), { kind: 'setImage', image: 'app:v3' });
    expect(
      decision.commands.map((c) => [c.cluster, c.command, c.dedupeKey.split('/').slice(-3).join('/')]),
    ).toEqual([
      ['two', { kind: 'abort' }, 'r1/a0/abort'],
      ['three', { kind: 'abort' }, 'r1/a0/abort'],
      ['one', { kind: 'setImage', image: 'app:v3' }, 'r2/a0/start'],
    ]);
  });
});

describe('rollouts lint on a fleet', () => {
  it('reports every wave problem with its field path and exits non-zero; a good fleet is OK', () => {
    const bad = stringify(
      fleetDocument({
        clusters: ['a', 'b', 'c'],
        waves: [
          { name: 'one', clusters: ['a', 'b'] },
          { name: 'two', clusters: ['b'], bake: '1x', maxParallel: 0 },
        ],
      }),
    );
    const report = lint([{ path: 'fleet.yaml', text: bad }], []);
    expect(report.ok).toBe(false);
    expect(report.lines).toEqual([
      'fleet.yaml: Rollout default/rollouts-demo: spec.waves[1].bake: invalid duration \'1x\': expected seconds (30 or "30") or a duration such as 30s, 10m, 1h or 1h30m',
      'fleet.yaml: Rollout default/rollouts-demo: spec.waves[1].maxParallel: must be a whole number of clusters, at least 1',
      "fleet.yaml: Rollout default/rollouts-demo: spec.waves[1].clusters[0]: cluster 'b' is already in wave 'one': each cluster belongs to exactly one wave",
      "fleet.yaml: Rollout default/rollouts-demo: spec.clusters[2]: cluster 'c' is in no wave: each cluster belongs to exactly one wave",
    ]);
    const good = lint([{ path: 'fleet.yaml', text: stringify(fleetDocument(ISSUE_SPEC)) }], []);
    expect(good).toEqual({ ok: true, lines: ['fleet.yaml: Rollout default/rollouts-demo: OK'] });
  });

  it('with a registry (lint --config), every member must be registered and allow the namespace', () => {
    const text = stringify(fleetDocument({ clusters: ['a', 'b', 'c'] }));
    const registry = [
      { name: 'a', namespaces: ['default'] },
      { name: 'c', namespaces: ['default'] },
    ];
    expect(lint([{ path: 'fleet.yaml', text }], [], registry)).toEqual({
      ok: false,
      lines: [
        "fleet.yaml: Rollout default/rollouts-demo: spec.clusters[1]: cluster 'b' is not registered (registered: a, c)",
      ],
    });
    expect(
      lint([{ path: 'fleet.yaml', text }], [], [...registry, { name: 'b', namespaces: ['default'] }]).ok,
    ).toBe(true);
  });
});
