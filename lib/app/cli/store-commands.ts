/** The CLI commands that talk to the store: apply, list, get, set image, promote, abort, retry, history. */
import type { Command } from '../../core/engine/types.js';
import { err, ok, type Result } from '../../core/result.js';
import { formatRef } from '../../core/model/references.js';
import type { Rollout } from '../../core/model/rollout.js';
import { parseImageReference } from '../../core/model/images.js';
import type { Fleet } from '../../core/model/fleet.js';
import type { FleetCommand } from '../../core/fleet/types.js';
import { FleetStore } from '../../adapters/dynamodb/fleets.js';
import type { StoredFleet } from '../runner/ports.js';
import { describeFleet, describeFleetList } from './describe-fleet.js';
import { formatKey, keyOf } from '../../adapters/dynamodb/repository.js';
import type { RolloutKey, StoredRollout } from '../../adapters/dynamodb/types.js';
import type { Connection } from './connection.js';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  describeHistory,
  describeList,
  describeRollout,
  finishedWatch,
  watchFrame,
  type LiveWeights,
} from './describe.js';
import type { SourceFile } from './manifests.js';

export type CommandOutput = { ok: true; stdout: string } | { ok: false; stderr: string };

export async function applyFiles(
  connection: Connection,
  files: SourceFile[],
  now: number,
): Promise<CommandOutput> {
  // Loaded here: the parsers bring zod's schemas, YAML and the CEL interpreter, which list never needs.
  const [
    { loadManifests },
    { parseAnalysisTemplate, templateLabel },
    { parseRollout },
    { checkFleetScope, isFleetDocument, parseFleet },
    { checkScope },
  ] = await Promise.all([
    import('./manifests.js'),
    import('../../core/analysis/template.js'),
    import('../../core/model/rollout.js'),
    import('../../core/model/fleet-spec.js'),
    import('../../core/model/clusters.js'),
  ]);
  const loaded = loadManifests(files, [], { templates: true });
  if (!loaded.ok) return { ok: false, stderr: `${loaded.error.join('\n')}\nnothing applied\n` };
  const errors: string[] = [];
  const templates = [];
  for (const { source, document } of loaded.value.analysisTemplates) {
    const template = parseAnalysisTemplate(document);
    if (!template.ok) errors.push(...template.error.map((error) => `${source}: ${error}`));
    else templates.push({ template: template.value, document });
  }
  const registry = await connection.registry?.();
  const rollouts = [];
  const fleets: Fleet[] = [];
  for (const { source, document } of loaded.value.rollouts) {
    if (isFleetDocument(document)) {
      const fleet = parseFleet(document);
      const scope = fleet.ok && registry ? checkFleetScope(fleet.value, registry) : undefined;
      if (!fleet.ok) errors.push(...fleet.error.map((error) => `${source}: ${error}`));
      else if (scope && !scope.ok) errors.push(...scope.error.map((error) => `${source}: ${error}`));
      else fleets.push(fleet.value);
      continue;
    }
    const rollout = parseRollout(document);
    const scope = rollout.ok && registry ? checkScope(rollout.value, registry) : undefined;
    if (!rollout.ok) errors.push(...rollout.error.map((error) => `${source}: ${error}`));
    else if (scope && !scope.ok) errors.push(...scope.error.map((error) => `${source}: ${error}`));
    else rollouts.push(rollout.value);
  }
  if (errors.length) return { ok: false, stderr: `${errors.join('\n')}\nnothing applied\n` };
  const lines = [];
  // Templates first: a Rollout applied with them finds them on the pass its apply triggers.
  for (const { template, document } of templates) {
    await connection.store.applyTemplate(template, document, now);
    lines.push(`${templateLabel(template)} configured`);
  }
  for (const rollout of rollouts) {
    const { created } = await connection.store.apply(rollout, now);
    // Applying makes it due: the runner checks it against its cluster now, not at the first push.
    await connection.nudge?.(keyOf(rollout));
    lines.push(
      `rollout ${rollout.namespace}/${rollout.name} (cluster ${rollout.cluster}) ${created ? 'created' : 'configured'}`,
    );
  }
  for (const fleet of fleets) {
    const { created } = await new FleetStore(connection.store).apply(fleet, now);
    for (const cluster of fleet.clusters)
      await connection.nudge?.({ cluster, namespace: fleet.namespace, name: fleet.name });
    lines.push(
      `fleet ${fleet.namespace}/${fleet.name} (clusters ${fleet.clusters.join(', ')}; waves ${fleet.waves.map((wave) => wave.name).join(', ')}) ${created ? 'created' : 'configured'}`,
    );
  }
  return { ok: true, stdout: `${lines.join('\n')}\n` };
}

