/** An image push becomes a setImage command on every Rollout it matches, once per delivery and digest. */
import type { ImagePushed } from '../../core/model/images.js';
import type { Command } from '../../core/engine/types.js';
import { keyOf, formatKey } from '../../adapters/dynamodb/repository.js';
import type { CommandResult, RolloutKey, StoredRollout } from '../../adapters/dynamodb/types.js';
import { matchPush, noMatchMessage } from '../../core/triggers/match.js';
import { FLEET_CLUSTER, type Fleet } from '../../core/model/fleet.js';
import type { Rollout } from '../../core/model/rollout.js';

/**
 * What a push is matched against: a Rollout, or for a fleet record (members have no trigger) the
 * fleet's Rollout under the fleet's key, so a push starts the fleet, never a member on its own.
 */
function triggeredRollout(stored: StoredRollout): Rollout {
  if (stored.key.cluster !== FLEET_CLUSTER) return stored.rollout;
  const fleet = stored.rollout as unknown as Fleet;
  return { ...fleet.template, cluster: FLEET_CLUSTER, ...(fleet.trigger ? { trigger: fleet.trigger } : {}) };
}

/** What accepting a push needs of the store. */
export interface PushStore {
  findByRepository(repository: string): Promise<StoredRollout[]>;
  enqueueCommand(
    key: RolloutKey,
    command: Command,
    source: string,
    now: number,
    dedupeKeys?: readonly string[],
  ): Promise<CommandResult>;
}

/** Tells the runner a command is waiting (it would otherwise find it within a minute). */
export type Nudge = (key: RolloutKey) => Promise<void>;

export interface PushResult {
  rollout: string;
  image: string;
  result: 'queued' | 'duplicate' | 'failed';
  reason?: string;
}

export interface PushesAccepted {
  message: string;
  results: PushResult[];
  /** What did not stop the push but an operator should see (a nudge that failed, an unusable Rollout). */
  warnings?: string[];
}

export async function acceptPushes(
  store: PushStore,
  pushes: ImagePushed[],
  options: { deliveryKeys: string[]; source: string; now: number; nudge?: Nudge },
): Promise<PushesAccepted> {
  const results: PushResult[] = [];
  const unmatched: string[] = [];
  const warnings: string[] = [];
  for (const push of pushes) {
    const candidates = await store.findByRepository(`${push.registry}/${push.repository}`);
    const { matches, unusable } = matchPush(push, candidates.map(triggeredRollout), options.deliveryKeys);
    warnings.push(...unusable);
    if (matches.length === 0) unmatched.push(noMatchMessage(push));
    for (const match of matches) {
      const key = keyOf(match.rollout);
      const queued = await store.enqueueCommand(
        key,
        match.command,
        options.source,
        options.now,
        match.dedupeKeys,
      );
      const image = match.command.kind === 'setImage' ? match.command.image : '';
      if (!queued.ok)
        results.push({ rollout: formatKey(key), image, result: 'failed', reason: queued.error });
      else if (queued.value.accepted === 'duplicate')
        results.push({ rollout: formatKey(key), image, result: 'duplicate', reason: queued.value.reason });
      else {
        results.push({ rollout: formatKey(key), image, result: 'queued' });
        await options
          .nudge?.(key)
          .catch((error: unknown) =>
            warnings.push(
              `${formatKey(key)}: queued, but the runner was not nudged (${(error as Error).message}); the schedule takes it within a minute`,
            ),
          );
      }
    }
  }
  const queued = results.filter((r) => r.result === 'queued').length;
  const message =
    results.length === 0
      ? unmatched.join('; ')
      : `${queued} canary start(s) queued, ${results.length - queued} duplicate or failed`;
  return { message, results, ...(warnings.length ? { warnings } : {}) };
}
