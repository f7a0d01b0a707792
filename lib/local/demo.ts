/**
 * `rollouts demo` (npm run demo): the seed's scenario, unattended. Pushes argoproj/rollouts-demo:yellow
 * through the signed generic webhook, prints every route's weights at each step, promotes at the
 * `pause: {}` as the guide does, and checks each state the guide shows. Exit 1 if one is not reached.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { signGeneric } from '../core/triggers/signatures.js';
import { readWeights, type RouteWeights } from '../core/istio/weights.js';
import type { RolloutKey, StoredRollout } from '../adapters/dynamodb/types.js';
import { startLocalMode, type LocalMode } from './mode.js';

const KEY: RolloutKey = { cluster: 'default', namespace: 'default', name: 'rollouts-demo' };
const IMAGE = 'argoproj/rollouts-demo:yellow';
const TIMEOUT_MS = 180_000;

export async function runDemo(_args: string[]): Promise<number> {
  const local = await startLocalMode({ progress: (message) => console.log(`… ${message}`) });
  try {
    return await walk(local);
  } finally {
    await local.stop();
  }
}

async function walk(local: LocalMode): Promise<number> {
  const body = JSON.stringify({ image: IMAGE });
  const response = await fetch(`${local.webhookUrl}/generic`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...signGeneric(local.secrets.generic, Buffer.from(body), Date.now() / 1000),
    },
    body,
  });
  console.log(
    `\npushed ${IMAGE} through the generic webhook: HTTP ${response.status} ${await response.text()}\n`,
  );
  if (response.status !== 202) return fail('the webhook did not accept the push');

  const expected = ['95/5', 'paused', '50/50', '100/0 Healthy'];
  const reached: string[] = [];
  let last = '';
  let promoted = false;
  const deadline = Date.now() + TIMEOUT_MS;
  while (Date.now() < deadline) {
    const stored = await local.store.get(KEY);
    if (!stored) return fail('the demo Rollout is not registered');
    const live = await readLiveWeights(local, stored);
    const weights = typeof live === 'string' ? live : formatWeights(live);
    const line = typeof live === 'string' ? live : progressLine(stored, live);
    if (line !== undefined && line !== last) {
      console.log(line);
      last = line;
    }
    const { status } = stored;
    note(reached, '95/5', status.weight === 5 && weights.includes('95/5'));
    note(reached, 'paused', status.phase === 'Paused' && status.weight === 5);
    note(reached, '50/50', status.weight === 50 && weights.includes('50/50'));
    if (status.phase === 'Paused' && status.pauseUntil === undefined && !promoted) {
      console.log('\n$ rollouts promote rollouts-demo   (the guide promotes at pause: {})\n');
      await local.store.enqueueCommand(KEY, { kind: 'promote' }, 'demo', Date.now());
      void local.nudge(KEY);
      promoted = true;
    }
    if (status.phase === 'Healthy' && status.stableImage === IMAGE) {
      note(reached, '100/0 Healthy', !weights.match(/\b(?!100\/0)\d+\/\d+/));
      break;
    }
    if (status.phase === 'Degraded' || status.phase === 'InvalidSpec')
      return fail(`the rollout went ${status.phase}: ${status.message}`);
    await sleep(250);
  }
  const missing = expected.filter((state) => !reached.includes(state));
  if (missing.length) return fail(`states not reached: ${missing.join(', ')}`);
  console.log(`\ndemo complete: ${IMAGE} is stable, both VirtualServices back to 100/0, canary scaled to 0`);
  return 0;
}

function note(reached: string[], state: string, condition: boolean) {
  if (condition && !reached.includes(state)) reached.push(state);
}

export interface LiveWeights {
  name: string;
  routes: RouteWeights[];
}

/**
 * The phase and step beside the weights that go with them, or undefined while the VirtualServices
 * and the saved status disagree: the runner patches the weights before it saves the step, so for a
 * moment the cluster is a step ahead of the table, and such a pair is not printed.
 */
export function progressLine(stored: StoredRollout, live: LiveWeights[]): string | undefined {
  const { status, rollout } = stored;
  if (live.some((vs) => vs.routes.some((route) => route.canary !== status.weight))) return undefined;
  const steps = rollout.canary.steps.length;
  return `${status.phase.padEnd(11)} step ${Math.min(status.stepIndex + 1, steps)}/${steps}  ${formatWeights(live)}`;
}

export function formatWeights(live: LiveWeights[]): string {
  return live
    .map(
      (vs) =>
        `${vs.name}: ${vs.routes.map((r) => `${r.name ?? `${r.section}[${r.index}]`} ${r.stable}/${r.canary}`).join(', ')}`,
    )
    .join(' | ');
}

async function readLiveWeights(local: LocalMode, stored: StoredRollout): Promise<LiveWeights[] | string> {
  const cluster = await local.clusters.get(stored.rollout.cluster);
  const live: LiveWeights[] = [];
  for (const ref of stored.rollout.canary.virtualServices) {
    const read = readWeights(stored.rollout, ref, await cluster.virtualServices.get(ref));
    if (!read.ok) return `cannot read ${ref.name}`;
    live.push({ name: ref.name, routes: read.value });
  }
  return live;
}

function fail(message: string): number {
  console.error(`\ndemo failed: ${message}`);
  return 1;
}
