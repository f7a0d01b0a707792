/**
 * Managed-route properties over random step sequences, drift and rollout histories: the routes
 * that should exist exist exactly once, on top, in managedRoutes order; nothing else named in
 * managedRoutes survives a pass; and none outlives an abort or a completion.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decide, initialStatus } from '../../lib/core/engine/decide.js';
import { routesAfterSteps } from '../../lib/core/engine/managed-routes.js';
import { availablePodsWithImage } from '../../lib/core/engine/replicas.js';
import type { Command } from '../../lib/core/engine/types.js';
import { readManagedRoutes, renderRoute, weightedHttpRoute } from '../../lib/core/istio/managed-routes.js';
import { planTraffic } from '../../lib/core/istio/traffic.js';
import { parseRollout, type Rollout } from '../../lib/core/model/rollout.js';
import { routeOf, type RouteStep } from '../../lib/core/model/route-steps.js';
import type { Route, VirtualService } from '../../lib/core/model/virtualservice.js';
import { ModelCluster } from './engine-model.js';
import { demoRolloutDocument, demoVirtualServices } from './fixtures.js';
import { applyPatch } from '../../lib/adapters/memory/json-patch.js';

const NAMES = ['a', 'b', 'c', 'd'];

const routeStep = fc.oneof(
  fc
    .record({
      name: fc.constantFrom(...NAMES),
      value: fc.option(fc.constantFrom('firefox', 'chrome'), { nil: undefined }),
    })
    .map(({ name, value }) => ({
      setHeaderRoute: {
        name,
        ...(value ? { match: [{ headerName: 'agent', headerValue: { exact: value } }] } : {}),
      },
    })),
  fc
    .record({
      name: fc.constantFrom(...NAMES),
      percentage: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
      method: fc.option(fc.constantFrom('GET', 'POST'), { nil: undefined }),
    })
    .map(({ name, percentage, method }) => ({
      setMirrorRoute: {
        name,
        ...(percentage === undefined ? {} : { percentage }),
        ...(method ? { match: [{ method: { exact: method } }] } : {}),
      },
    })),
);
const steps = fc.array(
  fc.oneof(
    routeStep,
    routeStep,
    fc.integer({ min: 0, max: 100 }).map((setWeight) => ({ setWeight })),
    fc.constantFrom({ pause: {} }, { pause: { duration: 30 } }),
  ),
  { maxLength: 8 },
);
const managed = fc.shuffledSubarray(NAMES, { minLength: 1 });

function rolloutWith(managedRoutes: string[], rolloutSteps: unknown[]): Rollout {
  const document = structuredClone(demoRolloutDocument()) as any;
  document.spec.strategy.canary.trafficRouting.managedRoutes = managedRoutes.map((name) => ({ name }));
  // Steps naming a route that is not declared are spec errors: keep only declared ones.
  document.spec.strategy.canary.steps = rolloutSteps.filter(
    (step: any) =>
      !('setHeaderRoute' in step || 'setMirrorRoute' in step) || managedRoutes.includes(routeOf(step).name),
  );
  document.spec.strategy.canary.abortScaleDownDelaySeconds = 10;
  document.spec.progressDeadlineSeconds = 300;
  const parsed = parseRollout(document);
  if (!parsed.ok) throw new Error(parsed.error.join('\n'));
  return parsed.value;
}

/** Drift someone else may cause between passes: stray, duplicated, moved or deleted routes. */
type Drift =
  | { kind: 'insert'; name: string; at: number }
  | { kind: 'duplicate'; at: number }
  | { kind: 'delete'; at: number }
  | { kind: 'move'; at: number; to: number };
const drift: fc.Arbitrary<Drift> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), name: fc.constantFrom(...NAMES), at: fc.nat(6) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(6) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(6) }),
  fc.record({ kind: fc.constant('move' as const), at: fc.nat(6), to: fc.nat(6) }),
);

function applyDrift(vs: VirtualService, change: Drift, weightedName: string): VirtualService {
  const next = structuredClone(vs);
  const http = next.spec.http!;
  const clamp = (index: number) => Math.min(index, http.length);
  if (change.kind === 'insert')
    http.splice(clamp(change.at), 0, {
      name: change.name,
      route: [{ destination: { host: 'rollouts-demo-canary' }, weight: 100 }],
    });
  const route = http[change.at % http.length];
  // The weighted route itself is the user's: drift never deletes or duplicates it.
  if (route?.name === weightedName) return next;
  if (change.kind === 'duplicate' && route) http.splice(change.at % http.length, 0, structuredClone(route));
  if (change.kind === 'delete' && route) http.splice(change.at % http.length, 1);
  if (change.kind === 'move' && route) {
    http.splice(change.at % http.length, 1);
    http.splice(clamp(change.to), 0, route);
  }
  return next;
}

