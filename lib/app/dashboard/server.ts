/**
 * `rollouts dashboard`: the page and its JSON API on 127.0.0.1, reading and writing through the
 * CLI's store commands (so an action is the same command `rollouts promote` sends, with source
 * `dashboard`). Live updates by server-sent events: the store is polled only while a page listens.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { RolloutKey, StoredRollout } from '../../adapters/dynamodb/types.js';
import type { Command } from '../../core/engine/types.js';
import { formatIssues } from '../../core/model/issues.js';
import type { Connection } from '../cli/connection.js';
import {
  listRecords,
  liveWeights,
  sendCommand,
  setImageCommand,
  type CommandOutput,
} from '../cli/store-commands.js';
import { describeStep } from '../cli/describe.js';
import { fleetSummary, fleetWaves } from '../cli/fleet-view.js';
import { FleetStore } from '../../adapters/dynamodb/fleets.js';
import { FLEET_CLUSTER, fleetKey } from '../../core/model/fleet.js';
import { checkRequest, TOKEN_COOKIE } from './guard.js';

export const CSP =
  "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'";

export interface DashboardOptions {
  connection: Connection;
  /** Where the built page is (dist/dashboard: app.js, app.css). */
  pageDir: string;
  port?: number;
  token?: string;
  pollMs?: number;
}

