/**
 * `rollouts demo` (npm run demo): the seed's scenario, unattended. Act 1 pushes
 * argoproj/rollouts-demo:yellow through the signed generic webhook, prints every route's weights at
 * each step, promotes at the `pause: {}` as the guide does, and checks each state the guide shows.
 * Act 2 adds an analysis step (examples/istio-demo/analysis, measured by a real Prometheus scraping
 * the mesh simulator): a bad image fails it and the rollout aborts by itself, both VirtualServices
 * back to 100/0; a good image passes it and completes. Exit 1 if any expected state is not reached.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { signGeneric } from '../core/triggers/signatures.js';
import { readWeights, type RouteWeights } from '../core/istio/weights.js';
import { isCompleted, type AnalysisRun } from '../core/analysis/run.js';
import type { RolloutStatus } from '../core/engine/types.js';
import { parseRollout, type Rollout } from '../core/model/rollout.js';
import type { RolloutKey, StoredRollout } from '../adapters/dynamodb/types.js';
import { startLocalMode, type LocalMode } from './mode.js';
import { readManifests, REPO_ROOT } from './testcluster.js';

const KEY: RolloutKey = { cluster: 'default', namespace: 'default', name: 'rollouts-demo' };
const IMAGE = 'argoproj/rollouts-demo:yellow';
/** The demo app's bad image: the mesh simulator fails half its requests and answers it slowly. */
export const BAD_IMAGE = 'argoproj/rollouts-demo:bad-red';
export const GOOD_IMAGE = 'argoproj/rollouts-demo:green';
const CANARY_SERVICE = 'rollouts-demo-canary.default.svc.cluster.local';
const TIMEOUT_MS = 180_000;

export async function runDemo(_args: string[]): Promise<number> {
  const local = await startLocalMode({ progress: (message) => console.log(`… ${message}`) });
  try {
    const first = await walk(local);
    return first === 0 ? await secondAct(local) : first;
  } finally {
    await local.stop();
  }
}

/** Pushes `image` through the signed generic webhook, as a registry would; false when refused. */
async function push(local: LocalMode, image: string): Promise<boolean> {
  const body = JSON.stringify({ image });
  const response = await fetch(`${local.webhookUrl}/generic`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...signGeneric(local.secrets.generic, Buffer.from(body), Date.now() / 1000),
    },
    body,
  });
  console.log(
    `\npushed ${image} through the generic webhook: HTTP ${response.status} ${await response.text()}\n`,
  );
  return response.status === 202;
}

