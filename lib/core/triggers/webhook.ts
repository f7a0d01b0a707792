/**
 * The registry webhook, as a pure function of the HTTP request, the configured secrets and
 * bindings, and the time: authenticate first, on the exact raw body, then parse, then keep only
 * what the sender may claim. Bad input is answered, never thrown. The request path is never
 * echoed: under /dockerhub/ it holds a secret.
 */
import { constantTimeEqual, sha256Hex, verifyGenericSignature, verifySignature } from './signatures.js';
import { parseDockerHub, parseGeneric, parseGithub, parseHarbor, type Parsed } from './payloads.js';
import { bindPushes, type Bindings, type Provider } from './bindings.js';
import type { ImagePushed } from '../model/images.js';
import { ok, err, type Result } from '../result.js';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface WebhookSecrets {
  github?: string;
  harbor?: string;
  dockerhubToken?: string;
  generic?: string;
}

export interface WebhookRequest {
  method: string;
  path: string;
  /** Lower-case names. */
  headers: Record<string, string | undefined>;
  body: Buffer;
}

export interface WebhookConfig {
  secrets: WebhookSecrets;
  bindings: Bindings;
  /** Unix seconds, for the generic endpoint's replay window. */
  nowSeconds: number;
}

export type WebhookProvider = Exclude<Provider, 'ecr'>;

export type WebhookDecision =
  | { kind: 'reject'; status: 400 | 401 | 404 | 405 | 413; message: string }
  | { kind: 'ignore'; provider: WebhookProvider; message: string }
  | {
      kind: 'push';
      provider: WebhookProvider;
      pushes: ImagePushed[];
      /** Keys that each identify this delivery: any one seen before makes it a duplicate. */
      deliveryKeys: string[];
      /** Pushes in the same delivery the sender may not claim. */
      refused: string[];
    };

/** GitHub's X-GitHub-Delivery is a GUID; anything else is not GitHub's and is not stored. */
const GITHUB_DELIVERY = /^[A-Za-z0-9-]{1,64}$/;

/** Which endpoint a path is, without keeping the path (it may hold the Docker Hub token). */
export function endpointOf(path: string): WebhookProvider | undefined {
  const segments = path.split('/').filter(Boolean);
  if (segments.length === 1 && ['github', 'harbor', 'generic'].includes(segments[0] as string))
    return segments[0] as WebhookProvider;
  if (segments.length === 2 && segments[0] === 'dockerhub') return 'dockerhub';
  return undefined;
}

function authenticate(
  provider: WebhookProvider,
  request: WebhookRequest,
  config: WebhookConfig,
): Result<void> {
  const { secrets, nowSeconds } = config;
  const checked = (valid: boolean, what: string): Result<void> =>
    valid ? ok(undefined) : err(`missing or wrong ${what}`);
  switch (provider) {
    case 'github':
      return checked(
        verifySignature(secrets.github ?? '', request.body, request.headers['x-hub-signature-256']),
        'X-Hub-Signature-256',
      );
    case 'generic':
      return secrets.generic
        ? verifyGenericSignature(secrets.generic, request.body, request.headers, nowSeconds)
        : err('missing or wrong X-Signature-256');
    case 'harbor':
      return checked(
        constantTimeEqual(secrets.harbor ?? '', request.headers.authorization),
        'Authorization header',
      );
    case 'dockerhub':
      return checked(
        constantTimeEqual(secrets.dockerhubToken ?? '', request.path.split('/').filter(Boolean)[1]),
        'webhook token',
      );
  }
}

function parse(provider: WebhookProvider, request: WebhookRequest, body: unknown): Parsed {
  switch (provider) {
    case 'github':
      return parseGithub(request.headers['x-github-event'], body);
    case 'harbor':
      return parseHarbor(body);
    case 'dockerhub':
      return parseDockerHub(body);
    case 'generic':
      return parseGeneric(body);
  }
}

/**
 * What identifies a delivery, from what is authenticated: the hash of the signed bytes (for the
 * generic endpoint, the timestamp with the body), and GitHub's delivery id as well, so a
 * redelivery and a replay under a new id are both recognised.
 */
function deliveryKeys(provider: WebhookProvider, request: WebhookRequest): Result<string[]> {
  const signed =
    provider === 'generic'
      ? Buffer.concat([Buffer.from(`${request.headers['x-signature-timestamp']}.`), request.body])
      : request.body;
  const keys = [`body:${sha256Hex(signed)}`];
  if (provider === 'github') {
    const delivery = request.headers['x-github-delivery'];
    if (delivery !== undefined) {
      if (!GITHUB_DELIVERY.test(delivery))
        return err('X-GitHub-Delivery must be the GUID GitHub sends (letters, digits and -, at most 64)');
      keys.unshift(`github:${delivery}`);
    }
  }
  return ok(keys);
}

export function decideWebhook(request: WebhookRequest, config: WebhookConfig): WebhookDecision {
  const provider = endpointOf(request.path);
  if (!provider)
    return {
      kind: 'reject',
      status: 404,
      message: 'no webhook here; use /github, /harbor, /dockerhub/<token> or /generic',
    };
  if (request.method.toUpperCase() !== 'POST')
    return {
      kind: 'reject',
      status: 405,
      message: `${request.method.slice(0, 16)} is not allowed; use POST`,
    };
  if (request.body.length > MAX_BODY_BYTES)
    return {
      kind: 'reject',
      status: 413,
      message: `body of ${request.body.length} bytes is over the 1 MiB limit`,
    };
  const authenticated = authenticate(provider, request, config);
  if (!authenticated.ok) return { kind: 'reject', status: 401, message: authenticated.error };
  if (
    provider === 'github' &&
    /^application\/x-www-form-urlencoded/i.test(request.headers['content-type'] ?? '')
  )
    return {
      kind: 'reject',
      status: 400,
      message:
        "the webhook sends application/x-www-form-urlencoded; choose 'Content type: application/json' in the GitHub webhook's settings",
    };
  let body: unknown;
  try {
    body = JSON.parse(request.body.toString('utf8'));
  } catch (error) {
    return {
      kind: 'reject',
      status: 400,
      message: `body is not JSON: ${(error as Error).message.slice(0, 200)}`,
    };
  }
  const parsed = parse(provider, request, body);
  if (!parsed.ok) return { kind: 'reject', status: 400, message: parsed.error };
  const keys = deliveryKeys(provider, request);
  if (!keys.ok) return { kind: 'reject', status: 400, message: keys.error };
  if (parsed.value.pushes.length === 0)
    return { kind: 'ignore', provider, message: `ignored: ${parsed.value.ignored ?? 'no image pushed'}` };
  const { claimed, refused } = bindPushes(provider, parsed.value.pushes, config.bindings);
  if (claimed.length === 0) return { kind: 'ignore', provider, message: `ignored: ${refused.join('; ')}` };
  return { kind: 'push', provider, pushes: claimed, deliveryKeys: keys.value, refused };
}
