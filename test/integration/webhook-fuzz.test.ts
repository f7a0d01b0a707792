/**
 * Fuzzing the webhook handler: thousands of mutations of the providers' real payloads, signed and
 * unsigned, as Function URL events, against DynamoDB Local. Bad input never gets a 5xx nor throws;
 * an unsigned request never writes.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import type { RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import { createWebhookHandler, type FunctionUrlResponse } from '../../lib/app/triggers/webhook-handler.js';
import { hmacSha256Hex, signGeneric } from '../../lib/core/triggers/signatures.js';
import { functionUrlEvent } from '../../lib/local/lambda-events.js';
import { tableItems } from './function-url-event.js';
import { lambdaContext } from './lambda-context.js';
import { createStore, demoRolloutIn } from './runner-harness.js';

const SECRETS = {
  github: 'gh-secret',
  harbor: 'Basic aGFyYm9yOnM=',
  dockerhubToken: 'tok3n',
  generic: 'ci-secret',
};
const fixture = (name: string) => readFileSync(`test/fixtures/webhooks/${name}`, 'utf8');
const PAYLOADS = {
  github: ['github-package-published.json', 'github-registry-package-published.json'],
  harbor: [
    'harbor-push-artifact.json',
    'harbor-cloudevents-push-tagged.json',
    'harbor-cloudevents-push-by-digest.json',
    'harbor-default-push-by-digest.json',
  ],
  dockerhub: ['dockerhub-push.json'],
  generic: [],
} as const;
type Provider = keyof typeof PAYLOADS;
const GENERIC_BODIES = [
  { image: 'ghcr.io/acme/rollouts-demo:v1.9.0' },
  { image: 'argoproj/rollouts-demo', tag: 'yellow', digest: `sha256:${'e'.repeat(64)}` },
];

/** Values that have broken parsers: huge, empty, wrong type, almost-valid references. */
const nasty: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 64 }),
  fc.string({ unit: 'grapheme', maxLength: 32 }),
  fc.constantFrom(
    '',
    'x'.repeat(100_000),
    `sha256:${'7'.repeat(60)}`,
    `sha256:${'A'.repeat(64)}`,
    `sha512:${'b'.repeat(128)}`,
    'ghcr.io/acme/rollouts-demo',
    'ghcr.io/Acme/Rollouts-Demo:v1',
    '123456789012.dkr.ecr.us-east-1.amazonaws.com/rollouts-demo',
    'harbor.acme.internal/payments/api:v2.0.9',
    '../../etc/passwd',
    'v1.2.3\u0000',
    '__proto__',
    'a/'.repeat(200),
  ),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
);

type Mutation = { at: number; kind: 'replace' | 'delete' | 'wrap' | 'add'; value: unknown; key: string };

/** Every path to a value in the JSON tree, the root first. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const found = [prefix];
  if (value && typeof value === 'object')
    for (const [key, child] of Object.entries(value))
      found.push(...paths(child, [...prefix, Array.isArray(value) ? Number(key) : key]));
  return found;
}

function mutate(document: unknown, mutations: Mutation[]): unknown {
  let root = structuredClone(document);
  for (const mutation of mutations) {
    const all = paths(root);
    const path = all[mutation.at % all.length] as (string | number)[];
    if (path.length === 0) {
      root = mutation.kind === 'wrap' ? [root] : mutation.kind === 'replace' ? mutation.value : root;
      continue;
    }
    const parent = path.slice(0, -1).reduce<any>((node, key) => node[key], root);
    const key = path.at(-1) as string | number;
    if (!parent || typeof parent !== 'object') continue;
    if (mutation.kind === 'replace') parent[key] = mutation.value;
    else if (mutation.kind === 'delete') delete parent[key];
    else if (mutation.kind === 'wrap') parent[key] = [parent[key]];
    else if (parent[key] && typeof parent[key] === 'object') parent[key][mutation.key] = mutation.value;
  }
  return root;
}

const mutations = fc.array(
  fc.record({
    at: fc.nat(),
    kind: fc.constantFrom('replace', 'delete', 'wrap', 'add'),
    value: nasty,
    key: fc.constantFrom('tag', 'digest', 'repo_name', 'resource_url', 'type', 'image', 'x'),
  }),
  { maxLength: 4 },
) as fc.Arbitrary<Mutation[]>;

/** The raw body: a mutated JSON document, sometimes with its bytes damaged as well. */
const bodyFor = (provider: Provider) =>
  fc
    .tuple(
      fc.constantFrom<unknown>(
        ...PAYLOADS[provider].map((name) => JSON.parse(fixture(name))),
        ...GENERIC_BODIES,
      ),
      mutations,
      fc.option(fc.tuple(fc.nat(), fc.nat({ max: 16 }), fc.string({ maxLength: 4 })), { freq: 4 }),
    )
    .map(([document, changes, damage]) => {
      const text = JSON.stringify(mutate(document, changes)) ?? 'undefined';
      if (!damage) return text;
      const [at, cut, insert] = damage;
      const position = at % (text.length + 1);
      return text.slice(0, position) + insert + text.slice(position + cut);
    });