/**
 * Every Rollout and fleet record; `rollouts` leaves out the fleets' members (each fleet stands
 * for its own), `all` has them too.
 */
export async function listRecords(
  connection: Connection,
): Promise<{ rollouts: StoredRollout[]; fleets: StoredFleet[]; all: StoredRollout[] }> {
  const [all, fleets] = await Promise.all([connection.store.list(), new FleetStore(connection.store).list()]);
  const member = new Set(
    fleets.flatMap(({ fleet }) =>
      fleet.clusters.map((cluster) => `${cluster}/${fleet.namespace}/${fleet.name}`),
    ),
  );
  return { rollouts: all.filter((item) => !member.has(formatKey(item.key))), fleets, all };
}

/** Rollouts one per line, except fleet members: each fleet is one line of its own. */
export async function list(connection: Connection): Promise<CommandOutput> {
  const { rollouts, fleets } = await listRecords(connection);
  const parts = [
    ...(rollouts.length ? [describeList(rollouts)] : []),
    ...(fleets.length ? [describeFleetList(fleets)] : []),
  ];
  return { ok: true, stdout: parts.length ? parts.join('\n') : 'no rollouts\n' };
}

export async function get(connection: Connection, key: RolloutKey): Promise<CommandOutput> {
  const [fleet, stored] = await Promise.all([
    new FleetStore(connection.store).get(key),
    connection.store.get(key),
  ]);
  if (fleet) return { ok: true, stdout: await getFleet(connection, fleet) };
  if (!stored) return notFound(key);
  return { ok: true, stdout: describeRollout(stored, await liveWeights(connection, stored)) };
}

export interface WatchOptions {
  /** Return once the rollout is Healthy (ok) or Degraded/InvalidSpec (not ok). */
  untilDone: boolean;
  terminal: boolean;
  write: (text: string) => void;
  intervalMs: number;
}

/** `get --watch`: the `get` view, redrawn whenever it changes; with `untilDone`, until the rollout settles. */
export async function watch(
  connection: Connection,
  key: RolloutKey,
  options: WatchOptions,
): Promise<CommandOutput> {
  let previous: string | undefined;
  for (;;) {
    const view = await watchView(connection, key);
    if (!view) return notFound(key);
    const frame = watchFrame(previous, view.text, options.terminal);
    if (frame !== undefined) options.write(frame);
    previous = view.text;
    if (options.untilDone) {
      const finished = finishedWatch(
        view.settled,
        (await connection.store.pendingCommands(view.settled.key, 1)).length,
      );
      if (finished)
        return finished.code === 0
          ? { ok: true, stdout: `${finished.message}\n` }
          : { ok: false, stderr: `${finished.message}\n` };
    }
    await sleep(options.intervalMs);
  }
}

/** What `get --watch` shows of a fleet (by namespace and name) or a Rollout, and what says it is done. */
async function watchView(
  connection: Connection,
  key: RolloutKey,
): Promise<{ text: string; settled: Parameters<typeof finishedWatch>[0] } | undefined> {
  const fleet = await findFleet(connection, key);
  if (fleet) {
    const { phase, image, message } = fleet.status;
    const status = { phase, ...(image ? { stableImage: image } : {}), ...(message ? { message } : {}) };
    return { text: await getFleet(connection, fleet), settled: { key: fleet.key, status } };
  }
  const stored = await connection.store.get(key);
  if (!stored) return undefined;
  return { text: describeRollout(stored, await liveWeights(connection, stored)), settled: stored };
}

