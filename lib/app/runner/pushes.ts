/** An image push becomes a setImage command on every Rollout it matches, once per digest or delivery. */
import type { ImagePushed } from '../../core/model/images.js';
import { keyOf, formatKey, type RolloutStore } from '../../adapters/dynamodb/repository.js';
import type { RolloutKey } from '../../adapters/dynamodb/types.js';
import { matchPush, noMatchMessage } from '../../core/triggers/match.js';

export interface PushResult {
  rollout: string;
  image: string;
  result: 'queued' | 'duplicate' | 'failed';
  reason?: string;
}

export interface PushesAccepted {
  message: string;
  results: PushResult[];
}

export async function acceptPushes(
  store: RolloutStore,
  pushes: ImagePushed[],
  options: { deliveryId?: string; source: string; now: number; nudge?: (key: RolloutKey) => Promise<void> },
): Promise<PushesAccepted> {
  const results: PushResult[] = [];
  const unmatched: string[] = [];
  for (const push of pushes) {
    const candidates = await store.findByRepository(`${push.registry}/${push.repository}`);
    const matches = matchPush(
      push,
      candidates.map((stored) => stored.rollout),
      options.deliveryId,
    );
    if (matches.length === 0) unmatched.push(noMatchMessage(push));
    for (const match of matches) {
      const key = keyOf(match.rollout);
      const queued = await store.enqueueCommand(
        key,
        match.command,
        options.source,
        options.now,
        match.dedupeKey,
      );
      const image = match.command.kind === 'setImage' ? match.command.image : '';
      if (!queued.ok)
        results.push({ rollout: formatKey(key), image, result: 'failed', reason: queued.reason });
      else if (queued.accepted === 'duplicate')
        results.push({ rollout: formatKey(key), image, result: 'duplicate', reason: queued.reason });
      else {
        results.push({ rollout: formatKey(key), image, result: 'queued' });
        await options.nudge?.(key);
      }
    }
  }
  const queued = results.filter((r) => r.result === 'queued').length;
  const message =
    results.length === 0
      ? unmatched.join('; ')
      : `${queued} canary start(s) queued, ${results.length - queued} duplicate or failed`;
  return { message, results };
}
