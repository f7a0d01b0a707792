/** Builders for the unit tests: the seed's Rollout and VirtualServices as parsed values. */
import { readFileSync } from 'node:fs';
import { parseRollout, type Rollout } from '../../lib/core/model/rollout.js';
import { isVirtualService, type VirtualService } from '../../lib/core/model/virtualservice.js';
import { parseYamlDocuments } from '../../lib/core/model/yaml.js';

export function readDocuments(path: string): unknown[] {
  const parsed = parseYamlDocuments(readFileSync(path, 'utf8'), path);
  if (!parsed.ok) throw new Error(parsed.error.join('\n'));
  return parsed.value;
}

export function demoRolloutDocument(): Record<string, unknown> {
  return readDocuments('examples/istio-demo/rollout.yaml')[0] as Record<string, unknown>;
}

export function demoRollout(changes: (doc: any) => void = () => {}): Rollout {
  const doc = structuredClone(demoRolloutDocument());
  changes(doc);
  const parsed = parseRollout(doc);
  if (!parsed.ok) throw new Error(parsed.error.join('\n'));
  return parsed.value;
}

export function demoVirtualServices(): VirtualService[] {
  return readDocuments('examples/istio-demo/virtualservices.yaml').filter(isVirtualService);
}
