/** The store commands of the CLI against DynamoDB Local, as a user runs them. */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../lib/local/testcluster.js';
import type { RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import { runPass } from '../../lib/app/runner/pass.js';
import { stringify } from 'yaml';
import { readDocuments } from '../unit/fixtures.js';
import { createStore, runnerDeps, YELLOW } from './runner-harness.js';
import { applyDemo, createNamespace } from './sandbox.js';

let store: RolloutStore;
let cwd: string;

function rollouts(...args: string[]) {
  return rolloutsOn(store, ...args);
}

function rolloutsOn(on: RolloutStore, ...args: string[]) {
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/rollouts.js'), ...args], {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      ROLLOUTS_TABLE: on.tableName,
      ROLLOUTS_DYNAMODB_ENDPOINT: process.env.TEST_DYNAMODB_ENDPOINT,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(async () => {
  store = await createStore();
  cwd = mkdtempSync(join(tmpdir(), 'cli-'));
});

describe('the CLI on a store', () => {
  it('applies, lists, shows, sends commands and tells what it refused', () => {
    const applied = rollouts('apply', '-f', join(REPO_ROOT, 'examples/istio-demo/rollout.yaml'));
    expect(applied).toMatchObject({
      code: 0,
      stdout: 'rollout default/rollouts-demo (cluster default) created\n',
    });
    expect(rollouts('apply', '-f', join(REPO_ROOT, 'examples/istio-demo/rollout.yaml')).stdout).toContain(
      'configured',
    );

    expect(rollouts('list').stdout).toMatch(
      /^CLUSTER\s+NAMESPACE\s+NAME\s+STATUS\s+STEP\s+WEIGHT\s+IMAGE\ndefault\s+default\s+rollouts-demo\s+Healthy\s+0\/4\s+0/,
    );

    const refused = rollouts('promote', 'rollouts-demo');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      'rollout default/default/rollouts-demo: nothing to promote: the rollout is Healthy; nothing sent\n',
    );

    const wrongContainer = rollouts('set', 'image', 'rollouts-demo', `other=${YELLOW}`);
    expect(wrongContainer.code).toBe(2);
    expect(wrongContainer.stderr).toContain("updates container 'rollouts-demo', not 'other'");
    const unservable = rollouts('set', 'image', 'rollouts-demo', 'rollouts-demo=argoproj/rollouts-demo:-x');
    expect(unservable.code).toBe(2);
    expect(unservable.stderr).toContain("image: tag '-x' is not a tag");

    const set = rollouts('set', 'image', 'rollouts-demo', `rollouts-demo=${YELLOW}`);
    expect(set).toMatchObject({
      code: 0,
      stdout: `rollout default/default/rollouts-demo: rolling out ${YELLOW} as revision 2\n`,
    });

    const shown = rollouts('get', 'rollouts-demo');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('Name:            rollouts-demo');
    expect(shown.stdout).toContain('    1. setWeight: 5');
    expect(shown.stdout).toContain('4. pause: {duration: 30s}');
    expect(shown.stdout).toContain('no cluster access from this CLI; desired: stable 100, canary 0');

    expect(rollouts('history', 'rollouts-demo').stdout).toMatch(/applied\s+registered/);
    expect(rollouts('get', 'nope')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('rollout default/default/nope not found'),
    });
  });

  it('applies nothing when a file has errors', () => {
    const file = join(cwd, 'bad.yaml');
    writeFileSync(
      file,
      'apiVersion: serverless-rollouts.io/v1alpha1\nkind: Rollout\nmetadata: {name: bad}\nspec: {}\n',
    );
    const result = rollouts('apply', '-f', file);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('spec.workload: is required');
    expect(result.stderr).toContain('nothing applied');
    expect(rollouts('get', 'bad').code).toBe(1);
  });

  it('says how to connect when no store is configured', () => {
    const result = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/rollouts.js'), 'list'], {
      cwd,
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("no store configured: start local mode with 'npm start'");
  });
});

describe('apply checks the Rollout against its cluster', () => {
  /** The demo Rollout in `namespace` as a file, named `name`, with `change` applied. */
  function rolloutFile(namespace: string, name: string, change: (doc: any) => void = () => {}): string {
    const doc = structuredClone(readDocuments('examples/istio-demo/rollout.yaml')[0]) as any;
    doc.metadata = { name, namespace };
    delete doc.spec.trigger;
    change(doc);
    const file = join(cwd, `${name}.yaml`);
    writeFileSync(file, stringify(doc));
    return file;
  }

  it('makes it due at once: a broken reference is InvalidSpec before any push, list shows the stable image, set image says it cannot roll out', async () => {
    const checked = await createStore();
    const namespace = await createNamespace('cli-apply');
    await applyDemo(namespace);
    const good = rolloutFile(namespace, 'checked');
    const broken = rolloutFile(namespace, 'broken', (doc) => {
      doc.spec.strategy.canary.trafficRouting.istio.virtualServices[1].name = 'missing-vsvc';
    });
    expect(rolloutsOn(checked, 'apply', '-f', good, '-f', broken).code).toBe(0);

    // No push and no command: the pass finds both through the due index alone.
    const report = await runPass(runnerDeps(checked));
    expect(report.due).toBe(2);
    expect(Object.fromEntries(report.outcomes.map((o) => [o.key.name, o.result]))).toEqual({
      checked: 'done',
      broken: 'invalid-spec',
    });

    const listed = rolloutsOn(checked, 'list').stdout;
    expect(listed).toMatch(
      new RegExp(
        `default\\s+${namespace}\\s+checked\\s+Healthy\\s+0/4\\s+0\\s+argoproj/rollouts-demo:blue\n`,
      ),
    );
    expect(listed).toMatch(new RegExp(`default\\s+${namespace}\\s+broken\\s+InvalidSpec\\s`));

    const refused = rolloutsOn(checked, 'set', 'image', 'broken', '-n', namespace, `rollouts-demo=${YELLOW}`);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(`rollout default/${namespace}/broken: it is InvalidSpec (`);
    expect(refused.stderr).toContain(`VirtualService ${namespace}/missing-vsvc not found`);
    expect(refused.stderr).toContain(
      `so ${YELLOW} cannot roll out: fix the Rollout or what it references and apply it again; nothing sent\n`,
    );
    expect(await checked.pendingCommands({ cluster: 'default', namespace, name: 'broken' })).toEqual([]);

    const accepted = rolloutsOn(
      checked,
      'set',
      'image',
      'checked',
      '-n',
      namespace,
      `rollouts-demo=${YELLOW}`,
    );
    expect(accepted).toMatchObject({
      code: 0,
      stdout: `rollout default/${namespace}/checked: rolling out ${YELLOW} as revision 2\n`,
    });

    const unknown = rolloutsOn(checked, 'set', 'image', 'nope', '-n', namespace, `rollouts-demo=${YELLOW}`);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`rollout ${namespace}/nope not found`);
  });
});
