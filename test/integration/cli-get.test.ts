/**
 * `rollouts get` and `get --watch` as a user runs them against local mode: spawned CLI processes
 * reading DynamoDB Local and the live VirtualServices on the real API server.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DevState } from '../../lib/app/cli/connection.js';
import { keyOf, type RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import type { Rollout } from '../../lib/core/model/rollout.js';
import { waitFor } from '../../lib/local/processes.js';
import { REPO_ROOT } from '../../lib/local/testcluster.js';
import {
  createStore,
  demoRolloutIn,
  passUntil,
  pausedAt,
  phase,
  runnerDeps,
  YELLOW,
} from './runner-harness.js';
import { applyDemo, createNamespace, testClusterTarget } from './sandbox.js';

let store: RolloutStore;
let namespace: string;
let rollout: Rollout;
let cwd: string;

/** The CLI's environment without any store setting, so it finds local mode through .rollouts/dev.json. */
function cliEnv(): NodeJS.ProcessEnv {
  const { ROLLOUTS_TABLE: _t, ROLLOUTS_STACK: _s, ROLLOUTS_DYNAMODB_ENDPOINT: _e, ...env } = process.env;
  return env;
}

function get(...args: string[]) {
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/rollouts.js'), 'get', ...args], {
    cwd,
    encoding: 'utf8',
    env: cliEnv(),
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function watch(...args: string[]) {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/rollouts.js'), 'get', ...args], {
    cwd,
    env: cliEnv(),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    shows: (text: string) =>
      waitFor(
        `get --watch to show ${JSON.stringify(text)}; it printed:\n${stdout}${stderr}`,
        async () => (stdout.includes(text) ? true : undefined),
        { timeoutMs: 30_000, intervalMs: 100 },
      ),
  };
}

const routeLine = (section: string, stable: number, canary: number) =>
  new RegExp(`${section}\\s+stable\\s+${stable}\\s+canary\\s+${canary}\\n`);

beforeAll(async () => {
  store = await createStore();
  namespace = await createNamespace('cli-get');
  await applyDemo(namespace);
  rollout = demoRolloutIn(namespace, (doc) => {
    doc.spec.strategy.canary.steps = [{ setWeight: 50 }, { pause: {} }];
  });
  await store.apply(rollout, Date.now());
  cwd = mkdtempSync(join(tmpdir(), 'cli-get-'));
  mkdirSync(join(cwd, '.rollouts'));
  const state: DevState = {
    dynamodbEndpoint: process.env.TEST_DYNAMODB_ENDPOINT as string,
    tableName: store.tableName,
    webhookUrl: 'http://127.0.0.1:9/',
    kubeconfig: process.env.TEST_KUBECONFIG as string,
    clusters: [testClusterTarget()],
    pid: process.pid,
  };
  writeFileSync(join(cwd, '.rollouts/dev.json'), JSON.stringify(state));
});

describe('rollouts get against a reachable cluster', () => {
  it('prints the rollout with the live weights of every route and exits 0', () => {
    const shown = get('rollouts-demo', '-n', namespace);
    expect(shown.stderr).toBe('');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('Status:          ✔ Healthy');
    expect(shown.stdout).toContain(`  ${namespace}/rollouts-demo-vsvc1\n`);
    expect(shown.stdout).toMatch(routeLine("http 'http-primary'", 100, 0));
    expect(shown.stdout).toMatch(routeLine("http 'http-secondary'", 100, 0));
    expect(shown.stdout).toMatch(routeLine('tcp spec.tcp\\[0\\]', 100, 0));
    expect(shown.stdout).not.toContain('cannot read');
  });

  it('exits 1 with the reason for a rollout that is not registered', () => {
    const shown = get('nope', '-n', namespace);
    expect(shown.code).toBe(1);
    expect(shown.stderr).toContain(`rollout default/${namespace}/nope not found`);
  });
});

describe('rollouts get --watch', () => {
  it('redraws as the rollout moves and, with --until-done, exits 0 once it is Healthy', async () => {
    // Queued but not yet taken by the runner: the Healthy read now is the old revision, not the end.
    await store.enqueueCommand(keyOf(rollout), { kind: 'setImage', image: YELLOW }, 'test', Date.now());
    const watching = watch('rollouts-demo', '-n', namespace, '--watch', '--until-done');
    await watching.shows('Status:          ✔ Healthy');

    const deps = runnerDeps(store);
    await passUntil(deps, rollout, pausedAt(50), 'paused at 50');
    await watching.shows('Status:          ॥ Paused');
    expect(watching.stdout()).toMatch(routeLine("http 'http-primary'", 50, 50));
    expect(watching.stdout()).toContain('  ► 2. pause: {}');
    expect(watching.stdout()).not.toContain('is Healthy on');

    await store.enqueueCommand(keyOf(rollout), { kind: 'promoteFull' }, 'test', Date.now());
    await passUntil(deps, rollout, phase('Healthy'), 'Healthy');
    expect(await watching.exited).toBe(0);
    expect(watching.stdout()).toContain(`rollout ${namespace}/rollouts-demo is Healthy on ${YELLOW}\n`);
    expect(watching.stderr()).toBe('');
    // Not a terminal: frames follow each other, without cursor movements.
    expect(watching.stdout()).not.toContain('\x1b[');
  });

  it('exits 1 with the abort message once the rollout is Degraded', async () => {
    const deps = runnerDeps(store);
    await store.enqueueCommand(
      keyOf(rollout),
      { kind: 'setImage', image: 'argoproj/rollouts-demo:orange' },
      'test',
      Date.now(),
    );
    const watching = watch('rollouts-demo', '-n', namespace, '--watch', '--until-done');
    await passUntil(deps, rollout, pausedAt(50), 'paused at 50');
    await watching.shows('Status:          ॥ Paused');
    await store.enqueueCommand(keyOf(rollout), { kind: 'abort' }, 'test', Date.now());
    await passUntil(deps, rollout, phase('Degraded'), 'Degraded');
    expect(await watching.exited).toBe(1);
    expect(watching.stderr()).toContain(
      `rollout ${namespace}/rollouts-demo is Degraded: Rollout aborted update to revision 3`,
    );
  });

  it('refuses --until-done without --watch', () => {
    const refused = get('rollouts-demo', '-n', namespace, '--until-done');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--until-done goes with --watch');
  });
});
