/**
 * A TLS-terminating proxy in front of the test API server, presenting the API server's own
 * certificate so kubeconfigs still verify: it counts and timestamps every request and injects
 * faults (status codes, Retry-After, resets, timeouts) by rule. Test and benchmark tooling only.
 */
import { createServer, request, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';

export interface ProxiedRequest {
  at: number;
  method: string;
  path: string;
  status?: number;
  fault?: string;
}

export type Fault =
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
  | { kind: 'reset' }
  | { kind: 'timeout' }
  | { kind: 'before'; run: () => Promise<void> };

export type FaultRule = (request: { method: string; path: string }) => Fault | undefined;

export class KubeProxy {
  readonly requests: ProxiedRequest[] = [];
  rules: FaultRule[] = [];
  private server?: Server;
  port = 0;

  constructor(
    private readonly upstream: string,
    private readonly certificate: { cert: string; key: string },
    private readonly upstreamCa: string,
  ) {}

  async start(): Promise<this> {
    this.server = createServer(
      { cert: this.certificate.cert, key: this.certificate.key },
      (req, res) => void this.handle(req, res),
    );
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    return this;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** A copy of `kubeconfigPath` whose clusters point at the proxy. */
  kubeconfigThrough(kubeconfigPath: string, outPath: string): string {
    const config = parse(readFileSync(kubeconfigPath, 'utf8'));
    for (const cluster of config.clusters) cluster.cluster.server = this.url;
    writeFileSync(outPath, stringify(config));
    return outPath;
  }

  count(method: string, pathPart: string): number {
    return this.requests.filter((r) => r.method === method && r.path.includes(pathPart) && !r.fault).length;
  }

  reset(): void {
    this.requests.length = 0;
    this.rules = [];
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const entry: ProxiedRequest = { at: Date.now(), method: req.method ?? 'GET', path: req.url ?? '/' };
    this.requests.push(entry);
    const fault = this.rules.map((rule) => rule({ method: entry.method, path: entry.path })).find(Boolean);
    if (fault?.kind === 'status') {
      entry.fault = `${fault.status}`;
      entry.status = fault.status;
      req.resume();
      res.writeHead(fault.status, {
        'content-type': 'application/json',
        ...(fault.retryAfterSeconds ? { 'retry-after': String(fault.retryAfterSeconds) } : {}),
      });
      res.end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message: `injected ${fault.status}`,
          code: fault.status,
        }),
      );
      return;
    }
    if (fault?.kind === 'reset') {
      entry.fault = 'reset';
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'timeout') {
      entry.fault = 'timeout';
      req.resume();
      return;
    }
    if (fault?.kind === 'before') {
      entry.fault = undefined;
      await fault.run();
    }
    const upstream = request(
      new URL(entry.path, this.upstream),
      {
        method: entry.method,
        headers: { ...req.headers, host: new URL(this.upstream).host },
        ca: this.upstreamCa,
      },
      (upstreamResponse) => {
        entry.status = upstreamResponse.statusCode;
        res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        upstreamResponse.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }
}
