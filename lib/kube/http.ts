/**
 * Requests to the Kubernetes API with a KubeConfig's credentials (token, client certificate or
 * exec plugin, as @kubernetes/client-node resolves them). Raw HTTP keeps patch content types and
 * status codes exactly as the API server speaks them.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { request, type RequestOptions } from 'node:https';

export interface KubeResponse<T = unknown> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

export const CONTENT_TYPES = {
  json: 'application/json',
  jsonPatch: 'application/json-patch+json',
  mergePatch: 'application/merge-patch+json',
  strategicMergePatch: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

export class KubeHttp {
  constructor(
    readonly config: KubeConfig,
    private readonly timeoutMs = 10_000,
  ) {}

  get server(): string {
    const cluster = this.config.getCurrentCluster();
    if (!cluster) throw new Error(`kubeconfig context '${this.config.getCurrentContext()}' names no cluster`);
    return cluster.server;
  }

  async send<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    contentType: string = CONTENT_TYPES.json,
  ): Promise<KubeResponse<T>> {
    const options: RequestOptions = { method, headers: { accept: 'application/json' } };
    await this.config.applyToHTTPSOptions(options);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    if (payload !== undefined) Object.assign(options.headers as object, { 'content-type': contentType });
    const url = new URL(path, this.server);
    return new Promise((resolve, reject) => {
      const req = request(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // Not JSON (a proxy's error page, say): keep the text for the message.
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as T, headers: res.headers });
        });
      });
      // Idle keep-alive sockets must not hold a CLI or a test run open.
      req.on('socket', (socket) => socket.unref());
      req.on('error', reject);
      req.setTimeout(this.timeoutMs, () =>
        req.destroy(new Error(`${method} ${url.pathname} timed out after ${this.timeoutMs} ms`)),
      );
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }
}

/** The API server's own explanation from a Status body, or the raw text. */
export function statusMessage(response: KubeResponse): string {
  const body = response.body as { message?: unknown } | string | undefined;
  if (typeof body === 'object' && body && typeof body.message === 'string') return body.message;
  return typeof body === 'string' && body ? body.slice(0, 300) : `HTTP ${response.status}`;
}
