/**
 * An EventBridge event for the ECR push function, as a pure decision: a successful push of this
 * account's and region's registry is pushed; anything else is dropped with the reason (EventBridge
 * has no one to answer, so the reason is for the log).
 */
import type { ImagePushed } from '../model/images.js';
import { bindPushes, type Bindings } from './bindings.js';
import { parseEcr } from './payloads.js';

export type EcrDecision =
  | { kind: 'drop'; reason: string }
  | { kind: 'ignore'; reason: string }
  | { kind: 'push'; pushes: ImagePushed[]; deliveryKeys: string[] };

/** EventBridge's event id: the same event delivered again (a retry) is a duplicate. */
const EVENT_ID = /^[A-Za-z0-9-]{1,64}$/;

export function decideEcr(event: unknown, ecr: NonNullable<Bindings['ecr']>): EcrDecision {
  const parsed = parseEcr(event);
  if (!parsed.ok) return { kind: 'drop', reason: parsed.error };
  if (parsed.value.pushes.length === 0)
    return { kind: 'ignore', reason: parsed.value.ignored ?? 'no image pushed' };
  const { claimed, refused } = bindPushes('ecr', parsed.value.pushes, { harborHosts: [], ecr });
  if (claimed.length === 0) return { kind: 'drop', reason: refused.join('; ') };
  const id = (event as { id?: unknown }).id;
  return {
    kind: 'push',
    pushes: claimed,
    deliveryKeys: typeof id === 'string' && EVENT_ID.test(id) ? [`ecr:${id}`] : [],
  };
}
