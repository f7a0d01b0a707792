/** functions/registry-webhook.ts and functions/ecr-push.ts invoked with the providers' real shapes, against DynamoDB Local. */
import { afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { readFileSync } from 'node:fs';
import { hmacSha256Hex, signGeneric } from '../../lib/core/triggers/signatures.js';
import { keyOf, RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import { createWebhookHandler } from '../../lib/app/triggers/webhook-handler.js';
import type { Rollout } from '../../lib/core/model/rollout.js';
import { functionUrlEvent } from '../../lib/local/lambda-events.js';
import { tableItems } from './function-url-event.js';
import { lambdaContext, lambdaEnvironment } from './lambda-context.js';
import {
  createStore,
  demoRolloutIn,
  everyRoute,
  passUntil,
  pausedAt,
  routeWeights,
  runnerDeps,
} from './runner-harness.js';
import { applyDemo, createNamespace, waitForAvailable } from './sandbox.js';
import { sdkDocuments } from '../../lib/adapters/dynamodb/sdk-documents.js';

const SECRETS = {
  github: 'gh-secret',
  harbor: 'Basic aGFyYm9yOnM=',
  dockerhubToken: 'tok3n',
  generic: 'ci-secret',
};
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/rollouts-wakeups';
const ECR_REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const fixture = (name: string) => readFileSync(`test/fixtures/webhooks/${name}`, 'utf8');
const sign = (secret: string, body: string) => `sha256=${hmacSha256Hex(secret, Buffer.from(body))}`;
const signedGeneric = (body: string, at = Date.now() / 1000) =>
  signGeneric(SECRETS.generic, Buffer.from(body), at);
/** The ECR fixture, in the region the function runs in (the test's AWS_REGION). */
const ecrEvent = () => {
  const event = JSON.parse(fixture('ecr-image-action.json'));
  event.region = 'us-east-1';
  return event;
};
const secretsManager = mockClient(SecretsManagerClient);
const sqs = mockClient(SQSClient);
let store: RolloutStore;
let dockerHubRollout: Rollout;
let ghcrRollout: Rollout;
let ecrRollout: Rollout;
let harborRollout: Rollout;
type Response = { statusCode: number; body: string; headers: Record<string, string> };
let webhook: (event: unknown) => Promise<Response>;
let ecr: (event: unknown) => Promise<any>;

async function commandsOf(rollout: Rollout) {
  return store.pendingCommands(keyOf(rollout));
}

beforeAll(async () => {
  store = await createStore();
  const namespace = await createNamespace('hooks');
  dockerHubRollout = demoRolloutIn(namespace, (doc) => (doc.metadata.name = 'dockerhub-demo'));
  ghcrRollout = demoRolloutIn(namespace, (doc) => {
    doc.metadata.name = 'ghcr-demo';
    doc.spec.trigger = { repository: 'ghcr.io/acme/rollouts-demo', tagPattern: 'v[0-9.]+' };
  });
  harborRollout = demoRolloutIn(namespace, (doc) => {
    doc.metadata.name = 'harbor-demo';
    doc.spec.trigger = { repository: 'harbor.acme.internal/payments/api', tagPattern: 'v2\\.0\\.[0-9]+' };
  });
  ecrRollout = demoRolloutIn(
    namespace,
    (doc) => (doc.spec.trigger = { repository: `${ECR_REGISTRY}/rollouts-demo` }),
  );
  await applyDemo(namespace);
  for (const rollout of [dockerHubRollout, ghcrRollout, harborRollout, ecrRollout])
    await store.apply(rollout, Date.now());
  secretsManager
    .on(GetSecretValueCommand, {
      SecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:rollouts-webhooks',
    })
    .resolves({ SecretString: JSON.stringify(SECRETS) });
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
  lambdaEnvironment(store.tableName, {
    WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:rollouts-webhooks',
    HARBOR_HOSTS: 'harbor.acme.internal',
    WAKEUP_QUEUE_URL: QUEUE_URL,
    // Even when an operator turns event logging on, the path (the Docker Hub token) stays out.
    POWERTOOLS_LOGGER_LOG_EVENT: 'true',
  });
  delete process.env.EVENT_BUS_NAME;
  const webhookModule = await import('../../functions/registry-webhook.js');
  webhook = (event) => webhookModule.handler(event, lambdaContext('registry-webhook')) as Promise<Response>;
  const ecrModule = await import('../../functions/ecr-push.js');
  ecr = (event) => ecrModule.handler(event, lambdaContext('ecr-push'));
  await waitForAvailable(namespace, 'rollouts-demo-stable', 1);
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('the registry webhook', () => {
  it('starts a canary from a signed GHCR package event once, whatever the delivery id, and wakes the runner through its queue', async () => {
    sqs.resetHistory();
    const body = fixture('github-package-published.json');
    const headers = {
      'x-github-event': 'package',
      'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'x-hub-signature-256': sign(SECRETS.github, body),
    };
    const first = await webhook(functionUrlEvent('POST', '/github', body, headers, true));
    expect(first.statusCode).toBe(202);
    const image =
      'ghcr.io/acme/rollouts-demo:v1.4.0@sha256:3f1b5e9c0b1f4b7d2d8e6a0c9e4f7a2b1c3d5e7f9a0b2c4d6e8f0a1b3c5d7e9f';
    expect(JSON.parse(first.body).results).toEqual([
      { rollout: `default/${ghcrRollout.namespace}/ghcr-demo`, image, result: 'queued' },
    ]);
    const redelivered = await webhook(functionUrlEvent('POST', '/github', body, headers));
    expect(JSON.parse(redelivered.body).results[0].result).toBe('duplicate');
    // The delivery id is not signed: a replay under a new one is the same signed body.
    const replayed = await webhook(
      functionUrlEvent('POST', '/github', body, {
        ...headers,
        'x-github-delivery': 'c0ffee00-0000-0000-0000-000000000000',
      }),
    );
    expect(JSON.parse(replayed.body).results[0].result).toBe('duplicate');
    expect((await commandsOf(ghcrRollout)).map((c) => c.command)).toEqual([{ kind: 'setImage', image }]);
    const sent = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
    expect(sent).toEqual([{ QueueUrl: QUEUE_URL, DelaySeconds: 0, MessageBody: expect.any(String) }]);
    expect(JSON.parse(sent[0]?.MessageBody ?? '')).toEqual({
      wake: { cluster: 'default', namespace: ghcrRollout.namespace, name: 'ghcr-demo' },
      at: expect.any(Number),
    });
  });

  it('takes Docker Hub pushes by the token in the URL and rolls out the tag as pushed', async () => {
    const body = fixture('dockerhub-push.json');
    const response = await webhook(functionUrlEvent('POST', '/dockerhub/tok3n', body));
    expect(response.statusCode).toBe(202);
    expect((await commandsOf(dockerHubRollout)).map((c) => c.command)).toEqual([
      { kind: 'setImage', image: 'argoproj/rollouts-demo:yellow' },
    ]);
  });

  it("takes Harbor's CloudEvents format, from a host in HARBOR_HOSTS", async () => {
    const body = fixture('harbor-cloudevents-push-tagged.json');
    const response = await webhook(
      functionUrlEvent('POST', '/harbor', body, { authorization: SECRETS.harbor }),
    );
    expect(response.statusCode).toBe(202);
    expect((await commandsOf(harborRollout)).map((c) => c.command)).toEqual([
      {
        kind: 'setImage',
        image:
          'harbor.acme.internal/payments/api:v2.0.2@sha256:b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2',
      },
    ]);
  });

  it.each([
    [
      "Docker Hub's token claiming a GHCR image",
      '/dockerhub/tok3n',
      JSON.stringify({
        ...JSON.parse(fixture('dockerhub-push.json')),
        repository: { repo_name: 'ghcr.io/acme/rollouts-demo' },
      }),
      {},
      'ignored: dockerhub may only push images of docker.io, not ghcr.io/acme/rollouts-demo',
    ],
    [
      "Docker Hub's token claiming an ECR image",
      '/dockerhub/tok3n',
      JSON.stringify({
        ...JSON.parse(fixture('dockerhub-push.json')),
        repository: { repo_name: `${ECR_REGISTRY}/rollouts-demo` },
      }),
      {},
      `ignored: dockerhub may only push images of docker.io, not ${ECR_REGISTRY}/rollouts-demo`,
    ],
    [
      'a Harbor payload naming a host outside HARBOR_HOSTS',
      '/harbor',
      fixture('harbor-cloudevents-push-tagged.json').replaceAll('harbor.acme.internal', 'ghcr.io'),
      { authorization: SECRETS.harbor },
      'ignored: harbor may only push images of harbor.acme.internal, not ghcr.io/payments/api',
    ],
  ])('ignores %s with a 202 and the reason, and writes nothing', async (_, path, body, headers, message) => {
    const before = await tableItems(store);
    const response = await webhook(functionUrlEvent('POST', path, body, headers));
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body)).toEqual({ message });
    expect(await tableItems(store)).toEqual(before);
  });

  it('answers 202 with the reason when no Rollout matches', async () => {
    const body = JSON.stringify({ image: 'ghcr.io/acme/unknown:v1' });
    const response = await webhook(functionUrlEvent('POST', '/generic', body, signedGeneric(body)));
    expect(response).toMatchObject({ statusCode: 202 });
    expect(JSON.parse(response.body)).toEqual({
      message: 'no rollout matches ghcr.io/acme/unknown',
      results: [],
    });
  });

  it('a generic delivery replayed is a duplicate, and one signed over 5 minutes ago is refused', async () => {
    const body = JSON.stringify({ image: 'ghcr.io/acme/rollouts-demo:v1.5.0' });
    const headers = signedGeneric(body);
    const first = await webhook(functionUrlEvent('POST', '/generic', body, headers));
    expect(JSON.parse(first.body).results[0].result).toBe('queued');
    const replay = await webhook(
      functionUrlEvent('POST', '/generic', body, { ...headers, 'x-delivery-id': 'new' }),
    );
    expect(JSON.parse(replay.body).results[0].result).toBe('duplicate');
    const before = await tableItems(store);
    const stale = await webhook(
      functionUrlEvent('POST', '/generic', body, signedGeneric(body, Date.now() / 1000 - 301)),
    );
    expect(stale.statusCode).toBe(401);
    expect(JSON.parse(stale.body).message).toContain('the limit is 300 s');
    expect(await tableItems(store)).toEqual(before);
  });

  const absurd = JSON.stringify({ image: `ghcr.io/acme/rollouts-demo:${'v'.repeat(4000)}` });
  const sixtyHex = JSON.stringify({
    image: `ghcr.io/acme/rollouts-demo@sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234`,
  });
  const github = fixture('github-package-published.json');
  const form = `payload=${encodeURIComponent(github)}`;
  it.each([
    ['GET', '/github', '', {}, 405],
    ['POST', '/nowhere', '{}', {}, 404],
    ['POST', '/harbor', fixture('harbor-push-artifact.json'), { authorization: 'Basic wrong' }, 401],
    ['POST', '/github', '{"action":"published"}', { 'x-github-event': 'package' }, 401],
    ['POST', '/generic', '{not json', signedGeneric('{not json'), 400],
    [
      'POST',
      '/generic',
      '{"image":"nginx:1"}',
      { 'x-signature-256': sign(SECRETS.generic, '{"image":"nginx:1"}') },
      401,
    ],
    ['POST', '/generic', absurd, signedGeneric(absurd), 400],
    ['POST', '/generic', sixtyHex, signedGeneric(sixtyHex), 400],
    [
      'POST',
      '/github',
      github,
      {
        'x-github-event': 'package',
        'x-github-delivery': 'x'.repeat(3000),
        'x-hub-signature-256': sign(SECRETS.github, github),
      },
      400,
    ],
    [
      'POST',
      '/github',
      form,
      {
        'content-type': 'application/x-www-form-urlencoded',
        'x-github-event': 'package',
        'x-hub-signature-256': sign(SECRETS.github, form),
      },
      400,
    ],
  ])(
    '%s %s is refused with a reason, no stack trace and no change (%#)',
    async (method, path, body, headers, status) => {
      const before = await tableItems(store);
      const response = await webhook(functionUrlEvent(method, path, body, headers));
      expect(response.statusCode).toBe(status);
      expect(response.body).not.toMatch(/at .*\.(ts|js):\d+/);
      expect(JSON.parse(response.body).message.length).toBeGreaterThan(0);
      expect(await tableItems(store)).toEqual(before);
    },
  );

  it('a GitHub delivery in the form content type is told to choose application/json', async () => {
    const response = await webhook(
      functionUrlEvent('POST', '/github', form, {
        'content-type': 'application/x-www-form-urlencoded',
        'x-github-event': 'package',
        'x-hub-signature-256': sign(SECRETS.github, form),
      }),
    );
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).message).toContain("choose 'Content type: application/json'");
  });

  it('answers 503 with Retry-After when DynamoDB is unreachable, so the registry delivers again', async () => {
    const unreachable = new RolloutStore(
      sdkDocuments(
        new DynamoDBClient({
          endpoint: 'http://127.0.0.1:9',
          region: 'us-east-1',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          maxAttempts: 1,
        }),
      ),
      store.tableName,
    );
    const handler = createWebhookHandler({
      store: unreachable,
      secrets: async () => SECRETS,
      bindings: { harborHosts: [] },
      clock: Date.now,
    });
    const body = fixture('dockerhub-push.json');
    const response = (await handler(
      functionUrlEvent('POST', '/dockerhub/tok3n', body),
      lambdaContext('registry-webhook'),
    )) as Response;
    expect(response).toEqual({
      statusCode: 503,
      headers: { 'content-type': 'application/json', 'retry-after': '30' },
      body: JSON.stringify({ message: 'the rollout store is unavailable; deliver again later' }),
    });
  });

  it('never writes the Docker Hub token to a log line or a metric, whatever the answer', async () => {
    // Every log line and metric on, event logging included, as an operator debugging might set them.
    const saved = { ...process.env };
    Object.assign(process.env, { POWERTOOLS_LOGGER_LOG_EVENT: 'true', POWERTOOLS_METRICS_DISABLED: 'false' });
    const logger = new Logger({ serviceName: 'registry-webhook', logLevel: 'DEBUG' });
    const metrics = new Metrics({ namespace: 'ServerlessRollouts', serviceName: 'registry-webhook' });
    process.env = saved;
    const handler = createWebhookHandler(
      { store, secrets: async () => SECRETS, bindings: { harborHosts: [] }, clock: Date.now },
      { logger, metrics },
    );
    const written: string[] = [];
    const capture = (chunk: unknown) => {
      written.push(String(chunk));
      return true;
    };
    jest.spyOn(process.stdout, 'write').mockImplementation(capture as never);
    jest.spyOn(process.stderr, 'write').mockImplementation(capture as never);
    const push = fixture('dockerhub-push.json');
    const statuses = [];
    for (const [method, path, body] of [
      ['POST', '/dockerhub/tok3n', push],
      ['POST', '/dockerhub/tok3n', '{"push_data":{}}'],
      ['POST', '/dockerhub/tok3n', '{not json'],
      ['GET', '/dockerhub/tok3n', ''],
      ['POST', '/dockerhub/tok3n/extra', push],
      ['POST', '//dockerhub//tok3n', push],
      ['POST', '/dockerhub/tok3nX', push],
    ] as const)
      statuses.push(
        ((await handler(functionUrlEvent(method, path, body), lambdaContext('registry-webhook'))) as Response)
          .statusCode,
      );
    jest.restoreAllMocks();
    expect(statuses).toEqual([202, 400, 400, 405, 404, 202, 401]);
    const output = written.join('');
    expect(output).toContain('webhook rejected');
    expect(output).toContain('"CanariesQueued"');
    expect(output).not.toContain('tok3n');
  });
});

