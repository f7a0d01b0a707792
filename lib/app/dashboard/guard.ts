/**
 * Who may use the dashboard: the holder of the per-launch token, from this origin only. Pure: a
 * request's headers in, a verdict out, so every rule is checked the same way for every route.
 */
import { timingSafeEqual } from 'node:crypto';
import { err, ok, type Result } from '../../core/result.js';

export const TOKEN_COOKIE = 'rollouts_dashboard';
export const TOKEN_HEADER = 'x-dashboard-token';

export interface RequestFacts {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  /** `?token=` from the URL, if any. */
  queryToken?: string | null;
}

export interface Refusal {
  status: 400 | 401 | 403;
  message: string;
}

const header = (facts: RequestFacts, name: string): string | undefined => {
  const value = facts.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export function sameToken(expected: string, given: string | undefined | null): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function cookieToken(cookieHeader: string | undefined): string | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === TOKEN_COOKIE) return value.join('=');
  }
  return undefined;
}

/** The Host names this server answers to: a page on another name (DNS rebinding) is refused. */
export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

/**
 * Reads need the token (cookie, or `?token=` on the page's first load); state changes need it in
 * the header too, which another origin's page cannot set, and a same-origin request.
 */
export function checkRequest(facts: RequestFacts, token: string, port: number): Result<void, Refusal> {
  const host = header(facts, 'host');
  if (!host || !allowedHosts(port).includes(host))
    return err({ status: 403, message: `refused: Host ${host ?? '(none)'} is not this dashboard` });
  const cookie = cookieToken(header(facts, 'cookie'));
  if (!sameToken(token, cookie) && !sameToken(token, facts.queryToken))
    return err({ status: 401, message: 'the dashboard token is missing or wrong: open the URL it printed' });
  if (facts.method === 'GET' || facts.method === 'HEAD') return ok(undefined);
  if (facts.method !== 'POST') return err({ status: 400, message: `method ${facts.method} not allowed` });
  const origin = header(facts, 'origin');
  const site = header(facts, 'sec-fetch-site');
  const sameOrigin = origin
    ? allowedHosts(port).some((allowed) => origin === `http://${allowed}`)
    : site === 'same-origin';
  if (!sameOrigin || (site !== undefined && site !== 'same-origin'))
    return err({ status: 403, message: `refused: a cross-origin request (Origin ${origin ?? '(none)'})` });
  if (!sameToken(token, header(facts, TOKEN_HEADER)))
    return err({ status: 403, message: `refused: the ${TOKEN_HEADER} header is missing or wrong` });
  return ok(undefined);
}
