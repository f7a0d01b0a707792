/** A runner pass: every due Rollout, a few at a time; one Rollout's failure never stops the others. */
import type { RolloutKey } from '../../adapters/dynamodb/types.js';
import { processRollout, type Outcome, type RunnerDeps } from './process-rollout.js';

export interface PassReport {
  due: number;
  outcomes: Outcome[];
}

export async function runPass(
  deps: RunnerDeps,
  options: { concurrency?: number; only?: RolloutKey[] } = {},
): Promise<PassReport> {
  const keys = options.only ?? (await deps.store.due(deps.clock()));
  const outcomes: Outcome[] = [];
  const queue = [...keys];
  const worker = async () => {
    for (let key = queue.shift(); key; key = queue.shift()) {
      try {
        outcomes.push(await processRollout(deps, key));
      } catch (error) {
        outcomes.push({ key, result: 'error', message: (error as Error).message });
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency ?? 4, Math.max(1, keys.length)) }, worker),
  );
  return { due: keys.length, outcomes };
}