const junkHeader = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('x'.repeat(9000), 'sha256=', 'sha256=zz', '0', '-1', '99999999999999', 'package'),
);

type Request = {
  provider: Provider;
  body: string;
  headers: Record<string, string>;
  path: string;
  base64: boolean;
};

/** A request as its provider would sign it: the right secret, with other headers possibly junk. */
const signedRequest: fc.Arbitrary<Request> = fc
  .constantFrom<Provider>('github', 'harbor', 'dockerhub', 'generic')
  .chain((provider) =>
    fc.record({
      provider: fc.constant(provider),
      body: bodyFor(provider),
      base64: fc.boolean(),
      skew: fc.oneof(fc.integer({ min: -290, max: 290 }), fc.integer({ min: -10_000, max: 10_000 })),
      event: fc.oneof(fc.constantFrom('package', 'registry_package', 'ping'), junkHeader),
      delivery: fc.option(fc.oneof(fc.uuid(), junkHeader), { nil: undefined }),
      contentType: fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain'),
    }),
  )
  .map(({ provider, body, base64, skew, event, delivery, contentType }) => {
    const raw = Buffer.from(body);
    const headers: Record<string, string> = { 'content-type': contentType };
    if (provider === 'github') {
      Object.assign(headers, {
        'x-hub-signature-256': `sha256=${hmacSha256Hex(SECRETS.github, raw)}`,
        'x-github-event': event,
        ...(delivery === undefined ? {} : { 'x-github-delivery': delivery }),
      });
    }
    if (provider === 'harbor') headers.authorization = SECRETS.harbor;
    if (provider === 'generic')
      Object.assign(headers, signGeneric(SECRETS.generic, raw, Date.now() / 1000 + skew));
    const path = provider === 'dockerhub' ? `/dockerhub/${SECRETS.dockerhubToken}` : `/${provider}`;
    return { provider, body, headers, path, base64 };
  });

/** The same requests with what authenticates them taken away or damaged. */
const unsignedRequest: fc.Arbitrary<Request> = fc
  .tuple(signedRequest, junkHeader, fc.constantFrom('drop', 'junk', 'other-secret'))
  .map(([request, junk, how]) => {
    const headers = { ...request.headers };
    for (const name of ['x-hub-signature-256', 'x-signature-256', 'authorization']) {
      if (!(name in headers)) continue;
      if (how === 'drop') delete headers[name];
      else if (how === 'junk') headers[name] = junk;
      else
        headers[name] =
          name === 'authorization'
            ? 'Basic d3Jvbmc='
            : `sha256=${hmacSha256Hex('guess', Buffer.from(request.body))}`;
    }
    const path =
      request.provider === 'dockerhub'
        ? `/dockerhub/${how === 'drop' ? '' : junk.replaceAll('/', '')}`
        : request.path;
    return { ...request, headers, path };
  });

let store: RolloutStore;
let handler: (event: unknown) => Promise<FunctionUrlResponse>;

