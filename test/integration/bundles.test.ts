/**
 * What CDK deploys is what is tested: each function is bundled by infra/bundle.ts (the code the
 * stack uploads) into a directory outside the repository, then invoked in a fresh Node 24 process
 * (infra/invoke-bundle.ts: import, then handler(event, context), as Lambda's Node runtime does)
 * with the event shapes AWS delivers, against DynamoDB Local, the test control plane, and a
 * recording stand-in for Secrets Manager, EventBridge and SQS.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { bundleFunction } from '../../infra/bundle.js';
import { keyOf, type RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import { hmacSha256Hex, signGeneric } from '../../lib/core/triggers/signatures.js';
import type { Rollout } from '../../lib/core/model/rollout.js';
import { startAwsStub, type AwsStub } from '../../lib/local/aws-stub.js';
import { commandEvent, functionUrlEvent, scheduledEvent, sqsEvent } from '../../lib/local/lambda-events.js';
import { createStore, demoRolloutIn, everyRoute, routeWeights, YELLOW } from './runner-harness.js';
import { applyDemo, createNamespace, testClusterTarget, waitForAvailable } from './sandbox.js';

const FUNCTIONS = ['step-runner', 'registry-webhook', 'ecr-push'] as const;
type FunctionName = (typeof FUNCTIONS)[number];
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:rollouts-webhooks';
const SECRETS = { github: 'gh-secret', generic: 'ci-secret' };
const sign = (secret: string, body: string) => `sha256=${hmacSha256Hex(secret, Buffer.from(body))}`;

interface Invocation {
  ok: boolean;
  result?: any;
  errorType?: string;
  errorMessage?: string;
  node: string;
  /** The function's structured log lines (Powertools writes JSON lines to stdout and stderr). */
  logs: any[];
}

let dir: string;
let aws: AwsStub;
let store: RolloutStore;
let rollout: Rollout;
let ghcrRollout: Rollout;
let ecrRollout: Rollout;
let deadEndpoint: string;
/** SQS sends to the queue URL's host, so the queue lives at the stand-in. */
const queueUrl = () => `${aws.endpoint}/123456789012/rollouts-wakeups`;

/** The environment the stack gives each function, pointed at the local stand-ins. */
function environmentOf(name: FunctionName): Record<string, string> {
  const common = {
    TABLE_NAME: store.tableName,
    EVENT_BUS_NAME: 'rollouts-events',
    NODE_OPTIONS: '--enable-source-maps',
    POWERTOOLS_SERVICE_NAME: name,
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  switch (name) {
    case 'step-runner':
      return {
        ...common,
        WAKEUP_QUEUE_URL: queueUrl(),
        CLUSTERS: JSON.stringify([testClusterTarget()]),
      };
    case 'registry-webhook':
      return { ...common, WAKEUP_QUEUE_URL: queueUrl(), WEBHOOK_SECRET_ARN: SECRET_ARN };
    case 'ecr-push':
      return { ...common, WAKEUP_QUEUE_URL: queueUrl(), ACCOUNT_ID: '123456789012' };
  }
}

async function invoke(
  name: FunctionName,
  event: unknown,
  env: Record<string, string> = {},
): Promise<Invocation> {
  const work = mkdtempSync(join(dir, `${name}-call-`));
  writeFileSync(join(work, 'event.json'), JSON.stringify(event));
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    [
      resolve('infra/invoke-bundle.ts'),
      join(dir, name, 'index.mjs'),
      join(work, 'event.json'),
      join(work, 'result.json'),
    ],
    {
      cwd: work,
      // Only what Lambda would set: no inherited AWS_* or test variables.
      env: {
        PATH: process.env.PATH as string,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_LAMBDA_FUNCTION_NAME: name,
        AWS_ENDPOINT_URL_DYNAMODB: process.env.TEST_DYNAMODB_ENDPOINT as string,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.endpoint,
        AWS_ENDPOINT_URL_EVENTBRIDGE: aws.endpoint,
        AWS_ENDPOINT_URL_SQS: aws.endpoint,
        ...environmentOf(name),
        ...env,
      },
    },
  );
  const logs = `${stdout}\n${stderr}`
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
  return { ...JSON.parse(readFileSync(join(work, 'result.json'), 'utf8')), logs };
}

