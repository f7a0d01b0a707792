/**
 * The managed-routes planner and spec, table by table: Argo Rollouts' istio_test.go cases (route
 * names, match blocks, destinations, mirror and mirrorPercentage), the guarded patch shapes, the
 * repairs a pass makes, and the spec errors with their field paths.
 */
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { lint } from '../../lib/app/cli/lint.js';
import { decide, initialStatus } from '../../lib/core/engine/decide.js';
import { routesAfterSteps } from '../../lib/core/engine/managed-routes.js';
import type { Action } from '../../lib/core/engine/types.js';
import { planManagedRoutes, readManagedRoutes, renderRoute } from '../../lib/core/istio/managed-routes.js';
import { planTraffic } from '../../lib/core/istio/traffic.js';
import { plan } from '../../lib/core/istio/weights.js';
import { parseRollout, parseTrafficSpec, type TrafficSpec } from '../../lib/core/model/rollout.js';
import type { RouteStep } from '../../lib/core/model/route-steps.js';
import type { Route, VirtualService } from '../../lib/core/model/virtualservice.js';
import { deployment } from './engine-model.js';
import { demoRolloutDocument } from './fixtures.js';
import { applyPatch } from '../../lib/adapters/memory/json-patch.js';

/** Argo's regularVsvc: two named routes, stable and canary destinations. */
const REGULAR = `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: vsvc, namespace: default}
spec:
  hosts: [istio-rollout.dev.argoproj.io]
  http:
  - name: primary
    route:
    - {destination: {host: stable}, weight: 100}
    - {destination: {host: canary}, weight: 0}
  - name: secondary
    route:
    - {destination: {host: stable}, weight: 100}
    - {destination: {host: canary}, weight: 0}
`;
/** Argo's regularVsvcWithExtra, shortened: ports and fields the planner must keep. */
const WITH_EXTRA = `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: vsvc, namespace: default}
spec:
  http:
  - name: primary
    retries: {attempts: 3, perTryTimeout: 10s}
    route:
    - {destination: {host: stable, port: {number: 8443}}, weight: 100}
    - {destination: {host: canary, port: {number: 8443}}, weight: 0}
  - name: secondary
    corsPolicy: {allowOrigins: [{exact: 'https://example.com'}]}
    route:
    - {destination: {host: stable, port: {number: 8443}}, weight: 100}
    - {destination: {host: canary, port: {number: 8443}}, weight: 0}
`;
/** Argo's singleRouteVsvc: one unnamed route. */
const SINGLE = `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: vsvc, namespace: default}
spec:
  http:
  - route:
    - {destination: {host: stable}, weight: 100}
    - {destination: {host: canary}, weight: 0}
`;

/** A VirtualService with a TCP route only. */
const TCP_ONLY = `
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: tcp-vs, namespace: default}
spec:
  tcp:
  - match: [{port: 8020}]
    route:
    - {destination: {host: rollouts-demo-stable}, weight: 100}
    - {destination: {host: rollouts-demo-canary}, weight: 0}
`;

function spec(routes: string[] | undefined, managed: string[], steps: unknown[] = []): TrafficSpec {
  const parsed = parseTrafficSpec({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'rollout', namespace: 'default' },
    spec: {
      strategy: {
        canary: {
          stableService: 'stable',
          canaryService: 'canary',
          trafficRouting: {
            managedRoutes: managed.map((name) => ({ name })),
            istio: { virtualService: { name: 'vsvc', ...(routes ? { routes } : {}) } },
          },
          steps,
        },
      },
    },
  });
  if (!parsed.ok) throw new Error(parsed.error.join('\n'));
  return parsed.value;
}

const vsOf = (text: string) => parse(text) as VirtualService;
const header = (name: string, exact = 'firefox'): RouteStep => ({
  setHeaderRoute: { name, match: [{ headerName: 'agent', headerValue: { exact } }] },
});
const mirror = (name: string, method = 'GET', percentage?: number): RouteStep => ({
  setMirrorRoute: {
    name,
    ...(percentage === undefined ? {} : { percentage }),
    match: [{ method: { exact: method } }],
  },
});

