/**
 * The shapes of Argo Rollouts' managed-route steps and how to tell them apart: what the engine and
 * the CLI's views need, without the schemas route-steps.ts parses them with.
 */
/** Exactly one of the three is set. */
export interface StringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}
export interface HeaderRoutingMatch {
  headerName: string;
  headerValue: StringMatch;
}
export interface RouteMatch {
  method?: StringMatch;
  path?: StringMatch;
  headers?: Record<string, StringMatch>;
}
export interface SetHeaderRoute {
  name: string;
  /** Several entries are OR; absent: the step removes the route. */
  match?: HeaderRoutingMatch[];
}
export interface SetMirrorRoute {
  name: string;
  /** Share of matching requests mirrored; Argo's default is 100. */
  percentage?: number;
  /** Several entries are OR, the fields of one entry AND; absent: the step removes the route. */
  match?: RouteMatch[];
}
export type RouteStep = { setHeaderRoute: SetHeaderRoute } | { setMirrorRoute: SetMirrorRoute };

export function isRouteStep(step: object): step is RouteStep {
  return 'setHeaderRoute' in step || 'setMirrorRoute' in step;
}

/** The route a step names, and whether the step creates it (with match) or removes it (without). */
export function routeOf(step: RouteStep): SetHeaderRoute | SetMirrorRoute {
  return 'setHeaderRoute' in step ? step.setHeaderRoute : step.setMirrorRoute;
}
