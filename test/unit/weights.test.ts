import { describe, expect, it } from '@jest/globals';
import { applyPatch } from '../../lib/adapters/memory/json-patch.js';
import { ROUTE_MESSAGES } from '../../lib/core/istio/routes.js';
import { formatPlanError, plan, readWeights } from '../../lib/core/istio/weights.js';
import { parseTrafficSpec, type TrafficSpec } from '../../lib/core/model/rollout.js';
import type { VirtualService } from '../../lib/core/model/virtualservice.js';
import { demoRollout, demoVirtualServices, readDocuments } from './fixtures.js';

const rollout = demoRollout();

function route(...destinations: [string, number | undefined][]) {
  return destinations.map(([host, weight]) => ({
    destination: { host },
    ...(weight === undefined ? {} : { weight }),
  }));
}

function vs(name: string, spec: VirtualService['spec'], namespace = 'default'): VirtualService {
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'VirtualService',
    metadata: { name, namespace },
    spec,
  };
}

function single(ref: Partial<TrafficSpec['canary']['virtualServices'][number]> = {}): TrafficSpec {
  return {
    ...rollout,
    canary: {
      ...rollout.canary,
      virtualServices: [{ reference: 'vs', namespace: 'default', name: 'vs', ...ref }],
    },
  };
}

function errorsOf(spec: TrafficSpec, services: VirtualService[], weight = 10): string[] {
  const result = plan(spec, services, weight);
  if (result.ok) throw new Error('expected the plan to fail');
  return result.error.map(formatPlanError);
}

const STABLE = 'rollouts-demo-stable';
const CANARY = 'rollouts-demo-canary';

describe('plan on the seed', () => {
  const services = demoVirtualServices();

  it('sets 95/5 on every http, tls and tcp route of both VirtualServices, in the Rollout order', () => {
    const result = plan(rollout, [...services].reverse(), 5);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.map((p) => p.ref.name)).toEqual(['rollouts-demo-vsvc1', 'rollouts-demo-vsvc2']);
    for (const p of result.value) {
      expect(p.changed).toBe(true);
      expect(p.routes.map((r) => [r.section, r.stable, r.canary])).toEqual([
        ['http', 95, 5],
        ['tls', 95, 5],
        ['tcp', 95, 5],
      ]);
    }
  });

  it('matches the seed after the update: only the weights differ from the input', () => {
    const result = plan(rollout, services, 5);
    if (!result.ok) throw new Error('plan failed');
    const expected = readDocuments('test/fixtures/seed/expected-weight-5.yaml');
    expect(result.value.map((p) => p.result)).toEqual(expected);
  });

  it('produces a patch that turns the input into the result, guarded by test ops', () => {
    const result = plan(rollout, services, 5);
    if (!result.ok) throw new Error('plan failed');
    const [first] = result.value;
    if (!first) throw new Error('no plan');
    expect(first.patch.slice(0, 6)).toEqual([
      {
        op: 'test',
        path: '/spec/http/0/route/0/destination',
        value: { host: STABLE, port: { number: 15372 } },
      },
      { op: 'test', path: '/spec/http/0/route/0/weight', value: 100 },
      { op: 'replace', path: '/spec/http/0/route/0/weight', value: 95 },
      {
        op: 'test',
        path: '/spec/http/0/route/1/destination',
        value: { host: CANARY, port: { number: 15372 } },
      },
      { op: 'test', path: '/spec/http/0/route/1/weight', value: 0 },
      { op: 'replace', path: '/spec/http/0/route/1/weight', value: 5 },
    ]);
    expect(applyPatch(services[0] as VirtualService, first.patch)).toEqual(first.result);
  });

  it('tests the weights it read: a patch planned before another writer moved them does not apply', () => {
    const result = plan(rollout, services, 5);
    if (!result.ok) throw new Error('plan failed');
    const moved = structuredClone(services[0]) as VirtualService;
    const routes = moved.spec.http?.[0]?.route ?? [];
    (routes[0] as { weight?: number }).weight = 80;
    (routes[1] as { weight?: number }).weight = 20;
    expect(() => applyPatch(moved, result.value[0]!.patch)).toThrow(
      'test failed at /spec/http/0/route/0/weight',
    );
  });

  it('does not write when nothing changes', () => {
    const result = plan(rollout, services, 0);
    expect(result.ok && result.value.map((p) => [p.changed, p.patch])).toEqual([
      [false, []],
      [false, []],
    ]);
  });

  it('does not touch its input', () => {
    const before = structuredClone(services);
    plan(rollout, services, 50);
    expect(services).toEqual(before);
  });

  it('reports the seed inconsistency: vsvc2 lists two SNI hosts where its route has one', () => {
    const seedRollout = demoRollout((doc) =>
      doc.spec.strategy.canary.trafficRouting.istio.virtualServices[1].tlsRoutes[0].sniHosts.push(
        'localhost',
      ),
    );
    const errors = errorsOf(seedRollout, services);
    expect(errors).toEqual([
      `VirtualService default/rollouts-demo-vsvc2: ${ROUTE_MESSAGES.noTls} Wanted port 443 and sniHosts [reviews.bookinfo.com, localhost]; found [0] port 443 sniHosts [reviews.bookinfo.com].`,
    ]);
  });

  it('reads the weights back', () => {
    const result = readWeights(rollout, rollout.canary.virtualServices[0]!, services[0]!);
    expect(result.ok && result.value.map((r) => r.stable)).toEqual([100, 100, 100]);
  });
});