export interface Dashboard {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const keySchema = z.object({
  cluster: z
    .string()
    .min(1)
    .max(253)
    .refine(
      (cluster) => cluster !== FLEET_CLUSTER,
      `cluster ${FLEET_CLUSTER} holds fleets: read them at /api/fleet`,
    ),
  namespace: z.string().min(1).max(253),
  name: z.string().min(1).max(253),
});

const fleetKeySchema = keySchema.omit({ cluster: true });

const actionSchema = z.object({
  key: keySchema,
  action: z.enum(['promote', 'promoteFull', 'abort', 'retry', 'setImage']),
  /** `CONTAINER=IMAGE`, as `rollouts set image` takes it. */
  assignment: z.string().max(1024).optional(),
});

/** What the list shows of one Rollout. */
export function summary(stored: StoredRollout) {
  const { rollout, status } = stored;
  return {
    key: stored.key,
    phase: status.phase,
    message: status.message,
    step: status.stepIndex,
    steps: rollout.canary.steps.length,
    weight: status.weight,
    revision: status.revision,
    stableImage: status.stableImage,
    canaryImage: status.canaryImage,
    updatedAt: stored.updatedAt,
  };
}

/**
 * The list: every Rollout that is not a fleet's member, and every fleet (its members are reached
 * from the fleet's view), as `rollouts list` shows them; and `writes`, each record's last write,
 * members' too, so a page is told when what its open view shows (e.g. a fleet's member) changed.
 */
export async function listing(connection: Connection) {
  const { rollouts, fleets, all } = await listRecords(connection);
  return {
    list: { rollouts: rollouts.map(summary), fleets: fleets.map(fleetSummary) },
    writes: [...all, ...fleets.map(({ record }) => record)]
      .map((item) => `${describeKey(item.key)} ${item.updatedAt}`)
      .join('\n'),
  };
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const { connection } = options;
  const token = options.token ?? randomBytes(24).toString('base64url');
  const pollMs = options.pollMs ?? 1000;
  const asset = (name: string) => readFileSync(join(options.pageDir, name));
  // Read once: a missing build is found at start, not by the first visitor.
  const script = asset('app.js');
  const style = asset('app.css');
  const listeners = new Set<ServerResponse>();
  let last = '';
  let timer: NodeJS.Timeout | undefined;

  const poll = async () => {
    try {
      const { list, writes } = await listing(connection);
      const text = JSON.stringify(list);
      if (writes !== last) {
        last = writes;
        for (const listener of listeners) listener.write(`event: rollouts\ndata: ${text}\n\n`);
      }
    } catch (error) {
      const data = JSON.stringify({ message: (error as Error).message });
      for (const listener of listeners) listener.write(`event: problem\ndata: ${data}\n\n`);
    }
    if (listeners.size > 0) timer = setTimeout(poll, pollMs);
    else timer = undefined;
  };

  let port = 0;
  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      if (!response.headersSent) send(response, 500, { error: error.message });
      else response.end();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${port}`);
    const verdict = checkRequest(
      {
        method: request.method ?? 'GET',
        headers: request.headers,
        queryToken: url.searchParams.get('token'),
      },
      token,
      port,
    );
    if (!verdict.ok) return send(response, verdict.error.status, { error: verdict.error.message });
    if (url.searchParams.has('token')) {
      // Exchanged for a cookie once; the token leaves the address bar (and the history).
      response.setHeader('Set-Cookie', `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
      response.writeHead(303, { ...securityHeaders(), Location: '/' });
      return response.end();
    }
    const route = `${request.method} ${url.pathname}`;
    switch (route) {
      case 'GET /':
        return sendBody(response, 'text/html; charset=utf-8', page(token));
      case 'GET /app.js':
        return sendBody(response, 'text/javascript; charset=utf-8', script);
      case 'GET /app.css':
        return sendBody(response, 'text/css; charset=utf-8', style);
      case 'GET /api/rollouts':
        return send(response, 200, (await listing(connection)).list);
      case 'GET /api/rollout': {
        const key = keySchema.safeParse(Object.fromEntries(url.searchParams));
        if (!key.success) return send(response, 400, { error: formatIssues(key.error) });
        const stored = await connection.store.get(key.data);
        if (!stored) return send(response, 404, { error: `rollout ${describeKey(key.data)} not found` });
        return send(response, 200, {
          ...stored,
          summary: summary(stored),
          // Each step as `rollouts get` words it.
          steps: stored.rollout.canary.steps.map(describeStep),
          live: await liveWeights(connection, stored),
          history: await connection.store.history(key.data),
        });
      }
      case 'GET /api/fleet': {
        const key = fleetKeySchema.safeParse(Object.fromEntries(url.searchParams));
        if (!key.success) return send(response, 400, { error: formatIssues(key.error) });
        const fleets = new FleetStore(connection.store);
        const stored = await fleets.get(key.data);
        if (!stored)
          return send(response, 404, { error: `fleet ${key.data.namespace}/${key.data.name} not found` });
        return send(response, 200, {
          summary: fleetSummary(stored),
          waves: fleetWaves(stored, await fleets.memberRecords(stored.fleet)),
          ...(stored.record.lastError ? { lastError: stored.record.lastError } : {}),
          history: await connection.store.history(fleetKey(key.data)),
        });
      }
      case 'GET /api/events':
        response.writeHead(200, {
          ...securityHeaders(),
          'Content-Type': 'text/event-stream',
          Connection: 'keep-alive',
        });
        response.write('retry: 2000\n\n');
        listeners.add(response);
        last = '';
        request.on('close', () => listeners.delete(response));
        if (!timer) void poll();
        return;
      case 'POST /api/command':
        return runAction(request, response);
      default:
        return send(response, 404, { error: `no such page: ${url.pathname}` });
    }
  }

  async function runAction(request: IncomingMessage, response: ServerResponse) {
    const body = await readBody(request);
    if (body === undefined) return send(response, 400, { error: 'the body must be JSON under 16 KB' });
    const parsed = actionSchema.safeParse(body);
    if (!parsed.success) return send(response, 400, { error: formatIssues(parsed.error) });
    const { key, action, assignment } = parsed.data;
    let command: Command;
    if (action === 'setImage') {
      const stored = await connection.store.get(key);
      if (!stored) return send(response, 404, { error: `rollout ${describeKey(key)} not found` });
      const made = setImageCommand(stored, assignment ?? '');
      if (!made.ok) return send(response, 400, { error: made.error });
      command = made.value;
    } else command = { kind: action };
    const output: CommandOutput = await sendCommand(connection, key, command, Date.now(), 'dashboard');
    return output.ok
      ? send(response, 200, { message: output.stdout.trim() })
      : send(response, 409, { error: output.stderr.trim() });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      if (timer) clearTimeout(timer);
      for (const listener of listeners) listener.end();
      listeners.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function describeKey(key: RolloutKey): string {
  return `${key.cluster}/${key.namespace}/${key.name}`;
}

function securityHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  };
}

function send(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { ...securityHeaders(), 'Content-Type': 'application/json' });
  response.end(JSON.stringify(body));
}

function sendBody(response: ServerResponse, type: string, body: string | Buffer) {
  response.writeHead(200, { ...securityHeaders(), 'Content-Type': type });
  response.end(body);
}

/** The page: no inline script; the token the page sends in the header sits in a meta tag. */
function page(token: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="dashboard-token" content="${token}">
<title>serverless-rollouts</title>
<link rel="stylesheet" href="/app.css">
<script type="module" src="/app.js"></script>
</head>
<body><main id="app">Loading…</main></body>
</html>
`;
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 16_384) return undefined;
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}
