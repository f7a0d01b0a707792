import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  canonicalRepository,
  imageFor,
  parseImageReference,
  validateImage,
} from '../../lib/core/model/images.js';
import { parseRollout } from '../../lib/core/model/rollout.js';
import { compileTagPattern } from '../../lib/core/model/tag-pattern.js';
import { bindPushes, parseHarborHosts } from '../../lib/core/triggers/bindings.js';
import { decideEcr } from '../../lib/core/triggers/ecr.js';
import { matchPush } from '../../lib/core/triggers/match.js';
import {
  parseDockerHub,
  parseEcr,
  parseGeneric,
  parseGithub,
  parseHarbor,
} from '../../lib/core/triggers/payloads.js';
import {
  constantTimeEqual,
  hmacSha256Hex,
  sha256Hex,
  signGeneric,
  verifySignature,
} from '../../lib/core/triggers/signatures.js';
import {
  decideWebhook,
  MAX_BODY_BYTES,
  type WebhookConfig,
  type WebhookRequest,
} from '../../lib/core/triggers/webhook.js';
import { demoRollout, demoRolloutDocument } from './fixtures.js';

const fixture = (name: string) => readFileSync(`test/fixtures/webhooks/${name}`, 'utf8');
const json = (name: string) => JSON.parse(fixture(name));
const NOW = 1_764_108_000;
const CONFIG: WebhookConfig = {
  secrets: {
    github: 'gh-secret',
    harbor: 'Basic aGFyYm9yOnM=',
    dockerhubToken: 'tok3n',
    generic: 'ci-secret',
  },
  bindings: { harborHosts: ['harbor.acme.internal', 'localhost'] },
  nowSeconds: NOW,
};
const sign = (secret: string, body: string) => `sha256=${hmacSha256Hex(secret, Buffer.from(body))}`;
const signed = (body: string, at = NOW) => signGeneric('ci-secret', Buffer.from(body), at);
const DIGEST = `sha256:${'a'.repeat(64)}`;

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
    const parsed = parseImageReference(`localhost:5000/app:v1@${DIGEST}`);
    expect(parsed).toEqual({
      ok: true,
      value: { registry: 'localhost:5000', repository: 'app', tag: 'v1', digest: DIGEST },
    });
    expect(imageFor(parsed.ok ? parsed.value : ({} as never))).toBe(`localhost:5000/app:v1@${DIGEST}`);
    expect(imageFor({ registry: 'docker.io', repository: 'library/nginx', tag: '1.27' })).toBe('nginx:1.27');
    expect(imageFor({ registry: 'docker.io', repository: 'argoproj/rollouts-demo', tag: 'yellow' })).toBe(
      'argoproj/rollouts-demo:yellow',
    );
  });

  it.each([
    ['app@sha256:xyz', 'digest'],
    ['app:bad tag', 'tag'],
    ['-app', 'repository'],
    ['', 'repository'],
    // AWS's documented ECR example: 60 hex digits, not 64.
    [`app@sha256:${'7'.repeat(60)}`, 'digest'],
    [`app@sha256:${'A'.repeat(64)}`, 'digest'],
    [`app@md5:${'a'.repeat(32)}`, 'digest'],
    [`app:${'t'.repeat(129)}`, 'tag'],
    ['app:.hidden', 'tag'],
    ['ghcr.io/acme/app--/x:v1', 'repository'],
    ['ghcr.io/acme/_app:v1', 'repository'],
    ['ghcr.io/acme//app:v1', 'repository'],
    ['bad_host.io/acme/app:v1', 'registry'],
    [`ghcr.io/${'a'.repeat(250)}:v1`, 'characters'],
  ])('rejects %p, naming the %s', (reference, what) => {
    const parsed = parseImageReference(reference);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toContain(what);
  });

  it.each([
    [`app@sha512:${'b'.repeat(128)}`],
    ['ghcr.io/a.b/c__d/e---f:V_1.2-rc'],
    ['[::1]:5000/app:v1'],
    [`ghcr.io/${'a'.repeat(247)}:${'t'.repeat(128)}`],
  ])('accepts %p', (reference) => {
    expect(parseImageReference(reference).ok).toBe(true);
  });

  it('bounds the whole name at 255 characters', () => {
    const repository = 'a'.repeat(255 - 'ghcr.io/'.length);
    expect(validateImage({ registry: 'ghcr.io', repository, tag: 'v1' }).ok).toBe(true);
    expect(validateImage({ registry: 'ghcr.io', repository: `${repository}a`, tag: 'v1' })).toEqual({
      ok: false,
      error:
        "image name 'ghcr.io/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…' is 256 characters; the limit is 255",
    });
  });
});