describe('HTTP routes', () => {
  it('reports a missing named route with the routes that exist', () => {
    const errors = errorsOf(single({ routes: ['primary', 'absent'] }), [
      vs('vs', { http: [{ name: 'primary', route: route([STABLE, 100], [CANARY, 0]) }, { route: [] }] }),
    ]);
    expect(errors).toEqual([
      `VirtualService default/vs: ${ROUTE_MESSAGES.httpNotFound('absent')} Found HTTP routes: 'primary', (unnamed).`,
    ]);
  });

  it('requires exactly one route when routes are omitted', () => {
    const errors = errorsOf(single(), [
      vs('vs', {
        http: [
          { name: 'a', route: route([STABLE, 100], [CANARY, 0]) },
          { name: 'b', route: [] },
        ],
      }),
    ]);
    expect(errors).toEqual([
      `VirtualService default/vs: ${ROUTE_MESSAGES.exactlyOne('http', 'routes')} (found 2 http routes)`,
    ]);
    expect(errors[0]).toContain(
      'spec.http[] should be set in VirtualService and it must have exactly one route when omitting spec.strategy.canary.trafficRouting.istio.virtualService.routes',
    );
  });

  it('takes the only route when routes are omitted, named or not', () => {
    const result = plan(
      single(),
      [vs('vs', { http: [{ name: 'x', route: route([STABLE, 100], [CANARY, 0]) }] })],
      30,
    );
    expect(result.ok && result.value[0]?.routes).toEqual([
      { section: 'http', index: 0, name: 'x', stable: 70, canary: 30 },
    ]);
  });

  it('checks the canary before the stable service', () => {
    const errors = errorsOf(single(), [vs('vs', { http: [{ route: route(['other', 100]) }] })]);
    expect(errors).toEqual([
      `VirtualService default/vs, http route spec.http[0]: ${ROUTE_MESSAGES.canaryMissing(CANARY)} (found destinations: other=100)`,
    ]);
    const stableMissing = errorsOf(single(), [
      vs('vs', { http: [{ name: 'p', route: route([CANARY, 0], ['other', 0]) }] }),
    ]);
    expect(stableMissing).toEqual([
      `VirtualService default/vs, http route 'p' (spec.http[0]): ${ROUTE_MESSAGES.stableMissing(STABLE)} (found destinations: rollouts-demo-canary=0, other=0)`,
    ]);
  });

  it('matches hosts by short name or FQDN in the namespace', () => {
    const result = plan(
      single(),
      [
        vs('vs', {
          http: [{ route: route([`${STABLE}.default.svc.cluster.local`, 100], [`${CANARY}.default`, 0]) }],
        }),
      ],
      20,
    );
    expect(result.ok && result.value[0]?.routes[0]).toMatchObject({ stable: 80, canary: 20 });
    const otherNamespace = errorsOf(single(), [
      vs('vs', { http: [{ route: route([`${STABLE}.prod`, 100], [`${CANARY}.prod`, 0]) }] }),
    ]);
    expect(otherNamespace[0]).toContain(ROUTE_MESSAGES.canaryMissing(CANARY));
  });

  it('adds a missing weight, counting it as 0', () => {
    const service = vs('vs', { http: [{ route: route([STABLE, undefined], [CANARY, undefined]) }] });
    const result = plan(single(), [service], 10);
    if (!result.ok) throw new Error('plan failed');
    expect(result.value[0]?.patch.filter((op) => op.op !== 'test')).toEqual([
      { op: 'add', path: '/spec/http/0/route/0/weight', value: 90 },
      { op: 'add', path: '/spec/http/0/route/1/weight', value: 10 },
    ]);
    expect(applyPatch(service, result.value[0]!.patch)).toEqual(result.value[0]!.result);
  });

  it('leaves a weight that is left out alone when the weight wanted is 0, as Argo does', () => {
    const service = vs('vs', { http: [{ route: route([STABLE, 100], [CANARY, undefined]) }] });
    const result = plan(single(), [service], 0);
    expect(result.ok && [result.value[0]?.changed, result.value[0]?.patch]).toEqual([false, []]);
    const back = plan(
      single(),
      [vs('vs', { http: [{ route: route([STABLE, undefined], [CANARY, 100]) }] })],
      100,
    );
    expect(back.ok && back.value[0]?.patch).toEqual([]);
  });

  it('leaves a zero-weight third destination alone and rejects a weighted one', () => {
    const ok = plan(
      single(),
      [vs('vs', { http: [{ route: route([STABLE, 100], ['mirror', 0], [CANARY, 0]) }] })],
      40,
    );
    expect(ok.ok && ok.value[0]?.result.spec.http?.[0]?.route?.map((d) => d.weight)).toEqual([60, 0, 40]);
    const errors = errorsOf(single(), [
      vs('vs', { http: [{ route: route([STABLE, 80], ['legacy', 20], [CANARY, 0]) }] }),
    ]);
    expect(errors[0]).toMatch(
      /http route spec\.http\[0\]: destination 'legacy' has weight 20, but only the stable service/,
    );
  });

  it('rejects a route with the canary twice', () => {
    const errors = errorsOf(single(), [
      vs('vs', { http: [{ route: route([STABLE, 100], [CANARY, 0], [CANARY, 0]) }] }),
    ]);
    expect(errors[0]).toContain('expected one destination each for the stable and canary services');
  });

  it('keeps every other field as it is', () => {
    const service = vs('vs', {
      hosts: ['a'],
      http: [
        { name: 'h', timeout: '5s', retries: { attempts: 3 }, route: route([STABLE, 100], [CANARY, 0]) },
      ],
    });
    const result = plan(single(), [service], 25);
    const expected = structuredClone(service);
    expected.spec.http![0]!.route![0]!.weight = 75;
    expected.spec.http![0]!.route![1]!.weight = 25;
    expect(result.ok && result.value[0]?.result).toEqual(expected);
  });
});