/** Plans weights and routes, checks the patch turns the input into the result, returns the result. */
function apply(s: TrafficSpec, vs: VirtualService, weight: number, routes: RouteStep[]): VirtualService {
  const planned = planTraffic(s, s.canary.virtualServices[0]!, vs, weight, routes);
  if (!planned.ok) throw new Error(JSON.stringify(planned.error));
  expect(applyPatch(vs, planned.value.patch)).toEqual(planned.value.result);
  return planned.value.result;
}
const names = (vs: VirtualService) => (vs.spec.http ?? []).map((route) => route.name ?? '');
const weightsOf = (route: Route | undefined) =>
  (route?.route ?? []).map((d) => [d.destination?.host, d.weight ?? 0]);

describe('header routes (Argo TestHttpReconcileHeaderRouteHostBased, WithExtra)', () => {
  it('puts the header route on top, to the canary only with weight 100, and removes it without match', () => {
    const s = spec(['primary'], ['test-header-route']);
    const added = apply(s, vsOf(REGULAR), 0, [header('test-header-route')]);
    expect(names(added)).toEqual(['test-header-route', 'primary', 'secondary']);
    expect(added.spec.http?.[0]).toEqual({
      name: 'test-header-route',
      match: [{ headers: { agent: { exact: 'firefox' } } }],
      route: [{ destination: { host: 'canary' }, weight: 100 }],
    });
    expect(weightsOf(added.spec.http?.[1])).toEqual([
      ['stable', 100],
      ['canary', 0],
    ]);
    const removed = apply(s, added, 0, []);
    expect(removed).toEqual(vsOf(REGULAR));
  });

  it("takes the port of the weighted route's first destination and keeps every other field", () => {
    const s = spec(['primary'], ['test-header-route']);
    const added = apply(s, vsOf(WITH_EXTRA), 0, [header('test-header-route')]);
    expect(added.spec.http?.[0]?.route).toEqual([
      { destination: { host: 'canary', port: { number: 8443 } }, weight: 100 },
    ]);
    expect(added.spec.http?.[1]?.retries).toEqual({ attempts: 3, perTryTimeout: '10s' });
    expect(added.spec.http?.[2]?.corsPolicy).toBeDefined();
    expect(apply(s, added, 0, [])).toEqual(vsOf(WITH_EXTRA));
  });

  it('writes several match entries as several match blocks (OR), each with one header', () => {
    const s = spec(['primary'], ['h']);
    const step: RouteStep = {
      setHeaderRoute: {
        name: 'h',
        match: [
          { headerName: 'Custom-Header1', headerValue: { exact: 'Mozilla' } },
          { headerName: 'Custom-Header2', headerValue: { prefix: 'Mozilla' } },
          { headerName: 'Custom-Header3', headerValue: { regex: 'Mozilla(.*)' } },
        ],
      },
    };
    expect(renderRoute(s, step, vsOf(REGULAR).spec.http![0]!).match).toEqual([
      { headers: { 'Custom-Header1': { exact: 'Mozilla' } } },
      { headers: { 'Custom-Header2': { prefix: 'Mozilla' } } },
      { headers: { 'Custom-Header3': { regex: 'Mozilla(.*)' } } },
    ]);
  });
});

