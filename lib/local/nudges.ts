/**
 * How the CLI tells local mode's runner that a Rollout has work, as the command event does in AWS:
 * `POST /nudge {"cluster","namespace","name"}` on loopback. A nudge carries no command (commands
 * are queued in the table first), so the worst a stray request can do is start a pass early.
 */
import { createServer, request, type Server } from 'node:http';
import { rolloutKeySchema } from '../core/model/command.js';
import type { RolloutKey } from '../adapters/dynamodb/types.js';

const MAX_BODY_BYTES = 4096;

export function serveNudges(port: number, nudge: (key: RolloutKey) => void): Promise<Server> {
  const server = createServer((req, res) => {
    const reply = (status: number, message: string) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message }));
    };
    if (req.method !== 'POST' || req.url !== '/nudge') return reply(404, 'only POST /nudge is served here');
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reply(400, 'the body must be JSON: {"cluster","namespace","name"}');
      }
      const key = rolloutKeySchema.safeParse(body);
      if (!key.success) return reply(400, `not a rollout key: ${key.error.issues[0]?.message ?? ''}`);
      nudge(key.data);
      return reply(202, 'nudged');
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** The CLI's side: a fresh connection per nudge, so nothing outlives the command. */
export function sendNudge(runnerUrl: string, key: RolloutKey): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL('/nudge', runnerUrl),
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 202
            ? resolve()
            : reject(new Error(`local mode's runner refused the nudge: HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on('error', (error) => reject(new Error(`local mode's runner at ${runnerUrl}: ${error.message}`)));
    req.setTimeout(2000, () => req.destroy(new Error('no answer in 2 s')));
    req.end(JSON.stringify(key));
  });
}