describe('provider payloads (their documented shapes)', () => {
  it('GHCR package published: repository, tag and digest', () => {
    expect(parseGithub('package', json('github-package-published.json'))).toEqual({
      ok: true,
      value: {
        pushes: [
          {
            registry: 'ghcr.io',
            repository: 'acme/rollouts-demo',
            tag: 'v1.4.0',
            digest: 'sha256:3f1b5e9c0b1f4b7d2d8e6a0c9e4f7a2b1c3d5e7f9a0b2c4d6e8f0a1b3c5d7e9f',
          },
        ],
      },
    });
    expect(parseGithub('registry_package', json('github-registry-package-published.json'))).toMatchObject({
      ok: true,
      value: { pushes: [{ tag: 'v1.5.0' }] },
    });
  });

  it("GHCR names the image by the package's owner, whatever its namespace says (GitHub's examples give owner/repo there)", () => {
    const body = json('github-package-published.json');
    body.package.namespace = 'acme/rollouts-demo-source';
    body.package.owner.login = 'Acme';
    expect(parseGithub('package', body)).toMatchObject({
      ok: true,
      value: { pushes: [{ registry: 'ghcr.io', repository: 'acme/rollouts-demo', tag: 'v1.4.0' }] },
    });
  });

  it('GitHub events that are not pushes are acknowledged and ignored', () => {
    expect(parseGithub('ping', {})).toEqual({ ok: true, value: { pushes: [], ignored: 'ping' } });
    const npm = { ...json('github-package-published.json') };
    npm.package = { ...npm.package, package_type: 'npm' };
    expect(parseGithub('package', npm)).toEqual({
      ok: true,
      value: { pushes: [], ignored: "package type 'npm' is not a container image" },
    });
    expect(parseGithub('push', {})).toEqual({
      ok: false,
      error: "X-GitHub-Event must be package or registry_package, found 'push'",
    });
  });

  it('a GitHub package whose digest is malformed is an error, not a push without digest', () => {
    const body = json('github-package-published.json');
    body.package.package_version.container_metadata.tag.digest = `sha256:${'3'.repeat(60)}`;
    body.package.package_version.version = body.package.package_version.container_metadata.tag.digest;
    expect(parseGithub('package', body)).toEqual({
      ok: false,
      error: `digest 'sha256:${'3'.repeat(60)}' is not sha256: and 64 lowercase hex digits (or sha512: and 128)`,
    });
  });

  it('Harbor PUSH_ARTIFACT, Default format', () => {
    expect(parseHarbor(json('harbor-push-artifact.json'))).toEqual({
      ok: true,
      value: {
        pushes: [
          {
            registry: 'harbor.acme.internal',
            repository: 'payments/api',
            tag: 'v2.0.1',
            digest: 'sha256:b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2',
          },
        ],
      },
    });
    expect(parseHarbor({ ...json('harbor-push-artifact.json'), type: 'DELETE_ARTIFACT' })).toEqual({
      ok: true,
      value: { pushes: [], ignored: "event type 'DELETE_ARTIFACT' is not a push" },
    });
  });

  it('Harbor harbor.artifact.pushed, CloudEvents format', () => {
    expect(parseHarbor(json('harbor-cloudevents-push-tagged.json'))).toEqual({
      ok: true,
      value: {
        pushes: [
          {
            registry: 'harbor.acme.internal',
            repository: 'payments/api',
            tag: 'v2.0.2',
            digest: 'sha256:b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2',
          },
        ],
      },
    });
    const pulled = { ...json('harbor-cloudevents-push-tagged.json'), type: 'harbor.artifact.pulled' };
    expect(parseHarbor(pulled)).toEqual({
      ok: true,
      value: { pushes: [], ignored: "event type 'harbor.artifact.pulled' is not a push" },
    });
  });

  it.each([['harbor-cloudevents-push-by-digest.json'], ['harbor-default-push-by-digest.json']])(
    "Harbor's push by digest (%s, from Harbor's documentation): the tag equal to the digest means no tag",
    (name) => {
      expect(parseHarbor(json(name))).toEqual({
        ok: true,
        value: {
          pushes: [
            {
              registry: 'localhost',
              repository: 'harbor/alpine',
              digest: 'sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4',
            },
          ],
        },
      });
    },
  );

  it('Docker Hub: the tag as pushed, no digest', () => {
    expect(parseDockerHub(json('dockerhub-push.json'))).toEqual({
      ok: true,
      value: { pushes: [{ registry: 'docker.io', repository: 'argoproj/rollouts-demo', tag: 'yellow' }] },
    });
  });

  it('ECR Image Action: the full ECR URI, successful pushes only', () => {
    expect(parseEcr(json('ecr-image-action.json'))).toEqual({
      ok: true,
      value: {
        pushes: [
          {
            registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
            repository: 'rollouts-demo',
            tag: 'yellow',
            digest: 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234abcd',
          },
        ],
      },
    });
    const failed = json('ecr-image-action.json');
    failed.detail.result = 'FAILURE';
    expect(parseEcr(failed)).toEqual({
      ok: true,
      value: { pushes: [], ignored: 'PUSH FAILURE is not a successful push' },
    });
    expect(parseEcr({ source: 'aws.s3' }).ok).toBe(false);
  });

  it("AWS's documented ECR example (a 60-hex digest) is rejected, never a push", () => {
    expect(parseEcr(json('ecr-image-action-aws-docs.json'))).toEqual({
      ok: false,
      error:
        "digest 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234' is not sha256: and 64 lowercase hex digits (or sha512: and 128)",
    });
  });

  it('generic: image with optional tag and digest', () => {
    expect(parseGeneric({ image: 'argoproj/rollouts-demo:yellow' })).toMatchObject({
      ok: true,
      value: { pushes: [{ repository: 'argoproj/rollouts-demo', tag: 'yellow' }] },
    });
    expect(parseGeneric({ image: 'argoproj/rollouts-demo', tag: 'v1', digest: 'sha256:1234' })).toEqual({
      ok: false,
      error: "digest 'sha256:1234' is not sha256: and 64 lowercase hex digits (or sha512: and 128)",
    });
    expect(parseGeneric({ image: 'argoproj/rollouts-demo', tag: '-v1' })).toMatchObject({
      ok: false,
      error: expect.stringContaining("tag '-v1' is not a tag"),
    });
    expect(parseGeneric({ image: 'argoproj/rollouts-demo' })).toEqual({
      ok: false,
      error: 'image: give a tag or a digest to roll out',
    });
    expect(parseGeneric({ img: 'x' })).toMatchObject({
      ok: false,
      error: expect.stringContaining('expected {image, tag?, digest?}: image:'),
    });
  });
});

