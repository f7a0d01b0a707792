/**
 * The metric providers' contract: each validates its own block, answers within its timeout, maps
 * results as Argo Rollouts does, and returns failures as messages instead of throwing. The real
 * Prometheus server is exercised in test/integration/prometheus-provider.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkProviderBlock, createProviders } from '../../lib/adapters/metrics/registry.js';
import { firstMatch, parseJsonPath } from '../../lib/adapters/metrics/jsonpath.js';
import { interpret } from '../../lib/adapters/metrics/prometheus.js';
import type { Result } from '../../lib/core/result.js';

const NOW = new Date('2026-11-26T10:00:00.000Z');
const providers = createProviders({
  awsCredentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }),
});
const measure = (block: Record<string, unknown>, timeoutMs = 5000) =>
  providers.measure(block, { now: NOW, timeoutMs });

function failure(result: Result<unknown, string>): string {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.error;
}

describe('the provider registry', () => {
  it('names the supported providers when the block names an unknown one', async () => {
    expect(failure(await measure({ datadog: { query: 'x' } }))).toBe(
      "unknown metric provider 'datadog': supported providers are prometheus, cloudWatch, web",
    );
  });

  it('needs exactly one provider in a block', async () => {
    expect(failure(await measure({}))).toContain(
      'exactly one provider (prometheus, cloudWatch, web); found none',
    );
    expect(failure(await measure({ web: {}, prometheus: {} }))).toContain('found web, prometheus');
  });

  it('validates a block without measuring, naming the field as written', () => {
    expect(checkProviderBlock({ prometheus: { address: 'http://prom:9090', query: 'up' } })).toEqual({
      ok: true,
      value: 'prometheus',
    });
    expect(failure(checkProviderBlock({ prometheus: { address: 'prom:9090', query: '' } }))).toBe(
      'invalid prometheus provider: prometheus.address: address must be an http:// or https:// URL; prometheus.query: query is empty',
    );
    expect(
      failure(checkProviderBlock({ prometheus: { address: 'http://p', query: 'up', qeury: 'x' } })),
    ).toContain('Unrecognized key');
  });

  it('rejects in-cluster addresses, which a runner outside the cluster cannot reach, and says what to do', () => {
    for (const address of [
      'http://prometheus.istio-system.svc.cluster.local:9090',
      'http://prometheus.istio-system.svc:9090',
    ]) {
      const message = failure(checkProviderBlock({ prometheus: { address, query: 'up' } }));
      expect(message).toContain('is a Kubernetes in-cluster name: the runner runs outside the cluster');
      expect(message).toContain('Amazon Managed Prometheus');
    }
    expect(failure(checkProviderBlock({ web: { url: 'http://api.default.svc/metrics' } }))).toContain(
      'in-cluster name',
    );
  });

  it('rejects Argo fields it does not implement with what to use instead', () => {
    expect(
      failure(
        checkProviderBlock({
          prometheus: {
            address: 'http://p',
            query: 'up',
            rangeQuery: { start: 'now()', end: 'now()', step: '1m' },
          },
        }),
      ),
    ).toContain('rangeQuery is not supported: use a range function in the query');
  });
});

describe('Prometheus results map as Argo maps them', () => {
  const url = new URL('http://prometheus.example:9090/api/v1/query');
  const answer = (resultType: string, result: unknown) =>
    interpret(url, 200, JSON.stringify({ status: 'success', data: { resultType, result } }));
  const series = (value: string) => ({ metric: { pod: 'a' }, value: [1764151200, value] });

  it.each([
    ['a vector is the list of its values', answer('vector', [series('0.99'), series('1')]), [0.99, 1]],
    ['an empty vector is an empty list', answer('vector', []), []],
    ['a scalar is a number', answer('scalar', [1764151200, '42.5']), 42.5],
    [
      'a matrix is every sample of every series',
      answer('matrix', [
        {
          metric: {},
          values: [
            [1, '1'],
            [2, '2'],
          ],
        },
        { metric: {}, values: [[1, '3']] },
      ]),
      [1, 2, 3],
    ],
    [
      'NaN, +Inf and -Inf are numbers',
      answer('vector', [series('NaN'), series('+Inf'), series('-Inf')]),
      [NaN, Infinity, -Infinity],
    ],
  ])('%s', (_name, result, expected) => {
    expect(result).toEqual({ ok: true, value: { value: expected } });
  });

  it('reports a string result, a query error and a non-API answer as errors', () => {
    expect(failure(answer('string', [1, 'x']))).toContain(
      'returned a string result; conditions need a scalar',
    );
    expect(
      failure(
        interpret(
          url,
          400,
          JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error at char 5' }),
        ),
      ),
    ).toBe(
      'Prometheus at http://prometheus.example:9090 rejected the query (HTTP 400): bad_data: parse error at char 5',
    );
    expect(failure(interpret(url, 403, '<html>Forbidden</html>'))).toContain(
      'answered HTTP 403 with a body that is not the Prometheus API',
    );
    expect(failure(answer('vector', [{ metric: {}, histogram: [1, { count: '2' }] }]))).toContain(
      'native histogram samples',
    );
  });
});

describe('Kubernetes JSONPath, the subset web metrics use', () => {
  const data = { data: { ok: true, rate: 0.97, items: [{ v: 1 }, { v: 2 }], 'a.b': 'dotted' } };
  const select = (path: string) => {
    const parsed = parseJsonPath(path);
    if (!parsed.ok) return parsed;
    return firstMatch(data, parsed.value);
  };

  it.each([
    ['{$.data.rate}', 0.97],
    ['{.data.ok}', true],
    ['{$.data.items[1].v}', 2],
    ['{$.data.items[-1].v}', 2],
    ['{$.data.items[*].v}', 1],
    ["{$.data['a.b']}", 'dotted'],
    ['{$}', data],
  ])('%s selects %p', (path, expected) => {
    expect(select(path)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['{$.data.missing}', 'missing is not found'],
    ['{$.data.items[5].v}', 'array index out of bounds: index 5, length 2'],
    ['$.data.rate', 'must be wrapped in braces'],
    ['{$..v}', 'is not supported'],
    ['{$.data.items[?(@.v > 1)]}', 'is not supported'],
  ])('%s fails: %s', (path, message) => {
    expect(failure(select(path))).toContain(message);
  });
});

describe('the web provider against a local HTTP server', () => {
  let server: Server;
  let base: string;
  const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
    '/json': (_req, res) => res.end(JSON.stringify({ data: { successRate: 0.98, pods: [{ ready: 3 }] } })),
    '/text': (_req, res) => res.end('healthy'),
    '/fail': (_req, res) => {
      res.statusCode = 503;
      res.end('maintenance');
    },
    '/echo': (_req, res) => res.end(JSON.stringify({ received: seen.at(-1)?.body })),
    '/slow': () => undefined,
    '/huge': (_req, res) => res.end(JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) })),
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        });
        (routes[req.url ?? ''] ?? ((_q, r) => ((r.statusCode = 404), r.end())))(req, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('GETs the URL with its headers and narrows the JSON with jsonPath', async () => {
    const result = await measure({
      web: {
        url: `${base}/json`,
        headers: [{ key: 'Authorization', value: 'Bearer t0ken' }],
        jsonPath: '{$.data.successRate}',
      },
    });
    expect(result).toEqual({ ok: true, value: { value: 0.98 } });
    expect(seen.at(-1)).toMatchObject({
      method: 'GET',
      url: '/json',
      headers: { authorization: 'Bearer t0ken' },
    });
  });

  it('passes the whole JSON body without jsonPath, and a non-JSON body as its text', async () => {
    expect(await measure({ web: { url: `${base}/json` } })).toEqual({
      ok: true,
      value: { value: { data: { successRate: 0.98, pods: [{ ready: 3 }] } } },
    });
    expect(await measure({ web: { url: `${base}/text`, jsonPath: '{$.x}' } })).toEqual({
      ok: true,
      value: { value: 'healthy' },
    });
  });

  it('POSTs a jsonBody as JSON', async () => {
    const result = await measure({
      web: {
        url: `${base}/echo`,
        method: 'POST',
        jsonBody: { query: 'errors', window: '5m' },
        jsonPath: '{$.received}',
      },
    });
    expect(result).toEqual({ ok: true, value: { value: '{"query":"errors","window":"5m"}' } });
    expect(seen.at(-1)?.headers['content-type']).toBe('application/json');
  });

  it('fails on a non-2xx answer, a missing path, a body on GET, a slow server and a huge answer', async () => {
    expect(failure(await measure({ web: { url: `${base}/fail` } }))).toBe(
      `web metric GET ${base}/fail: received non 2xx response code: 503: maintenance`,
    );
    expect(failure(await measure({ web: { url: `${base}/json`, jsonPath: '{$.data.errors}' } }))).toContain(
      'could not find jsonPath {$.data.errors} in the body: errors is not found',
    );
    expect(failure(await measure({ web: { url: `${base}/json`, body: 'x' } }))).toContain(
      'body and jsonBody can only be used with the POST or PUT method',
    );
    expect(failure(await measure({ web: { url: `${base}/slow`, timeoutSeconds: 1 } }))).toBe(
      `web metric GET ${base}/slow: timed out after 1000 ms`,
    );
    expect(failure(await measure({ web: { url: `${base}/slow` } }, 300))).toBe(
      `web metric GET ${base}/slow: timed out after 300 ms`,
    );
    expect(failure(await measure({ web: { url: `${base}/huge` } }))).toContain(
      'the response is larger than 1048576 bytes',
    );
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    const pending = providers.measure(
      { web: { url: `${base}/slow` } },
      { now: NOW, timeoutMs: 5000, signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 50);
    expect(failure(await pending)).toContain('cancelled before it finished');
  });

  it('says a refused connection is refused', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(failure(await measure({ web: { url: `http://127.0.0.1:${port}/` } }))).toBe(
      `web metric GET http://127.0.0.1:${port}/: connection refused`,
    );
  });
});
