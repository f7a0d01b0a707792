/**
 * The fleet engine: one pure function from (fleet, status, members' statuses, command, now) to the
 * next status, the commands for members' queues, and the fleet's events. Wave k+1 opens only once
 * every member of wave k is Healthy on the image and the wave's bake has passed; a member that
 * aborts, or an abort of the fleet, aborts every member in flight and opens no further wave.
 * Members act only through their own command queues, so the member engine stays the one place
 * where traffic moves.
 */
import type { Command, CommandOutcome, RolloutStatus } from '../engine/types.js';
import type { Fleet, Wave } from '../model/fleet.js';
import type {
  FleetCommand,
  FleetDecision,
  FleetEvent,
  FleetOptions,
  FleetStatus,
  MemberCommand,
  MemberProgress,
  MemberStatuses,
} from './types.js';

export const DEFAULT_FLEET_OPTIONS: FleetOptions = { pollSeconds: 10 };
const ACTIVE = new Set(['Progressing', 'Paused', 'Promoting']);

export function initialFleetStatus(): FleetStatus {
  return { phase: 'Healthy', revision: 0, attempt: 0, wave: 0, promotions: 0, members: {} };
}

/** Where a member stands against the fleet's image. */
export type MemberState = 'idle' | 'pending' | 'inFlight' | 'complete' | 'failed' | 'reverting' | 'reverted';

export function memberState(
  image: string | undefined,
  progress: MemberProgress | undefined,
  member: RolloutStatus | undefined,
): MemberState {
  if (progress?.revertIssued)
    return member?.phase === 'Healthy' && member.stableImage === progress.previousImage
      ? 'reverted'
      : 'reverting';
  if (member?.phase === 'Healthy' && image !== undefined && member.stableImage === image) return 'complete';
  if (progress?.startedAttempt === undefined) return 'idle';
  if (!member) return 'pending';
  if (
    member.phase === 'Degraded' &&
    member.canaryImage === image &&
    member.abortedAt !== undefined &&
    member.abortedAt !== progress.staleAbortAt
  )
    return 'failed';
  return ACTIVE.has(member.phase) && member.canaryImage === image ? 'inFlight' : 'pending';
}

class FleetPass {
  readonly commands: MemberCommand[] = [];
  readonly events: FleetEvent[] = [];
  wakeAt: number | null = null;
  constructor(
    readonly fleet: Fleet,
    public status: FleetStatus,
    readonly members: MemberStatuses,
    readonly now: number,
    readonly options: FleetOptions,
  ) {}

  state(cluster: string): MemberState {
    return memberState(this.status.image, this.status.members[cluster], this.members[cluster]);
  }
  progress(cluster: string): MemberProgress {
    return this.status.members[cluster] ?? {};
  }
  setProgress(cluster: string, changes: MemberProgress): void {
    this.status = {
      ...this.status,
      members: { ...this.status.members, [cluster]: { ...this.progress(cluster), ...changes } },
    };
  }
  update(changes: Partial<FleetStatus>, remove: (keyof FleetStatus)[] = []): void {
    const next = { ...this.status, ...changes };
    for (const key of remove) delete next[key];
    this.status = next;
  }
  issue(cluster: string, command: Command, what: string): void {
    const { namespace, name } = this.fleet;
    const { revision, attempt } = this.status;
    this.commands.push({
      cluster,
      command,
      dedupeKey: `fleet/${namespace}/${name}/r${revision}/a${attempt}/${what}`,
    });
  }
  emit(type: FleetEvent['type'], extra: Partial<FleetEvent> = {}): void {
    const { revision, image } = this.status;
    this.events.push({ type, revision, ...(image ? { image } : {}), ...extra });
  }
  wake(at: number): void {
    this.wakeAt = this.wakeAt === null ? at : Math.min(this.wakeAt, at);
  }
  poll(): void {
    this.wake(this.now + this.options.pollSeconds * 1000);
  }
  get currentWave(): Wave | undefined {
    return this.fleet.waves[this.status.wave];
  }
  /** Members told to start in this revision that are not settled yet. */
  unsettled(): string[] {
    return this.fleet.clusters.filter((cluster) => {
      const state = this.state(cluster);
      return state === 'pending' || state === 'inFlight' || state === 'reverting';
    });
  }
}

export function decideFleet(
  fleet: Fleet,
  status: FleetStatus | undefined,
  members: MemberStatuses,
  command: FleetCommand | null,
  now: number,
  options: FleetOptions = DEFAULT_FLEET_OPTIONS,
): FleetDecision {
  const pass = new FleetPass(fleet, status ?? initialFleetStatus(), members, now, options);
  const outcome = command ? applyCommand(pass, command) : undefined;
  advance(pass);
  return {
    status: pass.status,
    commands: pass.commands,
    events: pass.events,
    wakeAt: pass.wakeAt,
    ...(outcome ? { command: outcome } : {}),
  };
}

