/** Local mode's Function URL front end: every request target reaches the handler as its raw path. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { serveFunctionUrl } from '../../lib/local/function-url.js';

let server: Server;
const seen: { rawPath: string; rawQueryString: string; path: string }[] = [];

beforeAll(async () => {
  server = await serveFunctionUrl(
    async (event) => {
      const { rawPath, rawQueryString, requestContext } = event as {
        rawPath: string;
        rawQueryString: string;
        requestContext: { http: { path: string } };
      };
      seen.push({ rawPath, rawQueryString, path: requestContext.http.path });
      return { statusCode: 202, body: 'ok' };
    },
    0,
    {},
  );
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** One raw HTTP/1.1 request with `target` as sent (no client would normalise it); the status line back. */
function send(target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1', () =>
      socket.write(`POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`),
    );
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('close', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

describe('the local Function URL server', () => {
  it('passes any request target as the raw path and query, never throwing on one that is not a URL', async () => {
    const targets: [string, string, string][] = [
      ['http://[', 'http://[', ''],
      ['http://a:99999/', 'http://a:99999/', ''],
      ['//dockerhub/token', '//dockerhub/token', ''],
      ['/generic?x=1&y', '/generic', 'x=1&y'],
      ['/%zz', '/%zz', ''],
    ];
    for (const [target, rawPath, rawQueryString] of targets) {
      seen.length = 0;
      expect(await send(target)).toBe('HTTP/1.1 202 Accepted');
      expect(seen).toEqual([{ rawPath, rawQueryString, path: rawPath }]);
    }
  });
});