async function walk(local: LocalMode): Promise<number> {
  if (!(await push(local, IMAGE))) return fail('the webhook did not accept the push');

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

/**
 * The demo Rollout with an analysis step: 20% to the canary, 10 s of traffic, then the success-rate
 * and latency templates against local mode's Prometheus (three measurements 10 s apart, one failure
 * allowed), then 50% and 100%.
 */
export function analysisRollout(document: unknown, prometheusUrl: string): Rollout {
  const changed = structuredClone(document) as { spec: { strategy: { canary: { steps: unknown[] } } } };
  changed.spec.strategy.canary.steps = [
    { setWeight: 20 },
    { pause: { duration: '10s' } },
    {
      analysis: {
        templates: [{ templateName: 'success-rate' }, { templateName: 'latency' }],
        args: [
          { name: 'service-name', value: CANARY_SERVICE },
          { name: 'prometheus-address', value: prometheusUrl },
        ],
      },
    },
    { setWeight: 50 },
    { pause: { duration: '10s' } },
  ];
  const parsed = parseRollout(changed);
  if (!parsed.ok) throw new Error(`the demo's analysis Rollout: ${parsed.error.join('; ')}`);
  return parsed.value;
}

async function secondAct(local: LocalMode): Promise<number> {
  if (!local.metrics)
    return fail(
      "act 2 needs Prometheus: build it with `bash tools/prometheus/build.sh` or install Debian's `prometheus` package",
    );
  const { prometheusUrl } = local.metrics;
  console.log(`
Act 2: canary analysis. The mesh simulator sends requests through both VirtualServices by their
weights; Prometheus (${prometheusUrl}) scrapes its Istio metrics; the AnalysisTemplates of
examples/istio-demo/analysis (success-rate >= 0.95, p99 latency < 250 ms) decide.

$ rollouts apply -f examples/istio-demo/analysis/*.yaml -f rollout.yaml   (steps: setWeight 20, pause 10s,
    analysis {success-rate, latency; service-name=${CANARY_SERVICE}}, setWeight 50, pause 10s)`);
  const document = readManifests(join(REPO_ROOT, 'examples/istio-demo'), 'rollout.yaml')[0];
  await local.store.apply(analysisRollout(document, prometheusUrl), Date.now());
  await local.nudge(KEY);

  if (!(await push(local, BAD_IMAGE))) return fail(`the webhook did not accept ${BAD_IMAGE}`);
  const bad = await follow(
    local,
    BAD_IMAGE,
    ['80/20', 'analysis Failed', 'aborted, 100/0'],
    (status, live, reached) => {
      note(reached, '80/20', status.weight === 20 && everyRoute(live, 80, 20));
      note(reached, 'analysis Failed', status.analysis?.step?.phase === 'Failed');
      if (status.phase === 'Healthy') return `${BAD_IMAGE} was promoted: its analysis did not stop it`;
      if (status.phase === 'Degraded' && everyRoute(live, 100, 0)) {
        note(reached, 'aborted, 100/0', true);
        return 'done';
      }
      return undefined;
    },
  );
  if (bad !== 0) return bad;

  if (!(await push(local, GOOD_IMAGE))) return fail(`the webhook did not accept ${GOOD_IMAGE}`);
  const good = await follow(
    local,
    GOOD_IMAGE,
    ['80/20', 'analysis Successful', '50/50', '100/0 Healthy'],
    (status, live, reached) => {
      note(reached, '80/20', status.weight === 20 && everyRoute(live, 80, 20));
      note(reached, 'analysis Successful', status.analysis?.step?.phase === 'Successful');
      note(reached, '50/50', status.weight === 50 && everyRoute(live, 50, 50));
      if (status.phase === 'Degraded') return `the rollout went Degraded: ${status.message}`;
      if (status.phase === 'Healthy' && status.stableImage === GOOD_IMAGE && everyRoute(live, 100, 0)) {
        note(reached, '100/0 Healthy', true);
        return 'done';
      }
      return undefined;
    },
  );
  if (good !== 0) return good;
  console.log(
    `\ndemo complete: ${BAD_IMAGE} failed its analysis and was aborted with no one watching, both VirtualServices back to 100/0; ${GOOD_IMAGE} passed it and is stable`,
  );
  return 0;
}

/**
 * Follows the rollout of `image` until `check` says it is done (or returns a failure), printing each
 * step's weights and each measurement the analysis takes; every state in `expected` must be reached.
 */
async function follow(
  local: LocalMode,
  image: string,
  expected: string[],
  check: (status: RolloutStatus, live: LiveWeights[], reached: string[]) => 'done' | string | undefined,
): Promise<number> {
  const reached: string[] = [];
  const seen = new Set<string>();
  let last = '';
  const deadline = Date.now() + TIMEOUT_MS;
  while (Date.now() < deadline) {
    const stored = await local.store.get(KEY);
    if (!stored) return fail('the demo Rollout is not registered');
    const live = await readLiveWeights(local, stored);
    if (typeof live === 'string') return fail(live);
    const { status } = stored;
    if (status.canaryImage === image || status.stableImage === image) {
      const line = progressLine(stored, live);
      if (line !== undefined && line !== last) {
        console.log(line);
        last = line;
      }
      for (const measured of analysisLines(status, seen)) console.log(measured);
      const verdict = check(status, live, reached);
      if (verdict === 'done') {
        if (status.phase === 'Degraded') console.log(`  ${status.message}`);
        break;
      }
      if (verdict !== undefined) return fail(verdict);
      if (status.phase === 'Paused' && status.pausedForAnalysis)
        return fail(`the analysis was inconclusive: ${status.message}`);
      if (status.phase === 'InvalidSpec') return fail(`the rollout went InvalidSpec: ${status.message}`);
    }
    await sleep(250);
  }
  const missing = expected.filter((state) => !reached.includes(state));
  if (missing.length) return fail(`${image}: states not reached: ${missing.join(', ')}`);
  return 0;
}

/** Every route of every VirtualService at stable/canary. */
function everyRoute(live: LiveWeights[], stable: number, canary: number): boolean {
  return live.every((vs) => vs.routes.every((route) => route.stable === stable && route.canary === canary));
}

/** A line for each measurement of the step's analysis run not shown yet (`seen` keeps them), then its outcome. */
export function analysisLines(status: RolloutStatus, seen: Set<string>): string[] {
  const run: AnalysisRun | undefined = status.analysis?.step;
  if (!run) return [];
  const lines: string[] = [];
  for (const result of run.results)
    for (const measurement of result.measurements) {
      const id = `${run.id}/${result.name}/${measurement.index}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const value = measurement.value === undefined ? '' : ` ${rounded(measurement.value)}`;
      const message = measurement.message ? `: ${measurement.message}` : '';
      lines.push(
        `  analysis ${result.name} #${measurement.index + 1}${value} ${measurement.phase}${message}`,
      );
    }
  if (isCompleted(run.phase) && !seen.has(run.id)) {
    seen.add(run.id);
    lines.push(`  analysis run ${run.id} ${run.phase}${run.message ? `: ${run.message}` : ''}`);
  }
  return lines;
}

/** A measured value as stored (JSON), its numbers to four significant digits. */
function rounded(value: string): string {
  try {
    return JSON.stringify(JSON.parse(value), (_key, item: unknown) =>
      typeof item === 'number' ? Number(item.toPrecision(4)) : item,
    );
  } catch {
    return value; // cut to length when stored: shown as it is
  }
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
