/**
 * A reference RFC 6902 applier for the ops the planners emit (test, add, replace, remove): the
 * in-memory traffic router applies patches with it, and tests check that a patch turns the input
 * into the planned result. It throws on a failed test where the API server answers 422.
 */
import { isDeepStrictEqual } from 'node:util';
import type { JsonPatchOperation } from '../../core/istio/weights.js';

export function applyPatch<T>(document: T, patch: JsonPatchOperation[]): T {
  const result = structuredClone(document) as unknown;
  for (const operation of patch) {
    const segments = operation.path.split('/').slice(1);
    const last = segments.pop() as string;
    type Node = Record<string, unknown> | undefined;
    const parent = segments.reduce<Node>((node, segment) => node?.[segment] as Node, result as Node);
    if (parent === undefined) throw new Error(`path not found: ${operation.path}`);
    if (operation.op === 'test') {
      if (!isDeepStrictEqual(parent[last], operation.value))
        throw new Error(`test failed at ${operation.path}`);
    } else if (operation.op === 'replace') {
      if (!(last in parent)) throw new Error(`replace of a missing member at ${operation.path}`);
      parent[last] = operation.value;
    } else if (operation.op === 'remove') {
      if (!(last in parent)) throw new Error(`remove of a missing member at ${operation.path}`);
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(index) || index > parent.length)
        throw new Error(`add out of range at ${operation.path}`);
      parent.splice(index, 0, operation.value);
    } else {
      parent[last] = operation.value;
    }
  }
  return result as T;
}
