/** The store commands of the CLI against DynamoDB Local, as a user runs them. */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../lib/local/testcluster.js';
import type { RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import { createStore, YELLOW } from './runner-harness.js';

let store: RolloutStore;
let cwd: string;

function rollouts(...args: string[]) {
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/rollouts.js'), ...args], {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      ROLLOUTS_TABLE: store.tableName,
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