beforeAll(async () => {
  store = await createStore();
  const triggers = {
    'dockerhub-fuzz': 'argoproj/rollouts-demo',
    'ghcr-fuzz': 'ghcr.io/acme/rollouts-demo',
    'harbor-fuzz': 'harbor.acme.internal/payments/api',
    'alpine-fuzz': 'localhost/harbor/alpine',
  };
  for (const [name, repository] of Object.entries(triggers))
    await store.apply(
      demoRolloutIn('fuzz', (doc) => {
        doc.metadata.name = name;
        doc.spec.trigger = { repository };
      }),
      Date.now(),
    );
  const webhook = createWebhookHandler({
    store,
    secrets: async () => SECRETS,
    bindings: { harborHosts: ['harbor.acme.internal', 'localhost'] },
    clock: Date.now,
  });
  handler = (event) => webhook(event, lambdaContext('registry-webhook')) as Promise<FunctionUrlResponse>;
});

async function send(request: Request): Promise<FunctionUrlResponse> {
  const response = await handler(
    functionUrlEvent('POST', request.path, request.body, request.headers, request.base64),
  );
  if (response.statusCode >= 500)
    throw new Error(`${response.statusCode} ${response.body} for ${JSON.stringify(request).slice(0, 500)}`);
  expect(typeof JSON.parse(response.body).message).toBe('string');
  return response;
}

describe('the webhook under mutated real payloads', () => {
  it('never writes from an unsigned request, never answers 5xx, never throws', async () => {
    const before = await tableItems(store);
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(unsignedRequest, async (request) => {
        const { statusCode } = await send(request);
        statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
        expect([401, 404]).toContain(statusCode);
      }),
      { numRuns: 3000 },
    );
    expect(await tableItems(store)).toEqual(before);
    expect(statuses.get(401)).toBeGreaterThan(1000);
  });

  it('answers signed mutations 2xx or 4xx with a reason, and reaches the store with the valid ones', async () => {
    const statuses = new Map<number, number>();
    let queuedOrDuplicate = 0;
    await fc.assert(
      fc.asyncProperty(signedRequest, async (request) => {
        const response = await send(request);
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        const results = JSON.parse(response.body).results as { result: string }[] | undefined;
        queuedOrDuplicate += (results ?? []).filter((r) => r.result !== 'failed').length;
      }),
      { numRuns: 2000 },
    );
    // The run means something: some mutants were refused, and some still reached the store.
    expect(statuses.get(400)).toBeGreaterThan(100);
    expect(statuses.get(202)).toBeGreaterThan(100);
    expect(queuedOrDuplicate).toBeGreaterThan(10);
    expect([...statuses.keys()].every((status) => status < 500)).toBe(true);
  });

  it('answers a mutated Function URL event (path, method, headers, body, base64 flag) below 500, and writes from no unsigned one', async () => {
    const changes = fc.array(
      fc.record({
        at: fc.nat(),
        kind: fc.constantFrom('replace', 'delete', 'wrap', 'add'),
        value: nasty,
        key: fc.constantFrom('rawPath', 'body', 'headers', 'method', 'isBase64Encoded', 'x'),
      }),
      { minLength: 1, maxLength: 3 },
    ) as fc.Arbitrary<Mutation[]>;
    const statuses = new Map<number, number>();
    const sendMutated = async (request: Request, mutations: Mutation[]) => {
      const event = mutate(
        functionUrlEvent('POST', request.path, request.body, request.headers, request.base64),
        mutations,
      );
      const response = await handler(event);
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      if (response.statusCode >= 500)
        throw new Error(`${response.statusCode} ${response.body} for ${JSON.stringify(event).slice(0, 500)}`);
      expect(typeof JSON.parse(response.body).message).toBe('string');
    };
    const before = await tableItems(store);
    await fc.assert(fc.asyncProperty(unsignedRequest, changes, sendMutated), { numRuns: 1500 });
    expect(await tableItems(store)).toEqual(before);
    await fc.assert(fc.asyncProperty(signedRequest, changes, sendMutated), { numRuns: 1500 });
    expect(statuses.get(400)).toBeGreaterThan(100);
    expect(statuses.get(401)).toBeGreaterThan(100);
  });
});