describe('mirror routes (Argo TestHttpReconcileMirrorRoute, Order, SingleRouteNoName, WithExtraFields)', () => {
  it("copies the weighted route's destinations (a weight of 0 left out, as Argo writes it) and mirrors to the canary at 100% by default", () => {
    const s = spec(['primary'], ['test-mirror-1', 'test-mirror-2']);
    const one = apply(s, vsOf(REGULAR), 0, [mirror('test-mirror-1')]);
    expect(names(one)).toEqual(['test-mirror-1', 'primary', 'secondary']);
    expect(one.spec.http?.[0]).toEqual({
      name: 'test-mirror-1',
      match: [{ method: { exact: 'GET' } }],
      route: [{ destination: { host: 'stable' }, weight: 100 }, { destination: { host: 'canary' } }],
      mirror: { host: 'canary' },
      mirrorPercentage: { value: 100 },
    });
    const two = apply(s, one, 0, [mirror('test-mirror-1'), mirror('test-mirror-2', 'GET', 90)]);
    expect(names(two)).toEqual(['test-mirror-1', 'test-mirror-2', 'primary', 'secondary']);
    expect(two.spec.http?.[1]?.mirrorPercentage).toEqual({ value: 90 });
    expect(apply(s, two, 0, [])).toEqual(vsOf(REGULAR));
  });

  it('copies the weighted route as it was read, then moves its weights: a weight taken to 0 in the same pass stays written as 0 (Argo runs SetMirrorRoute before SetWeight)', () => {
    const s = spec(['primary'], ['test-mirror-1']);
    const at20 = apply(s, vsOf(REGULAR), 20, []);
    const vs = apply(s, at20, 0, [mirror('test-mirror-1')]);
    expect(vs.spec.http?.[0]?.route).toEqual([
      { destination: { host: 'stable' }, weight: 100 },
      { destination: { host: 'canary' }, weight: 0 },
    ]);
    // The mirror route a pass at an unchanged weight 0 writes leaves the 0 out instead.
    expect(apply(s, apply(s, at20, 0, []), 0, [mirror('test-mirror-1')]).spec.http?.[0]?.route).toEqual([
      { destination: { host: 'stable' }, weight: 100 },
      { destination: { host: 'canary' } },
    ]);
  });

  it('orders by managedRoutes, not by when a step ran, and mirror weights follow later weight changes', () => {
    const s = spec(['primary', 'secondary'], ['test-mirror-2', 'test-mirror-3', 'test-mirror-1']);
    let vs = vsOf(REGULAR);
    vs = apply(s, vs, 0, [mirror('test-mirror-1')]);
    vs = apply(s, vs, 0, [mirror('test-mirror-1'), mirror('test-mirror-2', 'POST', 90)]);
    vs = apply(s, vs, 0, [
      mirror('test-mirror-1'),
      mirror('test-mirror-2', 'POST', 90),
      mirror('test-mirror-3', 'GET', 90),
    ]);
    vs = apply(s, vs, 40, [
      mirror('test-mirror-1'),
      mirror('test-mirror-2', 'POST', 90),
      mirror('test-mirror-3', 'GET', 90),
    ]);
    expect(names(vs)).toEqual(['test-mirror-2', 'test-mirror-3', 'test-mirror-1', 'primary', 'secondary']);
    expect(weightsOf(vs.spec.http?.[0])).toEqual([
      ['stable', 60],
      ['canary', 40],
    ]);
    vs = apply(s, vs, 40, [mirror('test-mirror-1'), mirror('test-mirror-2', 'POST', 90)]);
    expect(names(vs)).toEqual(['test-mirror-2', 'test-mirror-1', 'primary', 'secondary']);
    expect(names(apply(s, vs, 40, []))).toEqual(['primary', 'secondary']);
  });

  it('weights the lone unnamed route when routes is omitted, however many managed routes sit above it', () => {
    const s = spec(undefined, ['test-mirror-2', 'test-mirror-3', 'test-mirror-1']);
    const all = [
      mirror('test-mirror-1'),
      mirror('test-mirror-2', 'POST', 90),
      mirror('test-mirror-3', 'GET', 90),
    ];
    let vs = apply(s, vsOf(SINGLE), 30, all);
    expect(names(vs)).toEqual(['test-mirror-2', 'test-mirror-3', 'test-mirror-1', '']);
    expect(weightsOf(vs.spec.http?.[3])).toEqual([
      ['stable', 70],
      ['canary', 30],
    ]);
    expect(plan(s, [vs], 40).ok).toBe(true);
    vs = apply(s, vs, 40, all);
    for (const route of vs.spec.http ?? [])
      expect(weightsOf(route)).toEqual([
        ['stable', 60],
        ['canary', 40],
      ]);
  });

  it('keeps the port on the copied destinations and on the mirror', () => {
    const s = spec(['primary'], ['m']);
    const vs = apply(s, vsOf(WITH_EXTRA), 20, [mirror('m')]);
    expect(vs.spec.http?.[0]?.route).toEqual([
      { destination: { host: 'stable', port: { number: 8443 } }, weight: 80 },
      { destination: { host: 'canary', port: { number: 8443 } }, weight: 20 },
    ]);
    expect(vs.spec.http?.[0]?.mirror).toEqual({ host: 'canary', port: { number: 8443 } });
  });

  it('writes method, path (as uri) and headers of one match entry into one block (AND)', () => {
    const s = spec(['primary'], ['m']);
    const step: RouteStep = {
      setMirrorRoute: {
        name: 'm',
        percentage: 35,
        match: [
          { method: { exact: 'GET' }, path: { prefix: '/' }, headers: { 'x-a': { regex: 'b.*' } } },
          { path: { exact: '/health' } },
        ],
      },
    };
    const route = renderRoute(s, step, vsOf(REGULAR).spec.http![0]!);
    expect(route.match).toEqual([
      { method: { exact: 'GET' }, uri: { prefix: '/' }, headers: { 'x-a': { regex: 'b.*' } } },
      { uri: { exact: '/health' } },
    ]);
    expect(route.mirrorPercentage).toEqual({ value: 35 });
  });
});