describe('TLS and TCP routes', () => {
  const tls = (
    port: number | undefined,
    hosts: string[] | undefined,
    weights: [number, number] = [100, 0],
  ) => ({
    match: [{ ...(port ? { port } : {}), ...(hosts ? { sniHosts: hosts } : {}) }],
    route: route([STABLE, weights[0]], [CANARY, weights[1]]),
  });

  it('matches the exact set of SNI hosts in any order, and every route that matches', () => {
    const service = vs('vs', { tls: [tls(443, ['b', 'a']), tls(443, ['a']), tls(443, ['a', 'b'])] });
    const result = plan(single({ tlsRoutes: [{ port: 443, sniHosts: ['a', 'b'] }] }), [service], 10);
    expect(result.ok && result.value[0]?.routes.map((r) => r.index)).toEqual([0, 2]);
  });

  it('needs the port to match, a missing port only matching routes without one', () => {
    const service = vs('vs', { tls: [tls(443, ['a']), tls(undefined, ['a'])] });
    const withoutPort = plan(single({ tlsRoutes: [{ sniHosts: ['a'] }] }), [service], 10);
    expect(withoutPort.ok && withoutPort.value[0]?.routes.map((r) => r.index)).toEqual([1]);
    const errors = errorsOf(single({ tlsRoutes: [{ port: 8443, sniHosts: ['a'] }] }), [service]);
    expect(errors[0]).toContain(ROUTE_MESSAGES.noTls);
  });

  it('never matches a route whose match blocks name two ports', () => {
    const service = vs('vs', {
      tcp: [{ match: [{ port: 1 }, { port: 2 }], route: route([STABLE, 100], [CANARY, 0]) }],
    });
    expect(errorsOf(single({ tcpRoutes: [{ port: 1 }] }), [service])[0]).toContain(ROUTE_MESSAGES.noTcp);
  });

  it('requires exactly one route per section when omitted', () => {
    const service = vs('vs', {
      tcp: [tls(1, undefined), tls(2, undefined)],
      tls: [tls(443, ['a']), tls(444, ['a'])],
    });
    expect(errorsOf(single(), [service])).toEqual([
      `VirtualService default/vs: ${ROUTE_MESSAGES.exactlyOne('tls', 'tlsRoutes')} (found 2 tls routes)`,
      `VirtualService default/vs: ${ROUTE_MESSAGES.exactlyOne('tcp', 'tcpRoutes')} (found 2 tcp routes)`,
    ]);
  });

  it('reports a missing section as no match', () => {
    expect(errorsOf(single({ tcpRoutes: [{ port: 8020 }] }), [vs('vs', { http: [] })])[0]).toContain(
      `${ROUTE_MESSAGES.noTcp} Wanted port 8020; found no routes in this section.`,
    );
  });
});

