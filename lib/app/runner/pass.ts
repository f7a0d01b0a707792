/** A runner pass: every due Rollout, a few at a time; one Rollout's failure never stops the others. */
import { processRollout, type Outcome } from './process-rollout.js';
import { processFleet } from './process-fleet.js';
import { FLEET_CLUSTER } from '../../core/model/fleet.js';
import { formatKey, type RolloutKey, type RunnerDeps } from './ports.js';

export interface PassReport {
  due: number;
  outcomes: Outcome[];
}

export async function runPass(
  deps: RunnerDeps,
  options: { concurrency?: number; only?: RolloutKey[] } = {},
): Promise<PassReport> {
  const keys = uniqueKeys(options.only ?? (await deps.store.due(deps.clock())));
  const outcomes: Outcome[] = [];
  const queue = [...keys];
  const worker = async () => {
    for (let key = queue.shift(); key; key = queue.shift()) {
      try {
        outcomes.push(
          await (key.cluster === FLEET_CLUSTER ? processFleet(deps, key) : processRollout(deps, key)),
        );
      } catch (error) {
        const message = (error as Error).message;
        deps.logger?.error('rollout pass failed before it could record why', {
          rollout: formatKey(key),
          error: message,
        });
        outcomes.push({ key, result: 'error', message, retryAt: deps.clock() });
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency ?? 4, Math.max(1, keys.length)) }, worker),
  );
  return { due: keys.length, outcomes };
}

/** A batch that names a Rollout twice (two wake-ups, a wake-up and a command) runs it once. */
function uniqueKeys(keys: RolloutKey[]): RolloutKey[] {
  const seen = new Set<string>();
  return keys.filter((key) => {
    const id = formatKey(key);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