describe('guarded patches', () => {
  it('adds at an index with tests on both neighbours, and removes with a test of the whole route', () => {
    const s = spec(['primary'], ['h']);
    const vs = vsOf(REGULAR);
    const added = planManagedRoutes(s, s.canary.virtualServices[0]!, vs, [header('h')]);
    expect(added.patch).toEqual([
      { op: 'test', path: '/spec/http/0', value: vs.spec.http![0] },
      { op: 'add', path: '/spec/http/0', value: added.result.spec.http![0] },
    ]);
    const removed = planManagedRoutes(s, s.canary.virtualServices[0]!, added.result, []);
    expect(removed.patch).toEqual([
      { op: 'test', path: '/spec/http/0', value: added.result.spec.http![0] },
      { op: 'remove', path: '/spec/http/0' },
    ]);
    const between = planManagedRoutes(
      spec(['primary'], ['a', 'h']),
      s.canary.virtualServices[0]!,
      planManagedRoutes(spec(['primary'], ['a', 'h']), s.canary.virtualServices[0]!, vs, [header('a')])
        .result,
      [header('a'), header('h')],
    );
    expect(between.patch.map((op) => `${op.op} ${op.path}`)).toEqual([
      'test /spec/http/0',
      'test /spec/http/1',
      'add /spec/http/1',
    ]);
    expect(between.patch.some((op) => op.op === 'replace')).toBe(false);
  });

  it('writes nothing when the routes are as they should be', () => {
    const s = spec(['primary'], ['a', 'b']);
    const vs = apply(s, vsOf(REGULAR), 20, [header('a'), mirror('b')]);
    const again = planTraffic(s, s.canary.virtualServices[0]!, vs, 20, [header('a'), mirror('b')]);
    expect(again.ok && again.value.patch).toEqual([]);
  });

  it('fails a guard when someone reordered the routes between read and write', () => {
    const s = spec(['primary'], ['h']);
    const vs = vsOf(REGULAR);
    const planned = planManagedRoutes(s, s.canary.virtualServices[0]!, vs, [header('h')]);
    const reordered = structuredClone(vs);
    reordered.spec.http!.reverse();
    expect(() => applyPatch(reordered, planned.patch)).toThrow('test failed at /spec/http/0');
  });

  it('leaves VirtualServices alone when the Rollout declares no managed routes (routes undefined)', () => {
    const s = spec(['primary'], []);
    const vs = vsOf(REGULAR);
    vs.spec.http!.unshift({
      name: 'someone-elses',
      route: [{ destination: { host: 'canary' }, weight: 100 }],
    });
    const planned = planTraffic(s, s.canary.virtualServices[0]!, vs, 0, undefined);
    expect(planned.ok && planned.value.patch).toEqual([]);
  });
});

