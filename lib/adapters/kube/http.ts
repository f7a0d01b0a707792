/**
 * Requests to the Kubernetes API. Raw HTTP keeps patch content types and status codes exactly as
 * the API server speaks them; credentials come from a kubeconfig (kubeconfig.ts)
 * or, on Lambda, from an EKS token, without loading the client library at all.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { ClientRequest, IncomingMessage } from 'node:http';
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
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const { res } = await this.open(method, path, { payload, contentType, timeoutMs: this.timeoutMs });
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (a proxy's error page, say): keep the text for the message.
    }
    return { status: res.statusCode ?? 0, body: parsed as T, headers: res.headers };
  }

  /**
   * Starts a request and resolves with the response as it begins, for bodies read as a stream (a
   * watch). The socket stays referenced while the request is in flight, so a CLI awaiting it stays
   * alive; the agent unreferences sockets it keeps idle in its pool, so they never hold a process.
   * `timeoutMs` bounds the whole exchange, body included.
   */
  async open(
    method: string,
    path: string,
    options: { payload?: string; contentType?: string; timeoutMs: number },
  ): Promise<{ req: ClientRequest; res: IncomingMessage }> {
    const requestOptions: RequestOptions = { method, headers: { accept: 'application/json' } };
    await this.auth.apply(requestOptions);
    if (options.payload !== undefined)
      Object.assign(requestOptions.headers as object, {
        'content-type': options.contentType ?? CONTENT_TYPES.json,
      });
    const url = new URL(path, this.server);
    return new Promise((resolve, reject) => {
      const req = request(url, requestOptions, (res) => resolve({ req, res }));
      req.on('error', reject);
      const timer = setTimeout(
        () => req.destroy(new Error(`${method} ${url.pathname} timed out after ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
      req.on('close', () => clearTimeout(timer));
      if (options.payload !== undefined) req.write(options.payload);
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