describe('ECR pushes', () => {
  it('start the canary of the pushed image and the VirtualServices reach 95/5', async () => {
    const event = ecrEvent();
    const accepted = await ecr(event);
    const image = `${ECR_REGISTRY}/rollouts-demo:yellow@sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234abcd`;
    expect(accepted.results).toEqual([
      { rollout: `default/${ecrRollout.namespace}/rollouts-demo`, image, result: 'queued' },
    ]);
    expect((await ecr(event)).results[0].result).toBe('duplicate');
    const paused = await passUntil(runnerDeps(store), ecrRollout, pausedAt(5), '95/5 after the ECR push');
    expect(paused.status.canaryImage).toBe(image);
    expect(await routeWeights(ecrRollout)).toEqual(everyRoute(95, 5));
  });

  it("drop another account's or region's push, and AWS's documented 60-hex example, writing nothing", async () => {
    const before = await tableItems(store);
    const foreign = { ...ecrEvent(), account: '210987654321', id: 'a-foreign-push' };
    expect(await ecr(foreign)).toEqual({
      ignored: `ecr may only push images of ${ECR_REGISTRY}, not 210987654321.dkr.ecr.us-east-1.amazonaws.com/rollouts-demo`,
    });
    expect((await ecr({ ...ecrEvent(), region: 'eu-west-1', id: 'another-region' })).ignored).toContain(
      'ecr may only push images of',
    );
    const documented = JSON.parse(fixture('ecr-image-action-aws-docs.json'));
    documented.region = 'us-east-1';
    documented.detail['repository-name'] = 'rollouts-demo';
    expect((await ecr(documented)).ignored).toContain('is not sha256: and 64 lowercase hex digits');
    expect(await tableItems(store)).toEqual(before);
  });

  it('ignore failed pushes and other events', async () => {
    const failed = ecrEvent();
    failed.detail.result = 'FAILURE';
    expect(await ecr(failed)).toEqual({ ignored: 'PUSH FAILURE is not a successful push' });
    expect((await ecr({ hello: 1 })).ignored).toContain('not an ECR Image Action event');
  });
});