describe('repairs on every pass', () => {
  const s = spec(['primary'], ['a', 'b', 'c']);
  const desired = [header('a'), mirror('b'), header('c', 'chrome')];
  const good = apply(s, vsOf(REGULAR), 20, desired);

  it('puts back a deleted managed route at its place', () => {
    const edited = structuredClone(good);
    edited.spec.http!.splice(1, 1);
    expect(apply(s, edited, 20, desired)).toEqual(good);
  });

  it('restores a managed route edited by hand, and one moved below the weighted route', () => {
    const edited = structuredClone(good);
    edited.spec.http![0]!.match = [{ headers: { agent: { exact: 'opera' } } }];
    const moved = edited.spec.http!.splice(2, 1)[0]!;
    edited.spec.http!.push(moved);
    expect(apply(s, edited, 20, desired)).toEqual(good);
  });

  it('puts swapped managed routes back in managedRoutes order and drops duplicates', () => {
    const edited = structuredClone(good);
    const [a, b] = [edited.spec.http![0]!, edited.spec.http![1]!];
    edited.spec.http!.splice(0, 2, b, a, structuredClone(a));
    const repaired = apply(s, edited, 20, desired);
    expect(repaired).toEqual(good);
  });

  it('removes a managed route no step asks for now, wherever it is', () => {
    const edited = structuredClone(good);
    edited.spec.http!.push({ name: 'c', route: [{ destination: { host: 'canary' }, weight: 100 }] });
    expect(names(apply(s, edited, 20, [header('a'), mirror('b')]))).toEqual([
      'a',
      'b',
      'primary',
      'secondary',
    ]);
  });

  it('lists the managed routes in place for rollouts get', () => {
    expect(readManagedRoutes(s, good)).toEqual([
      { index: 0, name: 'a', kind: 'header' },
      { index: 1, name: 'b', kind: 'mirror' },
      { index: 2, name: 'c', kind: 'header' },
    ]);
  });
});

describe('TLS/TCP-only VirtualServices', () => {
  it('get no managed routes, while an HTTP one in the same Rollout does', () => {
    const document = structuredClone(demoRolloutDocument()) as any;
    const canary = document.spec.strategy.canary;
    canary.trafficRouting.managedRoutes = [{ name: 'h' }];
    canary.trafficRouting.istio.virtualServices[1] = {
      name: 'rollouts-demo-vsvc2',
      tcpRoutes: [{ port: 8020 }],
    };
    const parsed = parseRollout(document);
    if (!parsed.ok) throw new Error(parsed.error.join('\n'));
    const tcpOnly = vsOf(TCP_ONLY.replace('tcp-vs', 'rollouts-demo-vsvc2'));
    const skipped = planTraffic(parsed.value, parsed.value.canary.virtualServices[1]!, tcpOnly, 0, [
      header('h'),
    ]);
    expect(skipped.ok && skipped.value.patch).toEqual([]);
  });
});

describe('the desired set', () => {
  const steps = [
    { setWeight: 20 },
    {
      setHeaderRoute: { name: 'h', match: [{ headerName: 'agent', headerValue: { regex: 'firefox(.*)' } }] },
    },
    { pause: {} },
    { setHeaderRoute: { name: 'h', match: [{ headerName: 'agent', headerValue: { regex: 'chrome(.*)' } }] } },
    { setMirrorRoute: { name: 'm', match: [{ path: { prefix: '/' } }] } },
    { setHeaderRoute: { name: 'h' } },
  ];
  const s = spec(['primary'], ['m', 'h'], steps);

  it.each([
    [0, []],
    [1, []],
    [2, ['h:firefox(.*)']],
    [3, ['h:firefox(.*)']],
    [4, ['h:chrome(.*)']],
    [5, ['m', 'h:chrome(.*)']],
    [6, ['m']],
  ])('after %p steps: %p (the last step naming a route decides; managedRoutes order)', (index, expected) => {
    const label = (step: RouteStep) =>
      'setHeaderRoute' in step
        ? `${step.setHeaderRoute.name}:${step.setHeaderRoute.match?.[0]?.headerValue.regex}`
        : step.setMirrorRoute.name;
    expect(routesAfterSteps(s.canary, index).map(label)).toEqual(expected);
  });
});

