/**
 * The registry webhook, as a pure function of the HTTP request and the configured secrets:
 * authenticate first, on the exact raw body, then parse. Bad input is answered, never thrown.
 */
import { constantTimeEqual, verifySignature } from './signatures.js';
import { parseDockerHub, parseGeneric, parseGithub, parseHarbor, type Parsed } from './payloads.js';
import type { ImagePushed } from '../model/images.js';

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

export type Provider = 'github' | 'harbor' | 'dockerhub' | 'generic';

export type WebhookDecision =
  | { kind: 'reject'; status: 400 | 401 | 404 | 405 | 413; message: string }
  | { kind: 'ignore'; provider: Provider; message: string }
  | { kind: 'push'; provider: Provider; pushes: ImagePushed[]; deliveryId?: string };

type Route = { provider: Provider; token?: string };

function route(path: string): Route | undefined {
  const segments = path.replace(/\/+$/, '').split('/').filter(Boolean);
  if (segments.length === 1 && ['github', 'harbor', 'generic'].includes(segments[0] as string))
    return { provider: segments[0] as Provider };
  if (segments.length === 2 && segments[0] === 'dockerhub')
    return { provider: 'dockerhub', token: segments[1] };
  return undefined;
}

function authenticate(target: Route, request: WebhookRequest, secrets: WebhookSecrets): boolean {
  switch (target.provider) {
    case 'github':
      return verifySignature(secrets.github ?? '', request.body, request.headers['x-hub-signature-256']);
    case 'generic':
      return verifySignature(secrets.generic ?? '', request.body, request.headers['x-signature-256']);
    case 'harbor':
      return constantTimeEqual(secrets.harbor ?? '', request.headers.authorization);
    case 'dockerhub':
      return constantTimeEqual(secrets.dockerhubToken ?? '', target.token);
  }
}

export function decideWebhook(request: WebhookRequest, secrets: WebhookSecrets): WebhookDecision {
  const target = route(request.path);
  if (!target)
    return {
      kind: 'reject',
      status: 404,
      message: `no webhook at ${request.path}; use /github, /harbor, /dockerhub/<token> or /generic`,
    };
  if (request.method.toUpperCase() !== 'POST')
    return { kind: 'reject', status: 405, message: `${request.method} is not allowed; use POST` };
  if (request.body.length > MAX_BODY_BYTES)
    return {
      kind: 'reject',
      status: 413,
      message: `body of ${request.body.length} bytes is over the 1 MiB limit`,
    };
  if (!authenticate(target, request, secrets)) {
    const what =
      target.provider === 'dockerhub'
        ? 'webhook token'
        : target.provider === 'harbor'
          ? 'Authorization header'
          : 'signature';
    return { kind: 'reject', status: 401, message: `missing or wrong ${what}` };
  }
  let body: unknown;
  try {
    body = JSON.parse(request.body.toString('utf8'));
  } catch (error) {
    return { kind: 'reject', status: 400, message: `body is not JSON: ${(error as Error).message}` };
  }
  const parsed: Parsed =
    target.provider === 'github'
      ? parseGithub(request.headers['x-github-event'], body)
      : target.provider === 'harbor'
        ? parseHarbor(body)
        : target.provider === 'dockerhub'
          ? parseDockerHub(body)
          : parseGeneric(body);
  if (!parsed.ok) return { kind: 'reject', status: 400, message: parsed.message };
  if (parsed.pushes.length === 0)
    return {
      kind: 'ignore',
      provider: target.provider,
      message: `ignored: ${parsed.ignored ?? 'no image pushed'}`,
    };
  const deliveryId =
    target.provider === 'github'
      ? request.headers['x-github-delivery']
      : target.provider === 'generic'
        ? request.headers['x-delivery-id']
        : parsed.deliveryId;
  return {
    kind: 'push',
    provider: target.provider,
    pushes: parsed.pushes,
    ...(deliveryId ? { deliveryId } : {}),
  };
}
