/**
 * A bounded Kubernetes watch on one object: `?watch=1&fieldSelector=metadata.name=X&resourceVersion=RV
 * &timeoutSeconds=N`, read until an event satisfies the caller or the API server closes it at N s.
 * One request however many events it carries; nothing stays open after it returns.
 */
import type { KubeHttp } from './http.js';

export type WatchResult<T> =
  | { outcome: 'matched'; object: T }
  /** The server closed the watch at timeoutSeconds (or the object went away) with no match. */
  | { outcome: 'timeout' }
  /** The caller gave up (its signal aborted). */
  | { outcome: 'aborted' }
  /** The watch could not run: refused (RBAC without `watch`), resourceVersion too old (410)... */
  | { outcome: 'failed'; message: string };

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: unknown;
}

export interface WatchOptions {
  /** The collection's path, e.g. /apis/apps/v1/namespaces/NS/deployments. */
  collection: string;
  name: string;
  /** Events after this version only; the object as read is judged by the caller before watching. */
  resourceVersion?: string;
  timeoutSeconds: number;
  signal?: AbortSignal;
}

/** Watches `name` in `collection` until `until` holds for an ADDED or MODIFIED object. */
export async function watchUntil<T>(
  http: KubeHttp,
  options: WatchOptions,
  until: (object: T) => boolean,
): Promise<WatchResult<T>> {
  const query = new URLSearchParams({
    watch: '1',
    fieldSelector: `metadata.name=${options.name}`,
    timeoutSeconds: String(Math.max(1, Math.ceil(options.timeoutSeconds))),
    ...(options.resourceVersion ? { resourceVersion: options.resourceVersion } : {}),
  });
  if (options.signal?.aborted) return { outcome: 'aborted' };
  // The server ends the watch at timeoutSeconds; the client's own limit only guards a silent server.
  const { req, res } = await http.open('GET', `${options.collection}?${query}`, {
    timeoutMs: (options.timeoutSeconds + 5) * 1000,
  });
  const abort = () => req.destroy();
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    if (res.statusCode !== 200) {
      let text = '';
      for await (const chunk of res) text += String(chunk);
      return {
        outcome: 'failed',
        message: `watch ${options.name}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`,
      };
    }
    let buffered = '';
    for await (const chunk of res) {
      buffered += String(chunk);
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (!line) continue;
        const event = JSON.parse(line) as WatchEvent;
        if (event.type === 'ERROR') {
          const status = event.object as { code?: number; message?: string };
          return {
            outcome: 'failed',
            message: `watch ${options.name}: ${status.code ?? ''} ${status.message ?? ''}`,
          };
        }
        if (event.type === 'DELETED') return { outcome: 'timeout' };
        if ((event.type === 'ADDED' || event.type === 'MODIFIED') && until(event.object as T)) {
          return { outcome: 'matched', object: event.object as T };
        }
      }
    }
    return { outcome: 'timeout' };
  } catch (error) {
    if (options.signal?.aborted) return { outcome: 'aborted' };
    return { outcome: 'failed', message: `watch ${options.name}: ${(error as Error).message}` };
  } finally {
    options.signal?.removeEventListener('abort', abort);
    // A watch left early (matched, aborted) is closed; one the server ended frees its socket itself.
    if (!res.complete) req.destroy();
  }
}