/** An address where nothing listens: DynamoDB is down. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return `http://127.0.0.1:${port}`;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rollouts-bundles-'));
  for (const name of FUNCTIONS) await bundleFunction(`functions/${name}.ts`, join(dir, name));
  // The one module infra/bundle.ts leaves out is local mode's kubeconfig reader; these tests reach
  // the control plane through a kubeconfig, so it is provided, and nothing else is.
  mkdirSync(join(dir, 'node_modules/@kubernetes'), { recursive: true });
  symlinkSync(
    resolve('node_modules/@kubernetes/client-node'),
    join(dir, 'node_modules/@kubernetes/client-node'),
  );
  aws = await startAwsStub(JSON.stringify(SECRETS));
  deadEndpoint = await closedPort();
  store = await createStore();
  const namespace = await createNamespace('bundles');
  await applyDemo(namespace);
  rollout = demoRolloutIn(namespace);
  ghcrRollout = demoRolloutIn(namespace, (doc) => {
    doc.metadata.name = 'ghcr-demo';
    doc.spec.trigger = { repository: 'ghcr.io/acme/rollouts-demo', tagPattern: '^v[0-9.]+$' };
  });
  ecrRollout = demoRolloutIn(namespace, (doc) => {
    doc.metadata.name = 'ecr-demo';
    doc.spec.trigger = { repository: '123456789012.dkr.ecr.us-east-1.amazonaws.com/rollouts-demo' };
  });
  for (const each of [rollout, ghcrRollout, ecrRollout]) await store.apply(each, Date.now());
  await waitForAvailable(namespace, 'rollouts-demo-stable', 1);
});

afterAll(async () => {
  await aws?.close();
});

describe('the bundles infra/bundle.ts builds', () => {
  it('are one self-contained file each (and its source map)', () => {
    for (const name of FUNCTIONS)
      expect(readdirSync(join(dir, name)).sort()).toEqual(['index.mjs', 'index.mjs.map']);
  });
});

describe('the bundled step runner, in a fresh Node 24 process', () => {
  it('takes a Rollout Command from the bus and, watching the canary pods, reaches the first pause at 5% in the same invocation', async () => {
    const started = await invoke(
      'step-runner',
      commandEvent({
        namespace: rollout.namespace,
        rollout: rollout.name,
        command: { kind: 'setImage', image: YELLOW },
      }),
    );
    expect(started).toMatchObject({ ok: true, result: { due: 1 } });
    expect(started.node).toMatch(/^24\./);
    expect((await store.get(keyOf(rollout)))?.status).toMatchObject({
      phase: 'Paused',
      weight: 5,
      canaryImage: YELLOW,
    });
    expect(await routeWeights(rollout)).toEqual(everyRoute(95, 5));
    expect(aws.requests).toContainEqual({
      target: 'AWSEvents.PutEvents',
      body: {
        Entries: [
          expect.objectContaining({ EventBusName: 'rollouts-events', DetailType: 'Rollout Started' }),
        ],
      },
    });
    expect(aws.requests).toContainEqual({
      target: 'AmazonSQS.SendMessage',
      body: expect.objectContaining({
        QueueUrl: queueUrl(),
        MessageBody: expect.stringContaining(rollout.name),
      }),
    });
  });

  it('takes an SQS wake-up batch: an indefinite pause stays paused at 5% until promoted', async () => {
    const wakeup = await invoke('step-runner', sqsEvent(JSON.stringify({ wake: keyOf(rollout) })));
    expect(wakeup).toMatchObject({ ok: true, result: { batchItemFailures: [] } });
    expect((await store.get(keyOf(rollout)))?.status).toMatchObject({ phase: 'Paused', weight: 5 });
    expect(await routeWeights(rollout)).toEqual(everyRoute(95, 5));
  });

  it('answers a command it cannot parse with the field at fault, logged as a warning', async () => {
    const invocation = await invoke(
      'step-runner',
      commandEvent({ namespace: rollout.namespace, rollout: rollout.name, command: { kind: 'launch' } }),
    );
    expect(invocation.ok).toBe(true);
    expect(invocation.result.ignored).toContain('bad Rollout Command detail: command.kind');
    expect(invocation.logs).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        service: 'step-runner',
        reason: 'malformed-command',
        message: `step runner input rejected: ${invocation.result.ignored}`,
      }),
    );
  });

  it('fails the invocation, so Lambda retries it, when DynamoDB cannot be reached', async () => {
    const invocation = await invoke('step-runner', scheduledEvent, {
      AWS_ENDPOINT_URL_DYNAMODB: deadEndpoint,
    });
    expect(invocation).toMatchObject({ ok: false, errorMessage: expect.stringMatching(/ECONNREFUSED/) });
  });
});

describe('the bundled registry webhook, in a fresh Node 24 process', () => {
  it('queues a canary from a signed GitHub package event, with the secret from Secrets Manager, and nudges the runner', async () => {
    const body = readFileSync('test/fixtures/webhooks/github-package-published.json', 'utf8');
    const invocation = await invoke(
      'registry-webhook',
      functionUrlEvent('POST', '/github', body, {
        'x-github-event': 'package',
        'x-github-delivery': 'bundle-test-delivery',
        'x-hub-signature-256': sign(SECRETS.github, body),
      }),
    );
    expect(invocation).toMatchObject({
      ok: true,
      node: expect.stringMatching(/^24\./),
      result: { statusCode: 202 },
    });
    expect(JSON.parse(invocation.result.body).results).toEqual([
      expect.objectContaining({ rollout: `default/${ghcrRollout.namespace}/ghcr-demo`, result: 'queued' }),
    ]);
    expect(await store.pendingCommands(keyOf(ghcrRollout))).toHaveLength(1);
    expect(aws.requests).toContainEqual({
      target: 'secretsmanager.GetSecretValue',
      body: { SecretId: SECRET_ARN },
    });
    // The nudge: a wake-up for that Rollout on the runner's queue, due at once.
    expect(aws.requests).toContainEqual({
      target: 'AmazonSQS.SendMessage',
      body: expect.objectContaining({
        QueueUrl: queueUrl(),
        MessageBody: expect.stringContaining(JSON.stringify(keyOf(ghcrRollout))),
      }),
    });
  });

  it('answers 400 with the field at fault for a signed body that is not a push, and changes nothing', async () => {
    const before = await store.list();
    const body = JSON.stringify({ image: 42 });
    const invocation = await invoke(
      'registry-webhook',
      functionUrlEvent('POST', '/generic', body, {
        ...signGeneric(SECRETS.generic, Buffer.from(body), Date.now() / 1000),
      }),
    );
    expect(invocation.result.statusCode).toBe(400);
    expect(JSON.parse(invocation.result.body).message).toMatch(/image/);
    expect(await store.list()).toEqual(before);
  });

  it('answers 503 with Retry-After when DynamoDB cannot be reached, so the registry redelivers', async () => {
    const body = JSON.stringify({ image: 'ghcr.io/acme/rollouts-demo:v2.0.0' });
    const invocation = await invoke(
      'registry-webhook',
      functionUrlEvent('POST', '/generic', body, {
        ...signGeneric(SECRETS.generic, Buffer.from(body), Date.now() / 1000),
      }),
      { AWS_ENDPOINT_URL_DYNAMODB: deadEndpoint },
    );
    expect(invocation).toMatchObject({ ok: true, result: { statusCode: 503 } });
    expect(Number(invocation.result.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('the bundled ECR push trigger, in a fresh Node 24 process', () => {
  // DynamoDB Local keeps one database per region, so the push comes from the functions' region.
  const ecrEvent = {
    ...JSON.parse(readFileSync('test/fixtures/webhooks/ecr-image-action.json', 'utf8')),
    region: 'us-east-1',
  };

  it('queues a canary from the ECR Image Action event EventBridge delivers', async () => {
    const invocation = await invoke('ecr-push', ecrEvent);
    expect(invocation).toMatchObject({ ok: true, node: expect.stringMatching(/^24\./) });
    expect(invocation.result.results).toEqual([
      expect.objectContaining({ rollout: `default/${ecrRollout.namespace}/ecr-demo`, result: 'queued' }),
    ]);
    expect((await store.pendingCommands(keyOf(ecrRollout))).map((c) => c.command)).toEqual([
      {
        kind: 'setImage',
        image: expect.stringContaining('123456789012.dkr.ecr.us-east-1.amazonaws.com/rollouts-demo'),
      },
    ]);
  });

  it('ignores an event that is not an ECR push with the reason, logged as a warning', async () => {
    const invocation = await invoke('ecr-push', { ...ecrEvent, detail: { result: 'SUCCESS' } });
    expect(invocation.ok).toBe(true);
    expect(invocation.result.ignored).toContain('not an ECR Image Action event');
    expect(invocation.logs).toContainEqual(expect.objectContaining({ level: 'WARN', service: 'ecr-push' }));
  });

  it('fails the invocation when DynamoDB cannot be reached', async () => {
    const invocation = await invoke('ecr-push', ecrEvent, { AWS_ENDPOINT_URL_DYNAMODB: deadEndpoint });
    expect(invocation).toMatchObject({ ok: false, errorMessage: expect.stringMatching(/ECONNREFUSED/) });
  });
});
