/** The CLI commands that talk to the store: apply, list, get, set image, promote, abort, retry, history. */
import type { Command } from '../../core/engine/types.js';
import { checkScope } from '../../core/model/clusters.js';
import { formatRef } from '../../core/model/references.js';
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
  // Loaded here: the Rollout and template parsers bring YAML and the CEL interpreter, which list never needs.
  const [{ loadManifests }, { parseAnalysisTemplate, templateLabel }, { parseRollout }] = await Promise.all([
    import('./manifests.js'),
    import('../../core/analysis/template.js'),
    import('../../core/model/rollout.js'),
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
  const rollouts = [];
  for (const { source, document } of loaded.value.rollouts) {
    const rollout = parseRollout(document);
    const scope =
      rollout.ok && connection.registry ? checkScope(rollout.value, connection.registry) : undefined;
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
  return { ok: true, stdout: `${lines.join('\n')}\n` };
}

export async function list(connection: Connection): Promise<CommandOutput> {
  const items = await connection.store.list();
  return { ok: true, stdout: items.length ? describeList(items) : 'no rollouts\n' };
}

export async function get(connection: Connection, key: RolloutKey): Promise<CommandOutput> {
  const stored = await connection.store.get(key);
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
    const stored = await connection.store.get(key);
    if (!stored) return notFound(key);
    const text = describeRollout(stored, await liveWeights(connection, stored));
    const frame = watchFrame(previous, text, options.terminal);
    if (frame !== undefined) options.write(frame);
    previous = text;
    if (options.untilDone) {
      const finished = finishedWatch(stored, (await connection.store.pendingCommands(key, 1)).length);
      if (finished)
        return finished.code === 0
          ? { ok: true, stdout: `${finished.message}\n` }
          : { ok: false, stderr: `${finished.message}\n` };
    }
    await sleep(options.intervalMs);
  }
}

export async function history(connection: Connection, key: RolloutKey): Promise<CommandOutput> {
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
  const stored = await connection.store.get(key);
  if (!stored) return notFound(key);
  const refused = cannotTakeEffect(stored, command);
  if (refused) return { ok: false, stderr: `rollout ${formatKey(key)}: ${refused}; nothing sent\n` };
  const { checkCommand } = await import('../../core/engine/decide.js');
  const outcome = checkCommand(stored.rollout, stored.status, command);
  if (!outcome.accepted)
    return { ok: false, stderr: `rollout ${formatKey(key)}: ${outcome.message}; nothing sent\n` };
  const queued = await connection.store.enqueueCommand(key, command, source, now);
  if (!queued.ok) return { ok: false, stderr: `${queued.reason}\n` };
  await connection.nudge?.(key);
  const blocked = stored.lastError
    ? ` (queued, but the last pass failed: ${stored.lastError}; it takes effect once that is resolved)`
    : '';
  return { ok: true, stdout: `rollout ${formatKey(key)}: ${outcome.message}${blocked}\n` };
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
export function setImageCommand(stored: StoredRollout, assignment: string): Command | string {
  const match = /^([^=]+)=(\S+)$/.exec(assignment);
  if (!match) return `expected CONTAINER=IMAGE, found '${assignment}'`;
  const [, container, image] = match as unknown as [string, string, string];
  const expected = stored.rollout.workload.container;
  if (expected && container !== expected)
    return `rollout ${stored.rollout.name} updates container '${expected}', not '${container}'`;
  return { kind: 'setImage', image };
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
    const result = [];
    for (const ref of stored.rollout.canary.virtualServices) {
      const vs = await cluster.virtualServices.get(ref);
      const read = readWeights(stored.rollout, ref, vs);
      result.push({
        ref: formatRef(ref),
        routes: read.ok ? read.value : [],
        managedRoutes: readManagedRoutes(stored.rollout, vs),
      });
    }
    return result;
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
