/**
 * The prometheus provider against a real Prometheus server: series backfilled with promtool at
 * fixed instants, queried at those instants (the injected clock), so every value is exact. The
 * Amazon Managed Prometheus path goes through a SigV4-verifying proxy in front of the same server.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createProviders } from '../../lib/adapters/metrics/registry.js';
import {
  openMetrics,
  startPrometheus,
  type LocalPrometheus,
  type Series,
} from '../../lib/local/prometheus.js';
import { REPO_ROOT } from '../../lib/local/testcluster.js';
import type { Result } from '../../lib/core/result.js';
import { startSigV4Proxy, type SigV4Proxy } from '../../lib/local/sigv4-proxy.js';

/** The instant every query is evaluated at: 2026-01-01T00:00:00Z. */
const T = 1_767_225_600;
const AT = new Date(T * 1000);
/** One sample every 15 s for ten minutes, 8 s before each quarter-minute so no sample sits on a window's edge. */
const times = Array.from({ length: 40 }, (_, k) => T - 600 + 15 * k + 7);
const gauge = (name: string, labels: Record<string, string>, value: (k: number) => number): Series => ({
  name,
  type: 'gauge',
  labels,
  samples: times.map((time, k) => [time, value(k)]),
});

const SERIES = [
  gauge('success_rate', { service: 'reviews' }, () => 0.99),
  gauge('success_rate', { service: 'ratings' }, () => 0.5),
  gauge('queue_depth', { service: 'reviews' }, (k) => k),
  gauge('broken_ratio', { service: 'reviews' }, () => Number.NaN),
];

const credentials = { accessKeyId: 'AKIDTESTPROXY', secretAccessKey: 'the-right-secret' };
const providers = createProviders({ awsCredentials: async () => credentials });
const wrongProviders = createProviders({
  awsCredentials: async () => ({ accessKeyId: credentials.accessKeyId, secretAccessKey: 'a-wrong-secret' }),
});

let prometheus: LocalPrometheus;
let proxy: SigV4Proxy;

beforeAll(async () => {
  prometheus = await startPrometheus({
    logFile: join(REPO_ROOT, '.tmp/prometheus-provider-test.log'),
    backfill: openMetrics(SERIES),
  });
  proxy = await startSigV4Proxy({
    upstream: prometheus.url,
    region: 'us-east-1',
    workspace: 'ws-test',
    credentials,
  });
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await prometheus?.stop();
});

const query = (q: string, extra: Record<string, unknown> = {}, at = AT) =>
  providers.measure(
    { prometheus: { address: prometheus.url, query: q, ...extra } },
    { now: at, timeoutMs: 10_000 },
  );

function value(result: Result<{ value: unknown }, string>): unknown {
  if (!result.ok) throw new Error(result.error);
  return result.value.value;
}

function failure(result: Result<unknown, string>): string {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.error;
}

describe('the prometheus provider against a real Prometheus', () => {
  it('maps a vector to the list of its values', async () => {
    expect(value(await query('success_rate{service="reviews"}'))).toEqual([0.99]);
    const both = value(await query('sort(success_rate)'));
    expect(both).toEqual([0.5, 0.99]);
  });

  it('evaluates at the injected instant, not at the wall clock', async () => {
    expect(value(await query('queue_depth'))).toEqual([39]);
    expect(value(await query('queue_depth', {}, new Date((T - 300) * 1000)))).toEqual([19]);
  });

  it('maps the success-rate ratio Istio users write to one number in a list', async () => {
    expect(value(await query('sum(success_rate{service="reviews"}) / sum(success_rate)'))).toEqual([
      0.99 / 1.49,
    ]);
  });

  it('maps a scalar to a number', async () => {
    expect(value(await query('scalar(queue_depth)'))).toBe(39);
  });

  it('maps a matrix to every sample of every series', async () => {
    expect(value(await query('queue_depth[1m]'))).toEqual([36, 37, 38, 39]);
  });

  it('maps an empty vector to an empty list', async () => {
    expect(value(await query('success_rate{service="nobody"}'))).toEqual([]);
  });

  it('maps NaN, +Inf and -Inf to numbers', async () => {
    expect(value(await query('broken_ratio'))).toEqual([Number.NaN]);
    expect(value(await query('1/0'))).toBe(Infinity);
    expect(value(await query('-1/0'))).toBe(-Infinity);
    expect(value(await query('0/0'))).toBeNaN();
  });

  it('returns Prometheus’s own reason for a bad query', async () => {
    expect(failure(await query('sum(success_rate'))).toMatch(
      new RegExp(`^Prometheus at ${prometheus.url} rejected the query \\(HTTP 400\\): bad_data: .*`),
    );
  });

  it('gives up after its timeout on a server that never answers', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const result = await providers.measure(
        { prometheus: { address: `http://127.0.0.1:${port}`, query: 'up', timeout: 1 } },
        { now: AT, timeoutMs: 10_000 },
      );
      expect(failure(result)).toBe(`Prometheus at http://127.0.0.1:${port}: timed out after 1000 ms`);
    } finally {
      sockets.forEach((socket) => socket.destroy());
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('Amazon Managed Prometheus (SigV4, service aps) through a verifying proxy', () => {
  const amp = (region = 'us-east-1') => ({
    prometheus: {
      address: proxy.address,
      query: 'success_rate{service="reviews"}',
      authentication: { sigv4: { region } },
    },
  });

  it('signs the query so the proxy accepts it, and reads the answer', async () => {
    const before = proxy.decisions.length;
    expect(value(await providers.measure(amp(), { now: AT, timeoutMs: 10_000 }))).toEqual([0.99]);
    expect(proxy.decisions.slice(before)).toEqual(['forwarded']);
  });

  it('is refused with a signature from the wrong secret, and says why', async () => {
    const result = await wrongProviders.measure(amp(), { now: AT, timeoutMs: 10_000 });
    expect(failure(result)).toContain('rejected the query (HTTP 403)');
    expect(failure(result)).toContain('The request signature we calculated does not match');
    expect(proxy.decisions.at(-1)).toContain('signature we calculated does not match');
  });

  it('is refused when signed for another region', async () => {
    const result = await providers.measure(amp('eu-west-1'), { now: AT, timeoutMs: 10_000 });
    expect(failure(result)).toContain('Credential should be scoped to a valid region');
  });

  it('is refused without a signature', async () => {
    const result = await providers.measure(
      { prometheus: { address: proxy.address, query: 'up' } },
      { now: AT, timeoutMs: 10_000 },
    );
    expect(failure(result)).toContain('Missing Authentication Token');
  });
});