/** The invariant after a pass: exactly the desired routes, once each, on top, in managedRoutes order, as their steps render them. */
function expectExactly(rollout: Rollout, index: number, vs: VirtualService, desired: RouteStep[]): void {
  const ref = rollout.canary.virtualServices[index]!;
  const inPlace = readManagedRoutes(rollout, vs);
  expect(inPlace.map((route) => route.name)).toEqual(desired.map((step) => routeOf(step).name));
  expect(inPlace.map((route) => route.index)).toEqual(desired.map((_, index) => index));
  const weighted = weightedHttpRoute(rollout, ref, vs) as Route;
  const normal = (route: Route) => ({
    ...route,
    route: (route.route ?? []).map((d) => ({ ...d, weight: d.weight ?? 0 })),
  });
  desired.forEach((step, position) => {
    expect(normal(vs.spec.http![position]!)).toEqual(normal(renderRoute(rollout, step, weighted)));
  });
}

describe('managed-routes planner properties', () => {
  it('after any steps and any drift, one pass leaves exactly the routes the steps ask for, and a second pass writes nothing', () => {
    fc.assert(
      fc.property(
        managed,
        steps,
        fc.array(fc.array(drift, { maxLength: 3 }), { maxLength: 9 }),
        (names, s, drifts) => {
          const rollout = rolloutWith(names, s);
          const ref = rollout.canary.virtualServices[0]!;
          let vs = demoVirtualServices()[0]!;
          let weight = 0;
          for (let index = 0; index <= rollout.canary.steps.length; index++) {
            const step = rollout.canary.steps[index - 1];
            if (step && 'setWeight' in step) weight = step.setWeight;
            for (const change of drifts[index] ?? []) vs = applyDrift(vs, change, 'http-primary');
            const desired = routesAfterSteps(rollout.canary, index);
            const planned = planTraffic(rollout, ref, vs, weight, desired);
            if (!planned.ok) throw new Error(JSON.stringify(planned.error));
            expect(applyPatch(vs, planned.value.patch)).toEqual(planned.value.result);
            vs = planned.value.result;
            expectExactly(rollout, 0, vs, desired);
            const again = planTraffic(rollout, ref, vs, weight, desired);
            expect(again.ok && again.value.patch).toEqual([]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

type Event =
  | { kind: 'command'; command: Command }
  | { kind: 'time'; seconds: number }
  | { kind: 'settle' }
  | { kind: 'losePods' };
const event: fc.Arbitrary<Event> = fc.oneof(
  fc
    .constantFrom<Command>(
      { kind: 'setImage', image: 'app:v2' },
      { kind: 'setImage', image: 'app:v3' },
      { kind: 'promote' },
      { kind: 'promoteFull' },
      { kind: 'abort' },
      { kind: 'retry' },
    )
    .map((command) => ({ kind: 'command', command }) as Event),
  fc.integer({ min: 0, max: 400 }).map((seconds) => ({ kind: 'time', seconds }) as Event),
  fc.constant<Event>({ kind: 'settle' }),
  fc.constant<Event>({ kind: 'settle' }),
  fc.constant<Event>({ kind: 'losePods' }),
);

describe('managed routes through whole rollouts (engine, planner, model cluster)', () => {
  it('are never in place when the rollout is aborted, promoting or complete, nor without an available canary pod, nor when the canary scales to zero', () => {
    fc.assert(
      fc.property(managed, steps, fc.array(event, { maxLength: 40 }), (names, s, events) => {
        const rollout = rolloutWith(names, s);
        const cluster = new ModelCluster('app:v1', 2);
        cluster.autoSettle = false;
        let services = demoVirtualServices();
        let status = initialStatus('app:v1');
        let now = 0;
        const managedInPlace = () => services.some((vs) => readManagedRoutes(rollout, vs).length > 0);
        for (const e of events) {
          if (e.kind === 'time') now += e.seconds * 1000;
          if (e.kind === 'settle') cluster.settle();
          if (e.kind === 'losePods') cluster.canary = { ...cluster.canary, availableReplicas: 0 };
          const observation = cluster.observe();
          const decision = decide(rollout, status, observation, e.kind === 'command' ? e.command : null, now);
          for (const action of decision.actions) {
            if (action.type === 'setWeight') {
              services = rollout.canary.virtualServices.map((ref, index) => {
                const planned = planTraffic(rollout, ref, services[index], action.weight, action.routes);
                if (!planned.ok) throw new Error(JSON.stringify(planned.error));
                return applyPatch(services[index]!, planned.value.patch);
              });
            }
            if (action.type === 'scaleCanary' && action.replicas === 0) expect(managedInPlace()).toBe(false);
            cluster.apply([action]);
          }
          status = decision.status;
          if (!['Progressing', 'Paused'].includes(status.phase)) expect(managedInPlace()).toBe(false);
          if (availablePodsWithImage(observation.canary, status.canaryImage) < 1)
            expect(managedInPlace()).toBe(false);
          if (managedInPlace())
            services.forEach((vs, index) =>
              expectExactly(rollout, index, vs, routesAfterSteps(rollout.canary, status.stepIndex)),
            );
        }
      }),
      { numRuns: 300 },
    );
  });
});
