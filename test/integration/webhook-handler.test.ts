/** functions/registry-webhook.ts and functions/ecr-push.ts invoked with the providers' real shapes, against DynamoDB Local. */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { hmacSha256Hex } from '../../lib/core/triggers/signatures.js';
import { keyOf, type RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import type { Rollout } from '../../lib/core/model/rollout.js';
import { functionUrlEvent } from '../../lib/local/lambda-events.js';
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

const SECRETS = {
  github: 'gh-secret',
  harbor: 'Basic aGFyYm9yOnM=',
  dockerhubToken: 'tok3n',
  generic: 'ci-secret',
};
const fixture = (name: string) => readFileSync(`test/fixtures/webhooks/${name}`, 'utf8');
const sign = (secret: string, body: string) => `sha256=${hmacSha256Hex(secret, Buffer.from(body))}`;
const secretsManager = mockClient(SecretsManagerClient);
let store: RolloutStore;
let dockerHubRollout: Rollout;
let ghcrRollout: Rollout;
let ecrRollout: Rollout;
let webhook: (
  event: unknown,
) => Promise<{ statusCode: number; body: string; headers: Record<string, string> }>;
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
    doc.spec.trigger = { repository: 'ghcr.io/acme/rollouts-demo', tagPattern: '^v[0-9.]+$' };
  });
  ecrRollout = demoRolloutIn(
    namespace,
    (doc) =>
      (doc.spec.trigger = { repository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/rollouts-demo' }),
  );
  await applyDemo(namespace);
  for (const rollout of [dockerHubRollout, ghcrRollout, ecrRollout]) await store.apply(rollout, Date.now());
  secretsManager
    .on(GetSecretValueCommand, {
      SecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:rollouts-webhooks',
    })
    .resolves({ SecretString: JSON.stringify(SECRETS) });
  lambdaEnvironment(store.tableName, {
    WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:rollouts-webhooks',
  });
  delete process.env.WEBHOOK_SECRETS;
  delete process.env.EVENT_BUS_NAME;
  const webhookModule = await import('../../functions/registry-webhook.js');
  webhook = (event) => webhookModule.handler(event, lambdaContext('registry-webhook')) as any;
  const ecrModule = await import('../../functions/ecr-push.js');
  ecr = (event) => ecrModule.handler(event, lambdaContext('ecr-push'));
  await waitForAvailable(namespace, 'rollouts-demo-stable', 1);
});

