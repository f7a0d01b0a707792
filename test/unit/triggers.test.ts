import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { canonicalRepository, imageFor, parseImageReference } from '../../lib/core/model/images.js';
import { matchPush } from '../../lib/core/triggers/match.js';
import {
  parseDockerHub,
  parseEcr,
  parseGeneric,
  parseGithub,
  parseHarbor,
} from '../../lib/core/triggers/payloads.js';
import { constantTimeEqual, hmacSha256Hex, verifySignature } from '../../lib/core/triggers/signatures.js';
import { decideWebhook, MAX_BODY_BYTES, type WebhookRequest } from '../../lib/core/triggers/webhook.js';
import { demoRollout } from './fixtures.js';

const fixture = (name: string) => readFileSync(`test/fixtures/webhooks/${name}`, 'utf8');
const json = (name: string) => JSON.parse(fixture(name));
const SECRETS = {
  github: 'gh-secret',
  harbor: 'Basic aGFyYm9yOnM=',
  dockerhubToken: 'tok3n',
  generic: 'ci-secret',
};
const sign = (secret: string, body: string) => `sha256=${hmacSha256Hex(secret, Buffer.from(body))}`;

function request(
  path: string,
  body: string,
  headers: Record<string, string> = {},
  method = 'POST',
): WebhookRequest {
  return { method, path, headers, body: Buffer.from(body) };
}

describe('image references', () => {
  it.each([
    ['nginx', { registry: 'docker.io', repository: 'library/nginx' }],
    ['argoproj/rollouts-demo', { registry: 'docker.io', repository: 'argoproj/rollouts-demo' }],
    ['docker.io/Argoproj/Rollouts-Demo', { registry: 'docker.io', repository: 'argoproj/rollouts-demo' }],
    ['index.docker.io/library/nginx', { registry: 'docker.io', repository: 'library/nginx' }],
    ['ghcr.io/acme/app', { registry: 'ghcr.io', repository: 'acme/app' }],
    ['localhost:5000/app', { registry: 'localhost:5000', repository: 'app' }],
    [
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app',
      { registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', repository: 'team/app' },
    ],
  ])('%s', (reference, expected) => {
    expect(canonicalRepository(reference)).toEqual(expected);
  });

  it('splits tag and digest and gives the image back pinned', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const parsed = parseImageReference(`localhost:5000/app:v1@${digest}`);
    expect(parsed).toEqual({ registry: 'localhost:5000', repository: 'app', tag: 'v1', digest });
    expect(imageFor(parsed!)).toBe(`localhost:5000/app:v1@${digest}`);
    expect(imageFor({ registry: 'docker.io', repository: 'library/nginx', tag: '1.27' })).toBe('nginx:1.27');
    expect(imageFor({ registry: 'docker.io', repository: 'argoproj/rollouts-demo', tag: 'yellow' })).toBe(
      'argoproj/rollouts-demo:yellow',
    );
  });

  it.each([['app@sha256:xyz'], ['app:bad tag'], ['-app'], ['']])('rejects %p', (reference) => {
    expect(parseImageReference(reference)).toBeUndefined();
  });
});