export async function history(connection: Connection, key: RolloutKey): Promise<CommandOutput> {
  const fleets = new FleetStore(connection.store);
  if (await fleets.get(key)) return { ok: true, stdout: describeHistory(await fleets.history(key)) };
  const stored = await connection.store.get(key);
  if (!stored) return notFound(key);
  return { ok: true, stdout: describeHistory(await connection.store.history(key)) };
}

export async function sendCommand(
  connection: Connection,
  key: RolloutKey,
  command: Command,
  now: number,
  source = 'cli',
): Promise<CommandOutput> {
  // The engine loads while the store answers.
  const [stored, { checkCommand }] = await Promise.all([
    connection.store.get(key),
    import('../../core/engine/decide.js'),
  ]);
  if (!stored) return notFound(key);
  const refused = cannotTakeEffect(stored, command);
  if (refused) return { ok: false, stderr: `rollout ${formatKey(key)}: ${refused}; nothing sent\n` };
  const outcome = checkCommand(stored.rollout, stored.status, command);
  if (!outcome.accepted)
    return { ok: false, stderr: `rollout ${formatKey(key)}: ${outcome.message}; nothing sent\n` };
  const queued = await connection.store.enqueueCommand(key, command, source, now);
  if (!queued.ok) return { ok: false, stderr: `${queued.error}\n` };
  await connection.nudge?.(key);
  const blocked = stored.lastError
    ? ` (queued, but the last pass failed: ${stored.lastError}; it takes effect once that is resolved)`
    : '';
  return { ok: true, stdout: `rollout ${formatKey(key)}: ${outcome.message}${blocked}\n` };
}

export async function findFleet(
  connection: Connection,
  key: { namespace: string; name: string },
): Promise<StoredFleet | undefined> {
  return new FleetStore(connection.store).get(key);
}

/**
 * promote, abort, retry and set image for a fleet: promote with `cluster` promotes that member
 * only, with `wave` it ends the current wave's bake.
 */
export async function sendToFleet(
  connection: Connection,
  fleet: StoredFleet,
  command: Command | { kind: 'setImageAssignment'; assignment: string },
  options: { cluster?: string; wave?: boolean; now: number },
): Promise<CommandOutput> {
  const fleetCommand = toFleetCommand(fleet.fleet, command, options.cluster, options.wave);
  if (!fleetCommand.ok) return { ok: false, stderr: `${fleetCommand.error}\n` };
  return sendFleetCommand(
    connection,
    new FleetStore(connection.store),
    fleet,
    fleetCommand.value,
    options.now,
  );
}

function toFleetCommand(
  fleet: Fleet,
  command: Command | { kind: 'setImageAssignment'; assignment: string },
  cluster: string | undefined,
  wave: boolean | undefined,
): Result<FleetCommand> {
  if (wave) return command.kind === 'promote' ? ok({ kind: 'promoteWave' }) : err('--wave goes with promote');
  switch (command.kind) {
    case 'promote':
    case 'promoteFull':
      return ok({
        kind: 'promote',
        ...(command.kind === 'promoteFull' ? { full: true } : {}),
        ...(cluster ? { cluster } : {}),
      });
    case 'setImageAssignment':
      return setImageCommand({ rollout: fleet.template }, command.assignment);
    default:
      return ok(command as FleetCommand);
  }
}

