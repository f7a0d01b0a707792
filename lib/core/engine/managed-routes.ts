/**
 * Which header and mirror routes should exist: a pure function of the steps and the current step
 * index (the last step naming a route decides), gated like weights (only while the rollout runs and
 * a canary pod with the canary image is available). Every weight write carries the answer, so each
 * pass re-asserts the routes and removes them, on abort, completion or a new image, in the same
 * write that takes traffic back: before the canary is scaled down.
 */
import type { CanaryStrategy, Rollout, TrafficStep } from '../model/rollout.js';
import { isRouteStep, routeOf, type RouteStep } from '../model/route-step-kinds.js';
import { availablePodsWithImage } from './replicas.js';
import type { Action, Observation, RolloutStatus } from './types.js';

/** The routes in place once steps[0..stepIndex) have run, in managedRoutes order. */
export function routesAfterSteps(
  canary: Pick<CanaryStrategy<TrafficStep>, 'managedRoutes' | 'steps'>,
  stepIndex: number,
): RouteStep[] {
  const last = new Map<string, RouteStep>();
  for (const step of canary.steps.slice(0, Math.max(0, stepIndex)))
    if (isRouteStep(step)) last.set(routeOf(step).name, step);
  return canary.managedRoutes.flatMap((name) => {
    const step = last.get(name);
    return step && routeOf(step).match ? [step] : [];
  });
}

/**
 * Undefined when the Rollout declares no managedRoutes (its VirtualServices' other routes are left
 * alone); otherwise the routes to keep, empty outside Progressing/Paused (promotion, abort,
 * completion) and while no canary pod with the canary image is available.
 */
export function managedRoutesFor(
  rollout: Rollout,
  status: RolloutStatus,
  observation: Observation,
): RouteStep[] | undefined {
  if (rollout.canary.managedRoutes.length === 0) return undefined;
  const running = status.phase === 'Progressing' || status.phase === 'Paused';
  if (!running || availablePodsWithImage(observation.canary, status.canaryImage) < 1) return [];
  return routesAfterSteps(rollout.canary, status.stepIndex);
}

/** Every weight write of the pass carries the routes the pass ends with. */
export function withManagedRoutes(actions: Action[], routes: RouteStep[] | undefined): Action[] {
  if (routes === undefined) return actions;
  return actions.map((action) => (action.type === 'setWeight' ? { ...action, routes } : action));
}