describe('engine', () => {
  const document = structuredClone(demoRolloutDocument()) as any;
  document.spec.strategy.canary.trafficRouting.managedRoutes = [{ name: 'h' }];
  document.spec.strategy.canary.steps = [
    { setHeaderRoute: { name: 'h', match: [{ headerName: 'x-canary', headerValue: { exact: 'yes' } }] } },
    { pause: {} },
  ];
  const parsed = parseRollout(document);
  if (!parsed.ok) throw new Error(parsed.error.join('\n'));
  const rollout = parsed.value;
  const start = decide(
    rollout,
    initialStatus('app:v1'),
    { stable: deployment('app:v1', 2), canary: deployment('app:v1', 0) },
    { kind: 'setImage', image: 'app:v2' },
    0,
  ).status;
  const weightWrites = (actions: Action[]) => actions.filter((a) => a.type === 'setWeight');

  it('waits at a header step until a canary pod with the canary image is available, with no route meanwhile', () => {
    const waiting = decide(
      rollout,
      start,
      { stable: deployment('app:v1', 2), canary: deployment('app:v1', 1) },
      null,
      1000,
    );
    expect(waiting.status).toMatchObject({ phase: 'Progressing', stepIndex: 0 });
    expect(waiting.status.waitingSince).toBeDefined();
    expect(weightWrites(waiting.actions)).toEqual([{ type: 'setWeight', weight: 0, routes: [] }]);
  });

  it('adds the route once the pod is there, in the same pass that reaches the pause', () => {
    const ready = decide(
      rollout,
      start,
      { stable: deployment('app:v1', 2), canary: deployment('app:v2', 1) },
      null,
      1000,
    );
    expect(ready.status).toMatchObject({ phase: 'Paused', stepIndex: 1 });
    const writes = weightWrites(ready.actions);
    expect(writes.length).toBeGreaterThan(0);
    for (const write of writes) expect(write).toMatchObject({ routes: [rollout.canary.steps[0]] });
  });

  it('on abort, removes the routes in the write that takes traffic back, and before any scale-down', () => {
    const observation = { stable: deployment('app:v1', 2), canary: deployment('app:v2', 1) };
    const paused = decide(rollout, start, observation, null, 1000).status;
    const aborted = decide(rollout, paused, observation, { kind: 'abort' }, 2000);
    const writes = weightWrites(aborted.actions);
    expect(writes.length).toBeGreaterThan(0);
    for (const write of writes) expect(write).toEqual({ type: 'setWeight', weight: 0, routes: [] });
    expect(aborted.actions.some((a) => a.type === 'scaleCanary' && a.replicas === 0)).toBe(false);
    const later = decide(rollout, aborted.status, observation, null, 2000 + 31_000);
    const types = later.actions.map((a) =>
      a.type === 'setWeight' ? `setWeight ${JSON.stringify(a.routes)}` : a.type,
    );
    expect(types.slice(0, 2)).toEqual(['setWeight []', 'scaleCanary']);
  });

  it('on a new image mid-rollout, removes the routes before the canary takes the new image', () => {
    const observation = { stable: deployment('app:v1', 2), canary: deployment('app:v2', 1) };
    const paused = decide(rollout, start, observation, null, 1000).status;
    const restarted = decide(rollout, paused, observation, { kind: 'setImage', image: 'app:v3' }, 2000);
    const first = restarted.actions.findIndex((a) => a.type === 'setWeight');
    const reimage = restarted.actions.findIndex((a) => a.type === 'setCanaryImage');
    expect(restarted.actions[first]).toEqual({ type: 'setWeight', weight: 0, routes: [] });
    expect(first).toBeLessThan(reimage);
  });

  it('on promotion, removes the routes before the canary takes all traffic and long before it scales to zero', () => {
    const observation = { stable: deployment('app:v1', 2), canary: deployment('app:v2', 1) };
    const paused = decide(rollout, start, observation, null, 1000).status;
    const promoted = decide(rollout, paused, observation, { kind: 'promote' }, 2000);
    expect(promoted.status.phase).toBe('Promoting');
    for (const write of weightWrites(promoted.actions)) expect(write).toMatchObject({ routes: [] });
  });

  it('attaches nothing for a Rollout without managedRoutes', () => {
    const document = structuredClone(demoRolloutDocument()) as any;
    const plain = parseRollout(document);
    if (!plain.ok) throw new Error('invalid');
    const decision = decide(
      plain.value,
      initialStatus('app:v1'),
      { stable: deployment('app:v1', 2), canary: deployment('app:v1', 0) },
      { kind: 'setImage', image: 'app:v2' },
      0,
    );
    for (const write of weightWrites(decision.actions)) expect(write).not.toHaveProperty('routes');
  });
});