describe('provider payloads (their documented shapes)', () => {
  it('GHCR package published: repository, tag and digest', () => {
    expect(parseGithub('package', json('github-package-published.json'))).toEqual({
      ok: true,
      pushes: [
        {
          registry: 'ghcr.io',
          repository: 'acme/rollouts-demo',
          tag: 'v1.4.0',
          digest: 'sha256:3f1b5e9c0b1f4b7d2d8e6a0c9e4f7a2b1c3d5e7f9a0b2c4d6e8f0a1b3c5d7e9f',
        },
      ],
    });
    expect(parseGithub('registry_package', json('github-registry-package-published.json'))).toMatchObject({
      ok: true,
      pushes: [{ tag: 'v1.5.0' }],
    });
  });

  it('GitHub events that are not pushes are acknowledged and ignored', () => {
    expect(parseGithub('ping', {})).toEqual({ ok: true, pushes: [], ignored: 'ping' });
    const npm = { ...json('github-package-published.json') };
    npm.package = { ...npm.package, package_type: 'npm' };
    expect(parseGithub('package', npm)).toMatchObject({
      ok: true,
      pushes: [],
      ignored: "package type 'npm' is not a container image",
    });
    expect(parseGithub('push', {})).toEqual({
      ok: false,
      message: "X-GitHub-Event must be package or registry_package, found 'push'",
    });
  });

  it('Harbor PUSH_ARTIFACT', () => {
    expect(parseHarbor(json('harbor-push-artifact.json'))).toEqual({
      ok: true,
      pushes: [
        {
          registry: 'harbor.acme.internal',
          repository: 'payments/api',
          tag: 'v2.0.1',
          digest: 'sha256:b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2',
        },
      ],
    });
    expect(parseHarbor({ ...json('harbor-push-artifact.json'), type: 'DELETE_ARTIFACT' })).toMatchObject({
      ok: true,
      pushes: [],
    });
  });

  it('Docker Hub: the tag as pushed, no digest, a delivery id from pushed_at', () => {
    expect(parseDockerHub(json('dockerhub-push.json'))).toEqual({
      ok: true,
      pushes: [{ registry: 'docker.io', repository: 'argoproj/rollouts-demo', tag: 'yellow' }],
      deliveryId: 'dockerhub:argoproj/rollouts-demo:yellow:1764064873',
    });
  });

  it('ECR Image Action: the full ECR URI, successful pushes only', () => {
    expect(parseEcr(json('ecr-image-action.json'))).toEqual({
      ok: true,
      pushes: [
        {
          registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
          repository: 'rollouts-demo',
          tag: 'yellow',
          digest: 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234abcd',
        },
      ],
    });
    const failed = json('ecr-image-action.json');
    failed.detail.result = 'FAILURE';
    expect(parseEcr(failed)).toMatchObject({
      ok: true,
      pushes: [],
      ignored: 'PUSH FAILURE is not a successful push',
    });
    expect(parseEcr({ source: 'aws.s3' }).ok).toBe(false);
  });

  it('generic: image with optional tag and digest', () => {
    expect(parseGeneric({ image: 'argoproj/rollouts-demo:yellow' })).toMatchObject({
      ok: true,
      pushes: [{ repository: 'argoproj/rollouts-demo', tag: 'yellow' }],
    });
    expect(parseGeneric({ image: 'argoproj/rollouts-demo', tag: 'v1', digest: 'sha256:1234' })).toEqual({
      ok: false,
      message: "digest: 'sha256:1234' is not a digest such as sha256:<hex>",
    });
    expect(parseGeneric({ image: 'argoproj/rollouts-demo' })).toEqual({
      ok: false,
      message: 'image: give a tag or a digest to roll out',
    });
    expect(parseGeneric({ img: 'x' })).toMatchObject({
      ok: false,
      message: expect.stringContaining('expected {image, tag?, digest?}: image:'),
    });
  });
});

describe('signatures', () => {
  it('verify HMAC-SHA256 over the exact bytes', () => {
    const body = Buffer.from('{"a":1}');
    expect(verifySignature('s', body, sign('s', '{"a":1}'))).toBe(true);
    expect(verifySignature('s', Buffer.from('{"a": 1}'), sign('s', '{"a":1}'))).toBe(false);
    expect(verifySignature('s', body, sign('t', '{"a":1}'))).toBe(false);
    expect(verifySignature('', body, sign('', '{"a":1}'))).toBe(false);
    expect(verifySignature('s', body, undefined)).toBe(false);
  });
  it('compare secrets of any length without throwing', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('abc', '')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(false);
  });
});

