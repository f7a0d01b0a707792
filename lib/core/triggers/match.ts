/** Which Rollouts a push starts, and the command for each, pinned by digest where known. */
import type { Command } from '../engine/types.js';
import type { Rollout } from '../model/rollout.js';
import { canonicalRepository, imageFor, type ImagePushed } from '../model/images.js';

export interface PushMatch {
  rollout: Rollout;
  command: Command;
  /** The same key twice for the same Rollout starts one canary. */
  dedupeKey: string;
}

export function matchPush(push: ImagePushed, rollouts: Rollout[], deliveryId?: string): PushMatch[] {
  const matches: PushMatch[] = [];
  for (const rollout of rollouts) {
    if (!rollout.trigger) continue;
    const wanted = canonicalRepository(rollout.trigger.repository);
    if (wanted.registry !== push.registry || wanted.repository !== push.repository) continue;
    if (
      rollout.trigger.tagPattern !== undefined &&
      !(push.tag !== undefined && new RegExp(rollout.trigger.tagPattern).test(push.tag))
    )
      continue;
    const dedupeKey = push.digest
      ? `digest:${push.digest}`
      : deliveryId
        ? `delivery:${deliveryId}`
        : `tag:${push.tag}`;
    matches.push({ rollout, command: { kind: 'setImage', image: imageFor(push) }, dedupeKey });
  }
  return matches;
}

export function noMatchMessage(push: ImagePushed): string {
  return `no rollout matches ${push.registry}/${push.repository}`;
}
