/**
 * A Rollout's status before any step: its own module, so the store (and a CLI command that only
 * reads it) needs none of the engine, whose analysis brings the CEL interpreter.
 */
import type { RolloutStatus } from './types.js';

export function initialStatus(stableImage?: string): RolloutStatus {
  return { phase: 'Healthy', revision: 1, stepIndex: 0, weight: 0, ...(stableImage ? { stableImage } : {}) };
}