describe('provider bindings', () => {
  const push = (registry: string) => ({ registry, repository: 'acme/app', tag: 'v1' });
  const bindings = {
    harborHosts: ['harbor.acme.internal'],
    ecr: { account: '123456789012', region: 'eu-west-1' },
  };

  it.each([
    ['dockerhub', 'docker.io', true],
    ['dockerhub', 'ghcr.io', false],
    ['dockerhub', '123456789012.dkr.ecr.eu-west-1.amazonaws.com', false],
    ['github', 'ghcr.io', true],
    ['github', 'docker.io', false],
    ['harbor', 'harbor.acme.internal', true],
    ['harbor', 'evil.example.com', false],
    ['harbor', 'docker.io', false],
    ['ecr', '123456789012.dkr.ecr.eu-west-1.amazonaws.com', true],
    ['ecr', '210987654321.dkr.ecr.eu-west-1.amazonaws.com', false],
    ['ecr', '123456789012.dkr.ecr.us-east-1.amazonaws.com', false],
    ['generic', 'anything.example.com', true],
  ] as const)('%s may claim %s: %s', (provider, registry, allowed) => {
    const bound = bindPushes(provider, [push(registry)], bindings);
    expect(bound.claimed.length).toBe(allowed ? 1 : 0);
    expect(bound.refused.length).toBe(allowed ? 0 : 1);
  });

  it('reads HARBOR_HOSTS and refuses a malformed host', () => {
    expect(parseHarborHosts(' Harbor.acme.internal , registry.acme.io:8443,')).toEqual({
      ok: true,
      value: ['harbor.acme.internal', 'registry.acme.io:8443'],
    });
    expect(parseHarborHosts(undefined)).toEqual({ ok: true, value: [] });
    expect(parseHarborHosts('harbor.acme.internal,https://x')).toEqual({
      ok: false,
      error: "HARBOR_HOSTS: 'https://x' not a host name with an optional :port",
    });
  });

  it('ECR events: only this account and region, and never a malformed digest', () => {
    const mine = { account: '123456789012', region: 'eu-west-1' };
    expect(decideEcr(json('ecr-image-action.json'), mine)).toMatchObject({
      kind: 'push',
      deliveryKeys: ['ecr:13cde686-328b-6117-af20-0e5566167482'],
    });
    expect(decideEcr(json('ecr-image-action.json'), { ...mine, account: '210987654321' })).toEqual({
      kind: 'drop',
      reason:
        'ecr may only push images of 210987654321.dkr.ecr.eu-west-1.amazonaws.com, not 123456789012.dkr.ecr.eu-west-1.amazonaws.com/rollouts-demo',
    });
    expect(decideEcr(json('ecr-image-action.json'), { ...mine, region: 'us-east-1' }).kind).toBe('drop');
    const documented = json('ecr-image-action-aws-docs.json');
    expect(decideEcr(documented, { account: '123456789012', region: 'us-west-2' })).toMatchObject({
      kind: 'drop',
      reason: expect.stringContaining('is not sha256: and 64 lowercase hex digits'),
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
  it('the generic scheme signs "<timestamp>.<body>", as the README\'s openssl line does', () => {
    // printf '%s.%s' 1764108000 '{"image":"nginx:1"}' | openssl dgst -sha256 -hmac ci-secret
    expect(signGeneric('ci-secret', Buffer.from('{"image":"nginx:1"}'), NOW + 0.9)).toEqual({
      'x-signature-timestamp': '1764108000',
      'x-signature-256': `sha256=${hmacSha256Hex('ci-secret', Buffer.from('1764108000.{"image":"nginx:1"}'))}`,
    });
  });
});

describe('the webhook', () => {
  const github = fixture('github-package-published.json');
  const githubHeaders = {
    'x-hub-signature-256': sign('gh-secret', github),
    'x-github-event': 'package',
    'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
  };

  it('accepts a signed GitHub package event, keyed by its delivery id and its body', () => {
    expect(decideWebhook(request('/github', github, githubHeaders), CONFIG)).toEqual({
      kind: 'push',
      provider: 'github',
      deliveryKeys: ['github:72d3162e-cc78-11e3-81ab-4c9367dc0958', `body:${sha256Hex(Buffer.from(github))}`],
      pushes: [expect.objectContaining({ registry: 'ghcr.io', repository: 'acme/rollouts-demo' })],
      refused: [],
    });
  });

  it('refuses a GitHub delivery id that is not a GUID before it can reach the store', () => {
    const decision = decideWebhook(
      request('/github', github, { ...githubHeaders, 'x-github-delivery': 'x'.repeat(2000) }),
      CONFIG,
    );
    expect(decision).toEqual({
      kind: 'reject',
      status: 400,
      message: 'X-GitHub-Delivery must be the GUID GitHub sends (letters, digits and -, at most 64)',
    });
  });

  it('a GitHub delivery in the form content type gets a 400 that says to choose application/json', () => {
    const form = `payload=${encodeURIComponent(github)}`;
    const decision = decideWebhook(
      request('/github', form, {
        ...githubHeaders,
        'content-type': 'application/x-www-form-urlencoded',
        'x-hub-signature-256': sign('gh-secret', form),
      }),
      CONFIG,
    );
    expect(decision).toMatchObject({ kind: 'reject', status: 400 });
    expect(decision.kind === 'reject' && decision.message).toContain('application/json');
  });

  describe('generic endpoint replay protection', () => {
    const body = '{"image":"ghcr.io/acme/app:v1"}';

    it('accepts a fresh signature and keys the delivery by the hash of what was signed', () => {
      expect(decideWebhook(request('/generic', body, signed(body)), CONFIG)).toEqual({
        kind: 'push',
        provider: 'generic',
        pushes: [{ registry: 'ghcr.io', repository: 'acme/app', tag: 'v1' }],
        deliveryKeys: [`body:${sha256Hex(Buffer.from(`${NOW}.${body}`))}`],
        refused: [],
      });
    });

    it('ignores the unsigned X-Delivery-Id header', () => {
      const a = decideWebhook(request('/generic', body, { ...signed(body), 'x-delivery-id': 'a' }), CONFIG);
      const b = decideWebhook(request('/generic', body, { ...signed(body), 'x-delivery-id': 'b' }), CONFIG);
      expect(a.kind === 'push' && a.deliveryKeys).toEqual(b.kind === 'push' && b.deliveryKeys);
    });

    it.each([
      ['no timestamp', { 'x-signature-256': signed(body)['x-signature-256'] }, 'X-Signature-Timestamp'],
      [
        'a malformed timestamp',
        { ...signed(body), 'x-signature-timestamp': '17641080OO' },
        'X-Signature-Timestamp',
      ],
      [
        'a timestamp not signed',
        { ...signed(body), 'x-signature-timestamp': String(NOW + 1) },
        'X-Signature-256',
      ],
      [
        'the old body-only signature',
        { 'x-signature-timestamp': String(NOW), 'x-signature-256': sign('ci-secret', body) },
        'X-Signature-256',
      ],
      ['a signature 301 s old', signed(body, NOW - 301), 'the limit is 300 s'],
      ['a signature 301 s ahead', signed(body, NOW + 301), 'the limit is 300 s'],
    ])('401 for %s', (_, headers, reason) => {
      const decision = decideWebhook(request('/generic', body, headers), CONFIG);
      expect(decision).toMatchObject({ kind: 'reject', status: 401 });
      expect(decision.kind === 'reject' && decision.message).toContain(reason);
    });

    it('accepts a signature exactly 300 s old', () => {
      expect(decideWebhook(request('/generic', body, signed(body, NOW - 300)), CONFIG).kind).toBe('push');
    });
  });

  describe('bindings', () => {
    it("Docker Hub's token cannot claim a GHCR image: 202 with the reason", () => {
      const body = JSON.stringify({
        ...json('dockerhub-push.json'),
        repository: { repo_name: 'ghcr.io/acme/app' },
      });
      expect(decideWebhook(request('/dockerhub/tok3n', body), CONFIG)).toEqual({
        kind: 'ignore',
        provider: 'dockerhub',
        message: 'ignored: dockerhub may only push images of docker.io, not ghcr.io/acme/app',
      });
    });

    it("Harbor's host comes from HARBOR_HOSTS, not from the payload", () => {
      const body = fixture('harbor-push-artifact.json').replace('harbor.acme.internal', 'ghcr.io');
      const headers = { authorization: 'Basic aGFyYm9yOnM=' };
      expect(decideWebhook(request('/harbor', body, headers), CONFIG)).toEqual({
        kind: 'ignore',
        provider: 'harbor',
        message:
          'ignored: harbor may only push images of harbor.acme.internal, localhost, not ghcr.io/payments/api',
      });
      const harbor = fixture('harbor-cloudevents-push-tagged.json');
      expect(decideWebhook(request('/harbor', harbor, headers), CONFIG)).toMatchObject({
        kind: 'push',
        pushes: [{ registry: 'harbor.acme.internal', repository: 'payments/api', tag: 'v2.0.2' }],
      });
      const unconfigured = { ...CONFIG, bindings: { harborHosts: [] } };
      expect(decideWebhook(request('/harbor', harbor, headers), unconfigured)).toMatchObject({
        kind: 'ignore',
        message: expect.stringContaining('(no registry configured)'),
      });
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
    ['malformed JSON', request('/generic', '{"image":', signed('{"image":')), 400],
    ['wrong shape', request('/generic', '{"image":3}', signed('{"image":3}')), 400],
    [
      'a signed absurd tag',
      request(
        '/generic',
        JSON.stringify({ image: `a/b:${'x'.repeat(5000)}` }),
        signed(JSON.stringify({ image: `a/b:${'x'.repeat(5000)}` })),
      ),
      400,
    ],
  ])('rejects %s', (_, req, status) => {
    const decision = decideWebhook(req, CONFIG);
    expect(decision).toMatchObject({ kind: 'reject', status });
    expect(decision.kind === 'reject' && decision.message.length).toBeGreaterThan(0);
  });

  it('never echoes the path: under /dockerhub/ it is the token', () => {
    for (const path of ['/dockerhub/tok3n/extra', '/dockerhub/tok3n', '/dockerhub/s3cret-guess']) {
      const decision = decideWebhook(request(path, '{}', {}, 'GET'), CONFIG);
      expect(decision.kind === 'reject' && decision.message).not.toContain('tok3n');
      expect(JSON.stringify(decision)).not.toMatch(/tok3n|s3cret/);
    }
    const wrongShape = decideWebhook(request('/dockerhub/tok3n', '{"x":1}'), CONFIG);
    expect(wrongShape).toMatchObject({ kind: 'reject', status: 400 });
    expect(JSON.stringify(wrongShape)).not.toContain('tok3n');
  });

  it('checks the signature before it reads the body', () => {
    expect(decideWebhook(request('/generic', 'not json'), CONFIG)).toMatchObject({
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
        fixture('harbor-cloudevents-push-by-digest.json'),
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
      fc.oneof(fc.string(), fc.constantFrom('sha256=', 'sha256=00', CONFIG.secrets.harbor!, 'package')),
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
            'x-signature-timestamp': String(NOW),
            'x-github-event': event,
            authorization: signature,
          };
          const decision = decideWebhook(
            { method, path, headers, body: Buffer.from(body, 'latin1') },
            CONFIG,
          );
          if (decision.kind === 'reject') expect([400, 401, 404, 405, 413]).toContain(decision.status);
          const signedGeneric = signature === signed(body)['x-signature-256'];
          const signedGithub = signature === sign('gh-secret', body);
          const harbor = signature === CONFIG.secrets.harbor;
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
        const decision = decideWebhook(request('/generic', body, signed(body)), CONFIG);
        expect(['push', 'reject']).toContain(decision.kind);
        if (decision.kind === 'reject') expect(decision.status).toBe(400);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('tag patterns (RE2: linear time, whole tag)', () => {
  it('a pattern that backtracks exponentially in JavaScript answers at once', () => {
    const pattern = compileTagPattern('^v(\\d+\\.?)+$');
    expect(pattern.ok).toBe(true);
    const matches = pattern.ok ? pattern.value : () => true;
    // 34 characters: JavaScript's RegExp takes about 47 s to say no.
    expect(matches(`v${'1'.repeat(32)}x`)).toBe(false);
    expect(matches('v1.2.3')).toBe(true);
  });

  it('must match the whole tag, anchored or not', () => {
    const pattern = compileTagPattern('v[0-9]+');
    const matches = pattern.ok ? pattern.value : () => true;
    expect(matches('v12')).toBe(true);
    expect(matches('v12-rc1')).toBe(false);
    expect(matches('xv12')).toBe(false);
  });

  it('apply refuses a pattern RE2 cannot compile, with the reason', () => {
    const doc = structuredClone(demoRolloutDocument()) as any;
    doc.spec.trigger = { repository: 'argoproj/rollouts-demo', tagPattern: '^(?!latest$).*' };
    const parsed = parseRollout(doc);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toEqual([
      "spec.trigger.tagPattern: '^(?!latest$).*' is not an RE2 regular expression: error parsing regexp: invalid or unsupported Perl syntax: `(?!`",
    ]);
  });
});

describe('trigger repositories', () => {
  const triggered = (repository: string) => {
    const doc = structuredClone(demoRolloutDocument()) as any;
    doc.spec.trigger = { repository };
    return parseRollout(doc);
  };

  it('apply takes any repository a registry could serve, in any spelling that names it', () => {
    for (const repository of [
      'nginx',
      'argoproj/rollouts-demo',
      'ghcr.io/Acme/Rollouts-Demo',
      'localhost:5000/team/app',
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/rollouts-demo',
    ])
      expect(triggered(repository).ok).toBe(true);
  });

  it('apply refuses one no push could ever match, with the reason', () => {
    expect(triggered('ghcr.io/acme/app:v1')).toEqual({
      ok: false,
      error: [
        "spec.trigger.repository: 'ghcr.io/acme/app:v1' must name the repository only, without a tag or digest (tagPattern selects tags)",
      ],
    });
    expect(triggered('ghcr.io/acme/my app')).toEqual({
      ok: false,
      error: [
        "spec.trigger.repository: repository 'acme/my app' is not a repository path: lowercase letters and digits, separated by '.', '_', '__', '-' or '/'",
      ],
    });
    expect(triggered(`ghcr.io/${'a'.repeat(300)}`).ok).toBe(false);
  });
});

describe('matching pushes to Rollouts', () => {
  const rollout = demoRollout(
    (doc) => (doc.spec.trigger = { repository: 'argoproj/rollouts-demo', tagPattern: 'yellow|v[0-9.]+' }),
  );
  const other = demoRollout((doc) => {
    doc.metadata.name = 'other';
    doc.spec.trigger = { repository: 'ghcr.io/acme/app' };
  });
  const keys = ['body:1234'];

  it('matches by canonical repository and tag pattern, pinned by digest', () => {
    const { matches } = matchPush(
      { registry: 'docker.io', repository: 'argoproj/rollouts-demo', tag: 'yellow', digest: DIGEST },
      [rollout, other],
      keys,
    );
    expect(matches).toEqual([
      {
        rollout,
        command: { kind: 'setImage', image: `argoproj/rollouts-demo:yellow@${DIGEST}` },
        dedupeKeys: [`digest:${DIGEST}`, 'body:1234'],
      },
    ]);
  });

  it('skips tags the pattern refuses (the whole tag must match), and digest-only pushes when a pattern is set', () => {
    const base = { registry: 'docker.io', repository: 'argoproj/rollouts-demo' };
    expect(matchPush({ ...base, tag: 'latest' }, [rollout], keys).matches).toEqual([]);
    expect(matchPush({ ...base, tag: 'yellow-debug' }, [rollout], keys).matches).toEqual([]);
    expect(matchPush({ ...base, digest: DIGEST }, [rollout], keys).matches).toEqual([]);
  });

  it('keys a push without digest by its delivery', () => {
    const { matches } = matchPush(
      { registry: 'docker.io', repository: 'argoproj/rollouts-demo', tag: 'v2' },
      [rollout],
      ['github:d-9', 'body:ff'],
    );
    expect(matches[0]?.dedupeKeys).toEqual(['github:d-9', 'body:ff']);
  });

  it('reports a stored Rollout whose pattern RE2 cannot use instead of throwing', () => {
    const legacy = { ...rollout, trigger: { repository: 'argoproj/rollouts-demo', tagPattern: '(a)\\1' } };
    expect(
      matchPush({ registry: 'docker.io', repository: 'argoproj/rollouts-demo', tag: 'aa' }, [legacy], keys),
    ).toEqual({
      matches: [],
      unusable: [
        "default/rollouts-demo: tagPattern '(a)\\1' is not an RE2 regular expression: error parsing regexp: invalid escape sequence: `\\1`",
      ],
    });
  });
});
