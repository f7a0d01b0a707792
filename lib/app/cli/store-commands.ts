/** The CLI commands that talk to the store: apply, list, get, set image, promote, abort, retry, history. */
import { checkCommand } from '../../core/engine/decide.js';
import type { Command } from '../../core/engine/types.js';
import { readWeights } from '../../core/istio/weights.js';
import { checkScope } from '../../core/model/clusters.js';
import { formatRef } from '../../core/model/references.js';
import { parseRollout } from '../../core/model/rollout.js';
import { formatKey } from '../../adapters/dynamodb/repository.js';
import type { RolloutKey, StoredRollout } from '../../adapters/dynamodb/types.js';
import type { Connection } from './connection.js';
import { describeHistory, describeList, describeRollout, type LiveWeights } from './describe.js';
import { loadManifests, type SourceFile } from './manifests.js';

export type CommandOutput = { ok: true; stdout: string } | { ok: false; stderr: string };

export async function applyFiles(
  connection: Connection,
  files: SourceFile[],
  now: number,
): Promise<CommandOutput> {
  const loaded = loadManifests(files, []);
  if (!loaded.ok) return { ok: false, stderr: `${loaded.errors.join('\n')}\nnothing applied\n` };
  const errors: string[] = [];
  const rollouts = [];
  for (const { source, document } of loaded.rollouts) {
    const rollout = parseRollout(document);
    const scope =
      rollout.ok && connection.registry ? checkScope(rollout.value, connection.registry) : undefined;
    if (!rollout.ok) errors.push(...rollout.errors.map((error) => `${source}: ${error}`));
    else if (scope && !scope.ok) errors.push(...scope.error.map((error) => `${source}: ${error}`));
    else rollouts.push(rollout.value);
  }
  if (errors.length) return { ok: false, stderr: `${errors.join('\n')}\nnothing applied\n` };
  const lines = [];
  for (const rollout of rollouts) {
    const { created } = await connection.store.apply(rollout, now);
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
  const outcome = checkCommand(stored.rollout, stored.status, command);
  if (!outcome.accepted)
    return { ok: false, stderr: `rollout ${formatKey(key)}: ${outcome.message}; nothing sent\n` };
  const queued = await connection.store.enqueueCommand(key, command, source, now);
  if (!queued.ok) return { ok: false, stderr: `${queued.reason}\n` };
  await connection.nudge?.(key);
  return { ok: true, stdout: `rollout ${formatKey(key)}: ${outcome.message}\n` };
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

async function liveWeights(connection: Connection, stored: StoredRollout): Promise<LiveWeights> {
  if (!connection.clusters) return { unavailable: 'no cluster access from this CLI' };
  try {
    const cluster = await connection.clusters.get(stored.rollout.cluster);
    const result = [];
    for (const ref of stored.rollout.canary.virtualServices) {
      const read = readWeights(stored.rollout, ref, await cluster.virtualServices.get(ref));
      result.push({ ref: formatRef(ref), routes: read.ok ? read.routes : [] });
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