describe('the webhook', () => {
  const github = fixture('github-package-published.json');

  it('accepts a signed GitHub package event with its delivery id', () => {
    const decision = decideWebhook(
      request('/github', github, {
        'x-hub-signature-256': sign('gh-secret', github),
        'x-github-event': 'package',
        'x-github-delivery': 'd-1',
      }),
      SECRETS,
    );
    expect(decision).toMatchObject({
      kind: 'push',
      provider: 'github',
      deliveryId: 'd-1',
      pushes: [{ repository: 'acme/rollouts-demo' }],
    });
  });

  it.each([
    ['unknown route', request('/gitlab', '{}'), 404],
    ['wrong method', request('/github', '', {}, 'GET'), 405],
    ['body over 1 MiB', request('/generic', 'x'.repeat(MAX_BODY_BYTES + 1)), 413],
    ['missing signature', request('/github', github, { 'x-github-event': 'package' }), 401],
    [
      'bad signature',
      request('/github', github, {
        'x-github-event': 'package',
        'x-hub-signature-256': sign('nope', github),
      }),
      401,
    ],
    ['wrong Docker Hub token', request('/dockerhub/guess', fixture('dockerhub-push.json')), 401],
    [
      'wrong Harbor secret',
      request('/harbor', fixture('harbor-push-artifact.json'), { authorization: 'Basic x' }),
      401,
    ],
    [
      'malformed JSON',
      request('/generic', '{"image":', { 'x-signature-256': sign('ci-secret', '{"image":') }),
      400,
    ],
    [
      'wrong shape',
      request('/generic', '{"image":3}', { 'x-signature-256': sign('ci-secret', '{"image":3}') }),
      400,
    ],
  ])('rejects %s', (_, req, status) => {
    const decision = decideWebhook(req, SECRETS);
    expect(decision).toMatchObject({ kind: 'reject', status });
    expect(decision.kind === 'reject' && decision.message.length).toBeGreaterThan(0);
  });

  it('checks the signature before it reads the body', () => {
    expect(decideWebhook(request('/generic', 'not json'), SECRETS)).toMatchObject({
      kind: 'reject',
      status: 401,
    });
  });

  it('never throws and never accepts without a valid signature, whatever arrives (property)', () => {
    const bodies = fc.oneof(
      fc.string(),
      fc.json(),
      fc.constantFrom(
        github,
        fixture('harbor-push-artifact.json'),
        fixture('dockerhub-push.json'),
        '{"image":"nginx:1"}',
      ),
      fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    );
    const paths = fc.constantFrom(
      '/github',
      '/harbor',
      '/generic',
      '/dockerhub/tok3n',
      '/dockerhub/x',
      '/',
      '/github/extra',
      '/%00',
    );
    const headerValues = fc.option(
      fc.oneof(fc.string(), fc.constantFrom('sha256=', 'sha256=00', SECRETS.harbor, 'package')),
      { nil: undefined },
    );
    fc.assert(
      fc.property(
        bodies,
        paths,
        fc.constantFrom('POST', 'GET', 'PUT', 'post'),
        headerValues,
        headerValues,
        (body, path, method, signature, event) => {
          const headers: Record<string, string | undefined> = {
            'x-hub-signature-256': signature,
            'x-signature-256': signature,
            'x-github-event': event,
            authorization: signature,
          };
          const decision = decideWebhook(
            { method, path, headers, body: Buffer.from(body, 'latin1') },
            SECRETS,
          );
          if (decision.kind === 'reject') expect([400, 401, 404, 405, 413]).toContain(decision.status);
          const signedGeneric = signature === sign('ci-secret', body);
          const signedGithub = signature === sign('gh-secret', body);
          const harbor = signature === SECRETS.harbor;
          const dockerhub = path === '/dockerhub/tok3n';
          if (decision.kind !== 'reject')
            expect(signedGeneric || signedGithub || harbor || dockerhub).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('accepts every correctly signed mutation only when it still parses (property)', () => {
    fc.assert(
      fc.property(fc.json(), (body) => {
        const decision = decideWebhook(
          request('/generic', body, { 'x-signature-256': sign('ci-secret', body) }),
          SECRETS,
        );
        expect(['push', 'reject']).toContain(decision.kind);
        if (decision.kind === 'reject') expect(decision.status).toBe(400);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('matching pushes to Rollouts', () => {
  const rollout = demoRollout(
    (doc) => (doc.spec.trigger = { repository: 'argoproj/rollouts-demo', tagPattern: '^(yellow|v[0-9.]+)$' }),
  );
  const other = demoRollout((doc) => {
    doc.metadata.name = 'other';
    doc.spec.trigger = { repository: 'ghcr.io/acme/app' };
  });

  it('matches by canonical repository and tag pattern, pinned by digest', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    const matches = matchPush(
      { registry: 'docker.io', repository: 'argoproj/rollouts-demo', tag: 'yellow', digest },
      [rollout, other],
    );
    expect(matches).toEqual([
      {
        rollout,
        command: { kind: 'setImage', image: `argoproj/rollouts-demo:yellow@${digest}` },
        dedupeKey: `digest:${digest}`,
      },
    ]);
  });

  it('skips tags the pattern refuses, and digest-only pushes when a pattern is set', () => {
    expect(
      matchPush({ registry: 'docker.io', repository: 'argoproj/rollouts-demo', tag: 'latest' }, [rollout]),
    ).toEqual([]);
    expect(
      matchPush(
        { registry: 'docker.io', repository: 'argoproj/rollouts-demo', digest: `sha256:${'c'.repeat(64)}` },
        [rollout],
      ),
    ).toEqual([]);
  });

  it('keys a push without digest by its delivery', () => {
    const [match] = matchPush(
      { registry: 'docker.io', repository: 'argoproj/rollouts-demo', tag: 'v2' },
      [rollout],
      'd-9',
    );
    expect(match?.dedupeKey).toBe('delivery:d-9');
  });
});
