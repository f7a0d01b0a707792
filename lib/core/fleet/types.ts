/** The fleet engine's vocabulary: the status kept per fleet, its commands, and what it asks of members. */
import type { Command, CommandOutcome, RolloutStatus } from '../engine/types.js';

export type FleetPhase = 'Healthy' | 'Progressing' | 'Degraded';

/** What the fleet has asked of one member in this revision; each flag is set when the command is issued. */
export interface MemberProgress {
  /** The attempt (0, then one more per retry) in which the member was told to start. */
  startedAttempt?: number;
  /** The member's stable image when it was told to start: what Revert puts back. */
  previousImage?: string;
  /** The member's abortedAt when it was started: an abort from before does not count as a failure. */
  staleAbortAt?: string;
  abortIssued?: boolean;
  revertIssued?: boolean;
}

export interface FleetStatus {
  phase: FleetPhase;
  /** 0 until the first image; each new image is the next revision. */
  revision: number;
  /** 0 for the first try of a revision, one more per retry: member commands are keyed by it. */
  attempt: number;
  /** The image the fleet rolls out (or last rolled out). */
  image?: string;
  /** Index of the wave in flight (waves.length once all are done). */
  wave: number;
  waveOpened?: boolean;
  /** Set once every member of the wave is Healthy on the image; the next wave opens at bakeUntil. */
  waveCompletedAt?: string;
  bakeUntil?: string;
  /** How many promote commands the fleet has passed on: numbers each one's member commands. */
  promotions: number;
  abortedAt?: string;
  message?: string;
  members: Record<string, MemberProgress>;
}

export type FleetCommand =
  | { kind: 'setImage'; image: string }
  /** Every in-flight member one step (`full`: to the end), or only `cluster`'s. */
  | { kind: 'promote'; full?: boolean; cluster?: string }
  /** Ends the current wave's bake. */
  | { kind: 'promoteWave' }
  | { kind: 'abort' }
  | { kind: 'retry' };

/** A command for one member's queue; `dedupeKey` makes a repeated fleet pass queue it once only. */
export interface MemberCommand {
  cluster: string;
  command: Command;
  dedupeKey: string;
}

export type FleetEventType = 'Wave Started' | 'Wave Completed' | 'Fleet Aborted';

export interface FleetEvent {
  type: FleetEventType;
  revision: number;
  image?: string;
  wave?: string;
  clusters?: string[];
  message?: string;
}

/** Each member's stored status, by cluster (absent: the member is not registered yet). */
export type MemberStatuses = Readonly<Record<string, RolloutStatus | undefined>>;

export interface FleetDecision {
  status: FleetStatus;
  /** In order; each to be queued once (by its dedupe key) before the status is saved. */
  commands: MemberCommand[];
  events: FleetEvent[];
  /** Epoch ms of the next instant the fleet needs a pass, or null when nothing is pending. */
  wakeAt: number | null;
  command?: CommandOutcome;
}

export interface FleetOptions {
  /** How often to look at the members while any is in flight. */
  pollSeconds: number;
}
