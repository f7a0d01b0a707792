/**
 * Argo Rollouts' managed-route steps, field for field: `setHeaderRoute` sends requests whose headers
 * match to the canary, `setMirrorRoute` copies matching requests to it. Without `match` either step
 * removes its route. Parsing checks every field and reports each problem with its path.
 */
import { RE2JS } from 're2js';
import { z } from 'zod';

/** Argo's wording. */
export const ROUTE_STEP_MESSAGES = {
  multipleValues: 'StringMatch match value must have exactly one of the following: exact, regex, prefix',
  missingValue: 'StringMatch value missed, match value must have one of the following: exact, regex, prefix',
  notInManagedRoutes:
    'Steps define a route that does not exist in spec.strategy.canary.trafficRouting.managedRoutes',
  managedRoutesMissing: "Rollout has missing field 'spec.strategy.canary.trafficRouting.managedRoutes'",
} as const;

export {
  isRouteStep,
  routeOf,
  type HeaderRoutingMatch,
  type RouteMatch,
  type RouteStep,
  type SetHeaderRoute,
  type SetMirrorRoute,
  type StringMatch,
} from './route-step-kinds.js';
import type { RouteStep } from './route-step-kinds.js';

const stringMatchSchema = z
  .strictObject({ exact: z.string().optional(), prefix: z.string().optional(), regex: z.string().optional() })
  .superRefine((match, ctx) => {
    const set = (['exact', 'prefix', 'regex'] as const).filter((key) => match[key]);
    if (set.length === 0) ctx.addIssue({ code: 'custom', message: ROUTE_STEP_MESSAGES.missingValue });
    if (set.length > 1)
      ctx.addIssue({
        code: 'custom',
        message: `${ROUTE_STEP_MESSAGES.multipleValues}, found ${set.join(', ')}`,
      });
    if (match.regex) {
      try {
        // Envoy evaluates Istio's regex matches with RE2: reject what it would reject.
        RE2JS.compile(match.regex);
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          path: ['regex'],
          message: `not a valid RE2 regular expression: ${(error as Error).message}`,
        });
      }
    }
  });

const routeName = z.string().trim().min(1, 'must not be empty');
/** As in Kubernetes, a field set to null is a field left out (`match:` with nothing removes the route). */
const nullAsAbsent = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === null ? undefined : value), schema);
const matchList = <T extends z.ZodType>(entry: T) =>
  nullAsAbsent(
    z.array(entry).min(1, 'must list at least one match; omit match to remove the route').optional(),
  );

export const setHeaderRouteSchema = z.strictObject({
  name: routeName,
  match: matchList(
    z.strictObject({
      headerName: z.string().trim().min(1, 'must not be empty'),
      headerValue: stringMatchSchema,
    }),
  ),
});

export const setMirrorRouteSchema = z.strictObject({
  name: routeName,
  percentage: nullAsAbsent(z.number().int().min(0).max(100).optional()),
  match: matchList(
    z.strictObject({
      method: stringMatchSchema.optional(),
      path: stringMatchSchema.optional(),
      headers: z.record(z.string().min(1), stringMatchSchema).optional(),
    }),
  ),
});

export const managedRoutesSchema = z.array(z.strictObject({ name: routeName })).superRefine((routes, ctx) => {
  const seen = new Set<string>();
  routes.forEach((route, index) => {
    if (seen.has(route.name))
      ctx.addIssue({
        code: 'custom',
        path: [index, 'name'],
        message: `managed route names must be unique, '${route.name}' is listed twice`,
      });
    seen.add(route.name);
  });
});

/** The normalised step: only the fields that are set, so equal specs give equal values. */
export function normaliseRouteStep(step: Record<string, unknown>): RouteStep {
  if ('setHeaderRoute' in step) {
    const value = setHeaderRouteSchema.parse(step.setHeaderRoute);
    return { setHeaderRoute: { name: value.name, ...(value.match ? { match: value.match } : {}) } };
  }
  const value = setMirrorRouteSchema.parse(step.setMirrorRoute);
  return {
    setMirrorRoute: {
      name: value.name,
      ...(value.percentage === undefined ? {} : { percentage: value.percentage }),
      ...(value.match ? { match: value.match } : {}),
    },
  };
}
