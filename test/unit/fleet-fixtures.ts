/** Fleet documents for the unit tests: the demo Rollout with spec.clusters (and waves) instead of spec.cluster. */
import { demoRolloutDocument } from './fixtures.js';

export function fleetDocument(spec: Record<string, unknown>): Record<string, unknown> {
  const doc = structuredClone(demoRolloutDocument()) as any;
  delete doc.spec.cluster;
  Object.assign(doc.spec, spec);
  return doc;
}