describe('spec errors, each with its field path', () => {
  const errorsFor = (change: (canary: any) => void) => {
    const document = structuredClone(demoRolloutDocument()) as any;
    change(document.spec.strategy.canary);
    const parsed = parseRollout(document);
    return parsed.ok ? [] : parsed.error;
  };
  const headerStep = (name: string, headerValue: unknown = { exact: 'yes' }) => ({
    setHeaderRoute: { name, match: [{ headerName: 'x-canary', headerValue }] },
  });

  it('accepts Argo documented steps', () => {
    expect(
      errorsFor((canary) => {
        canary.trafficRouting.managedRoutes = [{ name: 'set-header-1' }, { name: 'mirror-route' }];
        canary.steps = [
          { setWeight: 20 },
          headerStep('set-header-1', { regex: 'Mozilla(.*)' }),
          {
            setMirrorRoute: {
              name: 'mirror-route',
              percentage: 35,
              match: [{ method: { exact: 'GET' }, path: { prefix: '/' } }],
            },
          },
          { pause: {} },
          { setHeaderRoute: { name: 'set-header-1' } },
          { setMirrorRoute: { name: 'mirror-route' } },
        ];
      }),
    ).toEqual([]);
  });

  it('reads a match or percentage set to null as left out, as Kubernetes does: the step removes its route', () => {
    const document = structuredClone(demoRolloutDocument()) as any;
    document.spec.strategy.canary.trafficRouting.managedRoutes = [{ name: 'h' }, { name: 'm' }];
    document.spec.strategy.canary.steps = [
      { setHeaderRoute: { name: 'h', match: null } },
      { setMirrorRoute: { name: 'm', percentage: null, match: null } },
    ];
    const parsed = parseRollout(document);
    expect(parsed.ok && parsed.value.canary.steps).toEqual([
      { setHeaderRoute: { name: 'h' } },
      { setMirrorRoute: { name: 'm' } },
    ]);
  });

  it('names a step route that managedRoutes does not declare', () => {
    expect(
      errorsFor((canary) => {
        canary.trafficRouting.managedRoutes = [{ name: 'a' }];
        canary.steps = [headerStep('b')];
      }),
    ).toEqual([
      "spec.strategy.canary.steps[0].setHeaderRoute.name: Steps define a route that does not exist in spec.strategy.canary.trafficRouting.managedRoutes: 'b' (declared: 'a')",
    ]);
  });

  it('requires managedRoutes when header or mirror steps exist', () => {
    expect(errorsFor((canary) => (canary.steps = [{ setMirrorRoute: { name: 'm' } }]))).toEqual([
      "spec.strategy.canary.trafficRouting.managedRoutes: Rollout has missing field 'spec.strategy.canary.trafficRouting.managedRoutes': steps[0].setMirrorRoute needs it",
    ]);
  });

  it('checks every StringMatch, regex, percentage, empty match list and unknown field', () => {
    const errors = errorsFor((canary) => {
      canary.trafficRouting.managedRoutes = [{ name: 'a' }, { name: 'm' }];
      canary.steps = [
        headerStep('a', { exact: 'x', prefix: 'y' }),
        headerStep('a', {}),
        headerStep('a', { regex: 'firefox(.*' }),
        { setMirrorRoute: { name: 'm', percentage: 150, match: [{ method: { exact: 'GET' }, paths: {} }] } },
        { setMirrorRoute: { name: 'm', match: [] } },
      ];
    });
    expect(errors).toEqual([
      'spec.strategy.canary.steps[0].setHeaderRoute.match[0].headerValue: StringMatch match value must have exactly one of the following: exact, regex, prefix, found exact, prefix',
      'spec.strategy.canary.steps[1].setHeaderRoute.match[0].headerValue: StringMatch value missed, match value must have one of the following: exact, regex, prefix',
      expect.stringMatching(
        /^spec\.strategy\.canary\.steps\[2\]\.setHeaderRoute\.match\[0\]\.headerValue\.regex: not a valid RE2 regular expression: .*missing closing \)/,
      ),
      expect.stringMatching(/^spec\.strategy\.canary\.steps\[3\]\.setMirrorRoute\.percentage: /),
      expect.stringMatching(/^spec\.strategy\.canary\.steps\[3\]\.setMirrorRoute\.match\[0\]: .*paths/),
      'spec.strategy.canary.steps[4].setMirrorRoute.match: must list at least one match; omit match to remove the route',
    ]);
  });

  it('refuses a managed route that is one of the weighted routes, and duplicates', () => {
    expect(
      errorsFor(
        (canary) =>
          (canary.trafficRouting.managedRoutes = [{ name: 'http-primary' }, { name: 'x' }, { name: 'x' }]),
      ),
    ).toEqual([
      "spec.strategy.canary.trafficRouting.managedRoutes[2].name: managed route names must be unique, 'x' is listed twice",
      "spec.strategy.canary.trafficRouting.managedRoutes[0].name: 'http-primary' is also a route the Rollout weights (istio virtualService routes); managed routes are created and removed by the Rollout and must be other routes",
    ]);
  });

  it('lets preview read an Argo setCanaryScale step but apply refuses it', () => {
    const document = structuredClone(demoRolloutDocument()) as any;
    document.spec.strategy.canary.steps = [{ setCanaryScale: { weight: 25 } }, { setWeight: 10 }];
    expect(parseTrafficSpec(document).ok).toBe(true);
    const parsed = parseRollout(document);
    expect(parsed.ok ? [] : parsed.error).toEqual([
      expect.stringContaining("steps[0].setCanaryScale: step action 'setCanaryScale' is not supported"),
    ]);
  });
});

