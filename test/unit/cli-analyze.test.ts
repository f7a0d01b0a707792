/**
 * `rollouts analyze`, the real CLI in a child process against a real HTTP server (the web
 * provider): each metric measured once, printed with the phase its conditions give, nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { temporaryFile } from './cli-process.js';
import { parseArgFlags } from '../../lib/app/cli/analyze.js';

let server: Server;
let base: string;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url?.startsWith('/rate')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          data: { service: new URL(req.url, 'http://x').searchParams.get('service'), rate: 0.97 },
        }),
      );
    } else res.writeHead(500).end('boom');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

function rollouts(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/rollouts.js', ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const template = (condition: string) => `
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: web-rate
spec:
  args:
    - name: service
    - name: base
  metrics:
    - name: rate
      interval: 10s
      count: 3
      successCondition: ${condition}
      provider:
        web:
          url: '{{args.base}}/rate?service={{args.service}}'
          jsonPath: '{$.data.rate}'
    - name: broken
      provider:
        web:
          url: '{{args.base}}/broken'
  dryRun:
    - metricName: broken
`;

/** `rollouts analyze` on the template with this success condition, the args given for the local server. */
const analyzeWith = (condition: string) =>
  rollouts(
    'analyze',
    '-f',
    temporaryFile('template.yaml', template(condition)),
    '--arg',
    'service=checkout',
    '--arg',
    `base=${base}`,
  );

describe('rollouts analyze', () => {
  it('measures each metric once with the args given and prints the measurement, its phase and the run’s', async () => {
    const before = requests.length;
    const result = await analyzeWith('result >= 0.95');
    expect(requests.slice(before).sort()).toEqual(['/broken', '/rate?service=checkout']);
    expect(result.stdout).toContain('AnalysisTemplate default/web-rate: each metric measured once, now');
    expect(result.stdout).toContain('rate: Successful 0.97\n');
    expect(result.stdout).toContain(
      `  web {"url":"${base}/rate?service=checkout","jsonPath":"{$.data.rate}"}`,
    );
    expect(result.stdout).toContain('  successCondition: result >= 0.95');
    expect(result.stdout).toContain('  metric after 1 measurement of 3: Running');
    expect(result.stdout).toMatch(
      /broken \(dry run\): Error: web metric GET http:\/\/127\.0\.0\.1:\d+\/broken: received non 2xx response code: 500: boom/,
    );
    expect(result.stdout).toContain('analysis run after these measurements: Running');
    // The dry-run metric's error does not count: every counted measurement succeeded.
    expect(result.code).toBe(0);
  });

  it('exits 1 and says which condition failed when a measurement fails it', async () => {
    const result = await analyzeWith('result >= 0.99');
    expect(result.stderr).toContain('rate: Failed 0.97\n');
    expect(result.stderr).toContain(
      'analysis run after these measurements: Failed: Metric "rate" assessed Failed due to failed (1) > failureLimit (0)',
    );
    expect(result.code).toBe(1);
  });

  it('refuses a missing arg, an arg no template declares, and a file without templates, measuring nothing', async () => {
    const file = temporaryFile('template.yaml', template('result >= 0.95'));
    const before = requests.length;
    const missing = await rollouts('analyze', '-f', file, '--arg', `base=${base}`, '--arg', 'servce=x');
    expect(missing.stderr).toBe(
      "--arg servce: no template declares an arg 'servce' (declared: service, base)\narg 'service' has no value: give it with --arg service=VALUE\n",
    );
    expect(missing.code).toBe(1);
    const rollout = temporaryFile(
      'rollout.yaml',
      'apiVersion: serverless-rollouts.io/v1alpha1\nkind: Rollout\nmetadata: {name: x}\n',
    );
    const none = await rollouts('analyze', '-f', rollout);
    expect(none.stderr).toMatch(/no AnalysisTemplate found .* analyze measures templates, not Rollouts/);
    expect(none.code).toBe(1);
    expect(requests.length).toBe(before);
    const usage = await rollouts('analyze');
    expect(usage.stderr).toBe('rollouts analyze: -f template.yaml is required\n');
    expect(usage.code).toBe(2);
  });
});

describe('--arg flags', () => {
  it('take NAME=VALUE, the value may hold = and be empty; anything else is an error', () => {
    expect(parseArgFlags(['a=1', 'b=x=y', 'c='])).toEqual({
      ok: true,
      value: [
        { name: 'a', value: '1' },
        { name: 'b', value: 'x=y' },
        { name: 'c', value: '' },
      ],
    });
    expect(parseArgFlags(['novalue', '=1', 'a=1', 'a=2'])).toEqual({
      ok: false,
      error: [
        '--arg novalue: expected NAME=VALUE',
        '--arg =1: expected NAME=VALUE',
        '--arg a is given twice',
      ],
    });
  });
});