function applyCommand(pass: FleetPass, command: FleetCommand): CommandOutcome {
  const { status, fleet } = pass;
  const progressing = status.phase === 'Progressing';
  switch (command.kind) {
    case 'setImage': {
      if (command.image === status.image) {
        if (progressing)
          return {
            accepted: false,
            message: `${command.image} is already being rolled out (revision ${status.revision})`,
          };
        if (status.phase === 'Degraded')
          return {
            accepted: false,
            message: `revision ${status.revision} with ${command.image} was aborted; use retry to roll it out again`,
          };
        return { accepted: false, message: `${command.image} is already the fleet's image` };
      }
      const replaced = progressing ? restart(pass) : [];
      pass.update(
        {
          phase: 'Progressing',
          revision: status.revision + 1,
          attempt: 0,
          image: command.image,
          wave: 0,
          members: {},
          message: `rolling out ${command.image} (revision ${status.revision + 1})`,
        },
        ['waveOpened', 'waveCompletedAt', 'bakeUntil', 'abortedAt'],
      );
      const note = replaced.length
        ? `; aborted in-flight members of later waves: ${replaced.join(', ')}`
        : '';
      return {
        accepted: true,
        message: `rolling out ${command.image} as revision ${status.revision + 1}${note}`,
      };
    }
    case 'promote': {
      if (!progressing)
        return { accepted: false, message: `nothing to promote: the fleet is ${status.phase}` };
      if (command.cluster !== undefined && !fleet.clusters.includes(command.cluster))
        return {
          accepted: false,
          message: `cluster '${command.cluster}' is not in the fleet (${fleet.clusters.join(', ')})`,
        };
      const targets = fleet.clusters.filter(
        (cluster) =>
          (command.cluster === undefined || cluster === command.cluster) &&
          pass.state(cluster) === 'inFlight',
      );
      if (targets.length === 0)
        return {
          accepted: false,
          message: `no member ${command.cluster ? `on ${command.cluster} ` : ''}is in flight${baking(pass)}`,
        };
      const kind = command.full ? 'promoteFull' : 'promote';
      for (const cluster of targets) pass.issue(cluster, { kind }, `${kind}${status.promotions}`);
      pass.update({ promotions: status.promotions + 1 });
      return {
        accepted: true,
        message: `${command.full ? 'fully promoted' : 'promoted'} ${targets.join(', ')}`,
      };
    }
    case 'promoteWave': {
      const wave = pass.currentWave;
      if (!progressing || !status.bakeUntil || !wave || pass.now >= Date.parse(status.bakeUntil))
        return { accepted: false, message: `no wave is baking: the fleet is ${status.phase}` };
      pass.update({ bakeUntil: iso(pass.now), message: `bake of wave ${wave.name} ended by promote --wave` });
      return { accepted: true, message: `ended the bake of wave ${wave.name}` };
    }
    case 'abort': {
      if (!progressing) return { accepted: false, message: `nothing to abort: the fleet is ${status.phase}` };
      abortFleet(pass, 'aborted by command');
      return { accepted: true, message: `fleet aborted revision ${status.revision}` };
    }
    case 'retry': {
      if (status.phase !== 'Degraded')
        return { accepted: false, message: `nothing to retry: the fleet is ${status.phase}, not aborted` };
      if (pass.unsettled().length)
        return {
          accepted: false,
          message: `members are still aborting (${pass.unsettled().join(', ')}); retry once they settle`,
        };
      const wave = fleet.waves.findIndex((candidate) =>
        candidate.clusters.some((cluster) => pass.state(cluster) !== 'complete'),
      );
      const members = Object.fromEntries(
        fleet.clusters
          .filter((cluster) => pass.state(cluster) === 'complete')
          .map((cluster) => [cluster, pass.progress(cluster)]),
      );
      pass.update(
        {
          phase: 'Progressing',
          attempt: status.attempt + 1,
          wave: wave === -1 ? fleet.waves.length : wave,
          members,
          message: `retrying revision ${status.revision} from wave ${fleet.waves[wave]?.name ?? '(none left)'}`,
        },
        ['waveOpened', 'waveCompletedAt', 'bakeUntil', 'abortedAt'],
      );
      return { accepted: true, message: pass.status.message as string };
    }
  }
}

/** A new image mid-rollout: members of later waves in flight go back to stable; wave 0 restarts. */
function restart(pass: FleetPass): string[] {
  const first = new Set(pass.fleet.waves[0]?.clusters ?? []);
  const aborted = pass.unsettled().filter((cluster) => !first.has(cluster));
  for (const cluster of aborted) pass.issue(cluster, { kind: 'abort' }, 'abort');
  return aborted;
}

