/**
 * The `web` provider, as Argo's: one HTTP request (GET by default; POST and PUT may carry `body`
 * or `jsonBody`, not both), a 2xx answer required, a JSON answer narrowed by `jsonPath` (default
 * `{$}`) to its first match, a non-JSON answer passed to conditions as the text itself.
 * `timeoutSeconds` defaults to 10. Plain http:// and loopback work (local mode, tests).
 */
import { z } from 'zod';
import type { Measurement, MetricProvider } from '../../core/analysis/provider.js';
import { err, ok, type Result } from '../../core/result.js';
import {
  effectiveTimeoutMs,
  headerRecord,
  headersSchema,
  reachableUrl,
  parseBlock,
  unsupported,
} from './block.js';
import { deadline, excerpt, send } from './http.js';
import { firstMatch, parseJsonPath } from './jsonpath.js';
import { unreachableHint } from './reachability.js';

const DEFAULT_TIMEOUT_SECONDS = 10;

export const webSchema = z
  .object({
    url: reachableUrl('url'),
    method: z.enum(['GET', 'POST', 'PUT']).optional(),
    headers: headersSchema.optional(),
    body: z.string().optional(),
    jsonBody: z.unknown().optional(),
    timeoutSeconds: z.number().int().optional(),
    jsonPath: z
      .string()
      .optional()
      .superRefine((value, context) => {
        const parsed = parseJsonPath(value ?? '{$}');
        if (!parsed.ok) context.addIssue({ code: 'custom', message: parsed.error });
      }),
    insecure: z.boolean().optional(),
    authentication: unsupported('authentication (oauth2) for web metrics', 'pass a token in headers'),
  })
  .strict()
  .refine((web) => !(web.body && web.jsonBody !== undefined), {
    message: 'use either body or jsonBody; both cannot exist for a web metric payload',
  })
  .refine((web) => (web.method ?? 'GET') !== 'GET' || (!web.body && web.jsonBody === undefined), {
    message: 'body and jsonBody can only be used with the POST or PUT method',
  });

export class WebProvider implements MetricProvider {
  async measure(
    provider: Record<string, unknown>,
    options: { now: Date; timeoutMs: number; signal?: AbortSignal },
  ): Promise<Result<Measurement, string>> {
    const parsed = parseBlock('web', webSchema, provider);
    if (!parsed.ok) return parsed;
    const web = parsed.value;
    const url = new URL(web.url);
    const path = parseJsonPath(web.jsonPath ?? '{$}');
    if (!path.ok) return path;

    const seconds =
      web.timeoutSeconds && web.timeoutSeconds > 0 ? web.timeoutSeconds : DEFAULT_TIMEOUT_SECONDS;
    const timeoutMs = effectiveTimeoutMs(seconds, options.timeoutMs);
    const headers = headerRecord(web.headers);
    let body = web.body || undefined;
    if (web.jsonBody !== undefined) {
      body = JSON.stringify(web.jsonBody);
      headers['content-type'] = 'application/json';
    }
    const method = web.method ?? 'GET';
    const reply = await send(
      { url, method, headers, body, insecure: web.insecure, signal: deadline(timeoutMs, options.signal) },
      timeoutMs,
    );
    const where = `web metric ${method} ${url.origin}${url.pathname}`;
    if (!reply.ok) return err(`${where}: ${reply.error}${unreachableHint(url, reply.error)}`);
    const { status, body: text } = reply.value;
    if (status < 200 || status >= 300)
      return err(`${where}: received non 2xx response code: ${status}: ${excerpt(text)}`);

    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return ok({ value: text });
    }
    const value = firstMatch(data, path.value);
    if (!value.ok)
      return err(`${where}: could not find jsonPath ${web.jsonPath ?? '{$}'} in the body: ${value.error}`);
    return ok({ value: value.value });
  }
}
