/** Which Rollouts a push starts, and the command for each, pinned by digest where known. */
import type { Command } from '../engine/types.js';
import type { Rollout } from '../model/rollout.js';
import { canonicalRepository, imageFor, type ImagePushed } from '../model/images.js';
import { compileTagPattern } from '../model/tag-pattern.js';

export interface PushMatch {
  rollout: Rollout;
  command: Command;
  /** Any one of these seen before for the same Rollout makes the push a duplicate. */
  dedupeKeys: string[];
}

export interface Matched {
  matches: PushMatch[];
  /** Rollouts of the repository whose tagPattern cannot be used (stored before it was checked). */
  unusable: string[];
}

/**
 * `deliveryKeys` identify the delivery (a hash of the signed bytes, a delivery id); the digest
 * identifies the image, so the same image pushed again under another tag starts no second canary.
 */
export function matchPush(push: ImagePushed, rollouts: Rollout[], deliveryKeys: string[]): Matched {
  const matches: PushMatch[] = [];
  const unusable: string[] = [];
  for (const rollout of rollouts) {
    if (!rollout.trigger) continue;
    const wanted = canonicalRepository(rollout.trigger.repository);
    if (wanted.registry !== push.registry || wanted.repository !== push.repository) continue;
    if (rollout.trigger.tagPattern !== undefined) {
      const pattern = compileTagPattern(rollout.trigger.tagPattern);
      if (!pattern.ok) {
        unusable.push(`${rollout.namespace}/${rollout.name}: tagPattern ${pattern.error}`);
        continue;
      }
      if (push.tag === undefined || !pattern.value(push.tag)) continue;
    }
    const dedupeKeys = [...(push.digest ? [`digest:${push.digest}`] : []), ...deliveryKeys];
    matches.push({
      rollout,
      command: { kind: 'setImage', image: imageFor(push) },
      dedupeKeys: dedupeKeys.length ? dedupeKeys : [`tag:${push.tag}`],
    });
  }
  return { matches, unusable };
}

export function noMatchMessage(push: ImagePushed): string {
  return `no rollout matches ${push.registry}/${push.repository}`;
}