/** Checked against the fleet and its members as stored now, so the CLI says at once what would be refused. */
async function sendFleetCommand(
  connection: Connection,
  fleets: FleetStore,
  stored: StoredFleet,
  command: FleetCommand,
  now: number,
): Promise<CommandOutput> {
  const name = `fleet ${stored.fleet.namespace}/${stored.fleet.name}`;
  const [members, { decideFleet }, { describeFleetCommand }] = await Promise.all([
    fleets.members(stored.fleet),
    import('../../core/fleet/decide.js'),
    import('../runner/process-fleet.js'),
  ]);
  const outcome = decideFleet(stored.fleet, stored.status, members, command, now).command;
  if (outcome && !outcome.accepted)
    return { ok: false, stderr: `${name}: ${outcome.message}; nothing sent\n` };
  const queued = await fleets.enqueueFleetCommand(stored.key, command, 'cli', now);
  if (!queued.ok) return { ok: false, stderr: `${queued.error}\n` };
  await connection.nudge?.(stored.key);
  return { ok: true, stdout: `${name}: ${outcome?.message ?? describeFleetCommand(command)}\n` };
}

/** `get` of a fleet: the members as stored and each one's VirtualServices as they are on its cluster. */
async function getFleet(connection: Connection, stored: StoredFleet): Promise<string> {
  const members = await new FleetStore(connection.store).memberRecords(stored.fleet);
  const live = Object.fromEntries(
    await Promise.all(
      Object.entries(members).map(async ([cluster, member]) => [
        cluster,
        member ? await liveWeights(connection, member) : undefined,
      ]),
    ),
  );
  return describeFleet(stored, members, live);
}

/**
 * A new image for a Rollout the runner found invalid would only wait in the queue: the user is
 * told why instead of being told it is rolling out. (A push still queues: it arrives only once.)
 */
function cannotTakeEffect(stored: StoredRollout, command: Command): string | undefined {
  if (command.kind !== 'setImage' || stored.status.phase !== 'InvalidSpec') return undefined;
  return `it is InvalidSpec (${stored.status.message ?? 'no message'}), so ${command.image} cannot roll out: fix the Rollout or what it references and apply it again`;
}

/** `set image NAME CONTAINER=IMAGE`: the container must be the one the Rollout updates. */
export function setImageCommand(
  { rollout }: { rollout: Pick<Rollout, 'name' | 'workload'> },
  assignment: string,
): Result<{ kind: 'setImage'; image: string }> {
  const match = /^([^=]+)=(\S+)$/.exec(assignment);
  if (!match) return err(`expected CONTAINER=IMAGE, found '${assignment}'`);
  const [, container, image] = match as unknown as [string, string, string];
  const expected = rollout.workload.container;
  if (expected && container !== expected)
    return err(`rollout ${rollout.name} updates container '${expected}', not '${container}'`);
  const reference = parseImageReference(image);
  if (!reference.ok) return err(`image: ${reference.error}`);
  return ok({ kind: 'setImage', image });
}

/** The VirtualServices' weights as they are on the cluster now (`get` and the dashboard). */
export async function liveWeights(connection: Connection, stored: StoredRollout): Promise<LiveWeights> {
  if (!connection.clusters) return { unavailable: 'no cluster access from this CLI' };
  const [{ readWeights }, { readManagedRoutes }] = await Promise.all([
    import('../../core/istio/weights.js'),
    import('../../core/istio/managed-routes.js'),
  ]);
  try {
    const cluster = await connection.clusters.get(stored.rollout.cluster);
    return await Promise.all(
      stored.rollout.canary.virtualServices.map(async (ref) => {
        const vs = await cluster.virtualServices.get(ref);
        const read = readWeights(stored.rollout, ref, vs);
        return {
          ref: formatRef(ref),
          routes: read.ok ? read.value : [],
          managedRoutes: readManagedRoutes(stored.rollout, vs),
        };
      }),
    );
  } catch (error) {
    return { unavailable: `cannot read the VirtualServices: ${(error as Error).message}` };
  }
}

function notFound(key: RolloutKey): CommandOutput {
  return {
    ok: false,
    stderr: `rollout ${formatKey(key)} not found (rollouts list shows what is registered)\n`,
  };
}