describe('the registry webhook', () => {
  it('starts a canary from a signed GHCR package event, once per delivery and digest', async () => {
    const body = fixture('github-package-published.json');
    const headers = {
      'x-github-event': 'package',
      'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'x-hub-signature-256': sign(SECRETS.github, body),
    };
    const first = await webhook(functionUrlEvent('POST', '/github', body, headers, true));
    expect(first.statusCode).toBe(202);
    expect(JSON.parse(first.body).results).toEqual([
      {
        rollout: `default/${ghcrRollout.namespace}/ghcr-demo`,
        image:
          'ghcr.io/acme/rollouts-demo:v1.4.0@sha256:3f1b5e9c0b1f4b7d2d8e6a0c9e4f7a2b1c3d5e7f9a0b2c4d6e8f0a1b3c5d7e9f',
        result: 'queued',
      },
    ]);
    const again = await webhook(functionUrlEvent('POST', '/github', body, headers));
    expect(JSON.parse(again.body).results[0].result).toBe('duplicate');
    expect((await commandsOf(ghcrRollout)).map((c) => c.command)).toEqual([
      {
        kind: 'setImage',
        image:
          'ghcr.io/acme/rollouts-demo:v1.4.0@sha256:3f1b5e9c0b1f4b7d2d8e6a0c9e4f7a2b1c3d5e7f9a0b2c4d6e8f0a1b3c5d7e9f',
      },
    ]);
  });

  it('takes Docker Hub pushes by the token in the URL and rolls out the tag as pushed', async () => {
    const body = fixture('dockerhub-push.json');
    const response = await webhook(functionUrlEvent('POST', '/dockerhub/tok3n', body));
    expect(response.statusCode).toBe(202);
    expect((await commandsOf(dockerHubRollout)).map((c) => c.command)).toEqual([
      { kind: 'setImage', image: 'argoproj/rollouts-demo:yellow' },
    ]);
  });

  it('answers 202 with the reason when no Rollout matches', async () => {
    const body = JSON.stringify({ image: 'ghcr.io/acme/unknown:v1' });
    const response = await webhook(
      functionUrlEvent('POST', '/generic', body, { 'x-signature-256': sign(SECRETS.generic, body) }),
    );
    expect(response).toMatchObject({ statusCode: 202 });
    expect(JSON.parse(response.body)).toEqual({
      message: 'no rollout matches ghcr.io/acme/unknown',
      results: [],
    });
  });

  it.each([
    ['GET', '/github', '', {}, 405],
    ['POST', '/nowhere', '{}', {}, 404],
    ['POST', '/harbor', fixture('harbor-push-artifact.json'), { authorization: 'Basic wrong' }, 401],
    ['POST', '/github', '{"action":"published"}', { 'x-github-event': 'package' }, 401],
    ['POST', '/generic', '{not json', { 'x-signature-256': sign(SECRETS.generic, '{not json') }, 400],
  ])(
    '%s %s is refused with a reason, no stack trace and no change',
    async (method, path, body, headers, status) => {
      const before = await store.list();
      const response = await webhook(functionUrlEvent(method, path, body, headers));
      expect(response.statusCode).toBe(status);
      expect(response.body).not.toMatch(/at .*\.(ts|js):\d+/);
      expect(JSON.parse(response.body).message.length).toBeGreaterThan(0);
      expect(await store.list()).toEqual(before);
    },
  );

  it('never answers 5xx and never changes the store without a valid signature (property)', async () => {
    const before = JSON.stringify(await store.list());
    const beforeCommands = (await commandsOf(ecrRollout)).length;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/github', '/generic', '/harbor', '/dockerhub/nope', '/x'),
        fc.oneof(fc.json(), fc.string(), fc.constant(fixture('ecr-image-action.json'))),
        fc.option(fc.string(), { nil: undefined }),
        fc.boolean(),
        async (path, body, signature, base64) => {
          const response = await webhook(
            functionUrlEvent(
              'POST',
              path,
              body,
              signature === undefined
                ? {}
                : {
                    'x-signature-256': signature,
                    'x-hub-signature-256': signature,
                    authorization: signature,
                  },
              base64,
            ),
          );
          expect(response.statusCode).toBeLessThan(500);
        },
      ),
      { numRuns: 300 },
    );
    expect(JSON.stringify(await store.list())).toBe(before);
    expect((await commandsOf(ecrRollout)).length).toBe(beforeCommands);
  });
});

describe('ECR pushes', () => {
  it('start the canary of the pushed image and the VirtualServices reach 95/5', async () => {
    const event = JSON.parse(fixture('ecr-image-action.json'));
    const accepted = await ecr(event);
    const image =
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com/rollouts-demo:yellow@sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234abcd';
    expect(accepted.results).toEqual([
      { rollout: `default/${ecrRollout.namespace}/rollouts-demo`, image, result: 'queued' },
    ]);
    expect((await ecr(event)).results[0].result).toBe('duplicate');
    const paused = await passUntil(runnerDeps(store), ecrRollout, pausedAt(5), '95/5 after the ECR push');
    expect(paused.status.canaryImage).toBe(image);
    expect(await routeWeights(ecrRollout)).toEqual(everyRoute(95, 5));
  });

  it('ignore failed pushes and other events', async () => {
    const failed = JSON.parse(fixture('ecr-image-action.json'));
    failed.detail.result = 'FAILURE';
    expect(await ecr(failed)).toEqual({ ignored: 'PUSH FAILURE is not a successful push' });
    expect((await ecr({ hello: 1 })).ignored).toContain('not an ECR Image Action event');
  });
});