describe('rollouts lint', () => {
  it('notes a TLS/TCP-only VirtualService that managed routes skip', () => {
    const rollout = `
apiVersion: serverless-rollouts.io/v1alpha1
kind: Rollout
metadata: {name: r, namespace: default}
spec:
  workload: {stableDeployment: s, canaryDeployment: c}
  strategy:
    canary:
      canaryService: rollouts-demo-canary
      stableService: rollouts-demo-stable
      trafficRouting:
        managedRoutes: [{name: h}]
        istio:
          virtualServices:
          - {name: http-vs, routes: [primary]}
          - {name: tcp-vs, tcpRoutes: [{port: 8020}]}
      steps:
      - setHeaderRoute: {name: h, match: [{headerName: x, headerValue: {exact: y}}]}
`;
    const services = `
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: http-vs, namespace: default}
spec:
  http:
  - name: primary
    route:
    - {destination: {host: rollouts-demo-stable}, weight: 100}
    - {destination: {host: rollouts-demo-canary}, weight: 0}
---
${TCP_ONLY}`;
    expect(lint([{ path: 'r.yaml', text: rollout }], [{ path: 'vs.yaml', text: services }])).toEqual({
      ok: true,
      lines: [
        'r.yaml: Rollout default/r: OK, 2 VirtualService(s) checked',
        'r.yaml: Rollout default/r: note: VirtualService default/tcp-vs has no HTTP route for this Rollout (TLS/TCP only): managed routes (h) are not written there',
      ],
    });
  });
});