describe('plan inputs', () => {
  it('reports a VirtualService that was not given', () => {
    expect(errorsOf(single(), [vs('vs', {}, 'prod')])).toEqual([
      "VirtualService default/vs: VirtualService not found (referenced as 'vs')",
    ]);
  });
  it('takes a VirtualService without a namespace as in the Rollout namespace', () => {
    const service = vs('vs', { http: [{ route: route([STABLE, 100], [CANARY, 0]) }] });
    delete service.metadata.namespace;
    expect(plan(single(), [service], 1).ok).toBe(true);
  });
  it.each([[-1], [101], [2.5]])('rejects weight %p', (weight) => {
    expect(errorsOf(single(), [], weight)[0]).toContain('canary weight must be a whole number from 0 to 100');
  });
  it('reports every VirtualService problem at once', () => {
    const spec: TrafficSpec = {
      ...rollout,
      canary: {
        ...rollout.canary,
        virtualServices: [
          { reference: 'a', namespace: 'default', name: 'a', routes: ['x'] },
          { reference: 'b', namespace: 'default', name: 'b' },
        ],
      },
    };
    expect(errorsOf(spec, [vs('a', { http: [] })])).toHaveLength(2);
  });
});

describe('plan on manifests', () => {
  const planned = (document: unknown, weight: number) => {
    const spec = parseTrafficSpec(document);
    if (!spec.ok) throw new Error(spec.error.join('; '));
    return plan(spec.value, demoVirtualServices(), weight);
  };

  it('plans a Rollout manifest once parsed, ours or Argo’s', () => {
    expect(planned(readDocuments('examples/istio-demo/rollout.yaml')[0], 5)).toEqual(
      plan(rollout, demoVirtualServices(), 5),
    );
    const argo = planned(readDocuments('test/fixtures/seed/rollout.yaml')[0], 5);
    expect(argo.ok).toBe(false);
    expect(!argo.ok && formatPlanError(argo.error[0]!)).toContain(
      'No matching TLS routes found in the defined Virtual Service.',
    );
  });

  it('has an invalid manifest reported by the parser, before anything is planned', () => {
    const spec = parseTrafficSpec({
      apiVersion: 'serverless-rollouts.io/v1alpha1',
      kind: 'Rollout',
      metadata: { name: 'x' },
      spec: {},
    });
    expect(spec).toEqual({ ok: false, error: ['spec.strategy: is required'] });
  });
});
