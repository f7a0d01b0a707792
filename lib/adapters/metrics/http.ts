/**
 * One bounded HTTP exchange for the metric providers: a deadline (the provider's own timeout and
 * the runner's budget, whichever ends first), a cap on the response size, and every failure as a
 * message instead of a thrown error, so a measurement that cannot be taken is an Error measurement.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { err, ok, type Result } from '../../core/result.js';

/** Metric answers are small; anything bigger is a wrong URL or query, not a reading. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface HttpCall {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** Skip TLS verification (Argo's `insecure`). */
  insecure?: boolean;
  signal: AbortSignal;
  maxBytes?: number;
}

export interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The signal of a measurement: aborted by its own timeout or by the caller, whichever comes first. */
export function deadline(timeoutMs: number, outer?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(Math.max(1, Math.floor(timeoutMs)));
  return outer ? AbortSignal.any([timeout, outer]) : timeout;
}

/** Why a signal ended a call, in words. */
export function abortReason(signal: AbortSignal, timeoutMs: number): string {
  // A DOMException from AbortSignal.timeout (not `instanceof Error` across realms, so by name).
  const reason = signal.reason as { name?: unknown } | undefined;
  return reason?.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : 'cancelled before it finished';
}

export function send(call: HttpCall, timeoutMs: number): Promise<Result<HttpReply, string>> {
  const limit = call.maxBytes ?? MAX_RESPONSE_BYTES;
  const request = call.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    if (call.signal.aborted) return resolve(err(abortReason(call.signal, timeoutMs)));
    const headers = { ...call.headers };
    if (call.body !== undefined) headers['content-length'] = String(Buffer.byteLength(call.body));
    const req = request(
      call.url,
      {
        method: call.method,
        headers,
        signal: call.signal,
        ...(call.url.protocol === 'https:' && call.insecure ? { rejectUnauthorized: false } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > limit) {
            resolve(err(`the response is larger than ${limit} bytes`));
            req.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (error) => resolve(err(describe(error, call.signal, timeoutMs))));
        res.on('end', () =>
          resolve(
            ok({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          ),
        );
      },
    );
    // Keep-alive sockets are reused by the next measurement but must not hold a process open.
    req.on('socket', (socket) => socket.unref());
    req.on('error', (error) => resolve(err(describe(error, call.signal, timeoutMs))));
    if (call.body !== undefined) req.write(call.body);
    req.end();
  });
}

function describe(error: Error, signal: AbortSignal, timeoutMs: number): string {
  if (signal.aborted) return abortReason(signal, timeoutMs);
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found (DNS)';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'no route to host';
    default:
      return code ? `${error.message} (${code})` : error.message;
  }
}

/** The first few hundred characters of a body, on one line, for an error message. */
export function excerpt(body: string, length = 300): string {
  const line = body.replace(/\s+/g, ' ').trim();
  return line.length > length ? `${line.slice(0, length)}…` : line;
}