function abortFleet(pass: FleetPass, reason: string): void {
  const message = `Fleet aborted revision ${pass.status.revision}: ${reason}`;
  pass.update({ phase: 'Degraded', abortedAt: iso(pass.now), message }, ['bakeUntil', 'waveCompletedAt']);
  pass.emit('Fleet Aborted', { message, ...(pass.currentWave ? { wave: pass.currentWave.name } : {}) });
}

function advance(pass: FleetPass): void {
  if (pass.status.phase === 'Progressing') {
    const failed = pass.fleet.clusters.filter((cluster) => pass.state(cluster) === 'failed');
    if (failed.length)
      abortFleet(
        pass,
        failed
          .map(
            (cluster) => `member on ${cluster} aborted (${pass.members[cluster]?.message ?? 'no message'})`,
          )
          .join('; '),
      );
    else return openWaves(pass);
  }
  if (pass.status.phase === 'Degraded') holdAborted(pass);
}

function openWaves(pass: FleetPass): void {
  for (let wave = pass.currentWave; wave; wave = pass.currentWave) {
    if (!pass.status.waveOpened) {
      pass.update({ waveOpened: true, message: `wave ${wave.name} rolling out ${pass.status.image}` });
      pass.emit('Wave Started', { wave: wave.name, clusters: wave.clusters });
    }
    startMembers(pass, wave);
    if (!wave.clusters.every((cluster) => pass.state(cluster) === 'complete')) return pass.poll();
    if (!pass.status.waveCompletedAt) {
      const bakeUntil = pass.now + wave.bakeSeconds * 1000;
      pass.update({
        waveCompletedAt: iso(pass.now),
        bakeUntil: iso(bakeUntil),
        message: wave.bakeSeconds
          ? `wave ${wave.name} complete, baking until ${iso(bakeUntil)}`
          : `wave ${wave.name} complete`,
      });
      pass.emit('Wave Completed', { wave: wave.name, clusters: wave.clusters });
    }
    const bakeUntil = Date.parse(pass.status.bakeUntil as string);
    if (pass.now < bakeUntil) return pass.wake(bakeUntil);
    pass.update({ wave: pass.status.wave + 1 }, ['waveOpened', 'waveCompletedAt', 'bakeUntil']);
  }
  pass.update({ phase: 'Healthy', message: `${pass.status.image} is stable on every cluster` });
}

/** Starts the wave's members in order while fewer than maxParallel are rolling out. */
function startMembers(pass: FleetPass, wave: Wave): void {
  const { image, attempt } = pass.status;
  let running = wave.clusters.filter((cluster) => {
    const state = pass.state(cluster);
    return state === 'pending' || state === 'inFlight';
  }).length;
  for (const cluster of wave.clusters) {
    if (running >= wave.maxParallel) return;
    if (pass.state(cluster) !== 'idle') continue;
    const member = pass.members[cluster];
    const retried = member?.phase === 'Degraded' && member.canaryImage === image;
    pass.issue(cluster, retried ? { kind: 'retry' } : { kind: 'setImage', image: image as string }, 'start');
    pass.setProgress(cluster, {
      startedAttempt: attempt,
      ...(member?.stableImage ? { previousImage: member.stableImage } : {}),
      ...(member?.abortedAt ? { staleAbortAt: member.abortedAt } : {}),
    });
    running++;
  }
}

/** Aborted: every member in flight is aborted once; with Revert, completed members get their old image back. */
function holdAborted(pass: FleetPass): void {
  const revert = pass.fleet.onAbort.completedClusters === 'Revert';
  for (const cluster of pass.fleet.clusters) {
    const state = pass.state(cluster);
    const progress = pass.progress(cluster);
    if ((state === 'pending' || state === 'inFlight') && !progress.abortIssued) {
      pass.issue(cluster, { kind: 'abort' }, 'abort');
      pass.setProgress(cluster, { abortIssued: true });
    }
    const previous = progress.previousImage;
    if (
      revert &&
      state === 'complete' &&
      previous &&
      previous !== pass.status.image &&
      !progress.revertIssued
    ) {
      // The old image goes back through the member's own engine, skipping the canary steps.
      pass.issue(cluster, { kind: 'setImage', image: previous }, 'revert');
      pass.issue(cluster, { kind: 'promoteFull' }, 'revert-promote');
      pass.setProgress(cluster, { revertIssued: true });
    }
  }
  if (pass.unsettled().length) pass.poll();
}

function baking(pass: FleetPass): string {
  const { bakeUntil } = pass.status;
  const wave = pass.currentWave;
  return bakeUntil && wave && pass.now < Date.parse(bakeUntil)
    ? ` (wave ${wave.name} is baking until ${bakeUntil}; promote --wave ends the bake)`
    : '';
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
