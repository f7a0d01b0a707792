import type { Command, RolloutStatus } from '../../core/engine/types.js';
import type { Rollout } from '../../core/model/rollout.js';
import type { Result } from '../../core/result.js';

export interface RolloutKey {
  cluster: string;
  namespace: string;
  name: string;
}

export interface StoredRollout {
  key: RolloutKey;
  rollout: Rollout;
  status: RolloutStatus;
  /** Every status write is conditional on it. */
  version: number;
  /** Bumped by every command; a pass saves only if no command arrived meanwhile. */
  commandSeq: number;
  dueAt?: number;
  /** The last pass's error; cleared by the next pass that saves. */
  lastError?: RecordedError;
  /** Failed passes in a row: the runner backs off on it. */
  failures?: number;
  updatedAt: string;
}

/** An error, recorded once however often it repeats: how often, since when, and when last. */
export interface RecordedError {
  message: string;
  count: number;
  firstAt: string;
  lastAt: string;
}

export interface StoredCommand {
  /** The command item's sort key: receipt order. */
  sortKey: string;
  command: Command;
  source: string;
  receivedAt: string;
}

export type HistoryKind = 'applied' | 'command' | 'transition' | 'error';

export interface HistoryEntry {
  at: string;
  kind: HistoryKind;
  message: string;
  revision?: number;
  phase?: string;
  stepIndex?: number;
  weight?: number;
  event?: string;
  runner?: string;
}

/** Queued, a duplicate of one already received (why), or refused (why: the Rollout is not registered). */
export type CommandResult = Result<
  { accepted: 'queued' } | { accepted: 'duplicate'; reason: string },
  string
>;
