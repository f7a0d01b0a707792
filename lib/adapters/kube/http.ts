/**
 * Requests to the Kubernetes API. Raw HTTP keeps patch content types and status codes exactly as
 * the API server speaks them; credentials come from a kubeconfig (through @kubernetes/client-node)
 * or, on Lambda, from an EKS token, without loading the client library at all.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { request, type RequestOptions } from 'node:https';

/** Where the API server is and how to authenticate to it. */
export interface KubeAuth {
  server: string;
  apply(options: RequestOptions): Promise<void>;
}

export function kubeconfigAuth(config: KubeConfig): KubeAuth {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error(`kubeconfig context '${config.getCurrentContext()}' names no cluster`);
  return { server: cluster.server, apply: (options) => config.applyToHTTPSOptions(options) };
}

export function bearerAuth(server: string, caPem: string, token: string): KubeAuth {
  return {
    server,
    apply: async (options) => {
      options.ca = caPem;
      options.headers = { ...options.headers, authorization: `Bearer ${token}` };
    },
  };
}

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
  private readonly auth: KubeAuth;

  constructor(
    auth: KubeAuth | KubeConfig,
    private readonly timeoutMs = 10_000,
  ) {
    this.auth = 'apply' in auth && 'server' in auth ? (auth as KubeAuth) : kubeconfigAuth(auth as KubeConfig);
  }

  get server(): string {
    return this.auth.server;
  }

  async send<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    contentType: string = CONTENT_TYPES.json,
  ): Promise<KubeResponse<T>> {
    const options: RequestOptions = { method, headers: { accept: 'application/json' } };
    await this.auth.apply(options);
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
