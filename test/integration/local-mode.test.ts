/** The main job, as a newcomer runs it: `npm run demo`, and `npm start` stopped with Ctrl-C. */
import { describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from '../../lib/local/testcluster.js';

function run(args: string[], onOutput?: (text: string) => void) {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/rollouts.js'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    onOutput?.(output);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

function listening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('npm run demo', () => {
  it("walks the guide's scenario to Healthy on yellow, then aborts bad-red on its failed analysis and completes green", async () => {
    const demo = run(['demo']);
    const code = await demo.exited;
    const output = demo.output();
    expect(output).toContain('HTTP 202');
    expect(output).toMatch(
      /Paused\s+step 2\/4\s+rollouts-demo-vsvc1: http-primary 95\/5, tls\[0\] 95\/5, tcp\[0\] 95\/5 \| rollouts-demo-vsvc2: http-secondary 95\/5, tls\[0\] 95\/5, tcp\[0\] 95\/5/,
    );
    expect(output).toMatch(/http-primary 50\/50, tls\[0\] 50\/50, tcp\[0\] 50\/50/);
    expect(output).toMatch(/Healthy\s+step 4\/4\s+rollouts-demo-vsvc1: http-primary 100\/0/);
    expect(output).toContain('demo complete: argoproj/rollouts-demo:yellow is stable');
    // Act 2: bad-red fails its analysis against the real Prometheus and aborts by itself.
    const act2 = output.slice(output.indexOf('Act 2: canary analysis'));
    const bad = act2.slice(
      act2.indexOf('pushed argoproj/rollouts-demo:bad-red'),
      act2.indexOf('pushed argoproj/rollouts-demo:green'),
    );
    expect(bad).toMatch(
      /http-primary 80\/20, tls\[0\] 80\/20, tcp\[0\] 80\/20 \| rollouts-demo-vsvc2: http-secondary 80\/20/,
    );
    expect(bad).toMatch(/analysis success-rate #\d \[0\.\d+\] Failed/);
    expect(bad).toMatch(
      /Degraded\s+step 3\/5\s+rollouts-demo-vsvc1: http-primary 100\/0, tls\[0\] 100\/0, tcp\[0\] 100\/0 \| rollouts-demo-vsvc2: http-secondary 100\/0, tls\[0\] 100\/0, tcp\[0\] 100\/0/,
    );
    expect(bad).toMatch(
      /Rollout aborted update to revision \d+: Step-based analysis phase failed: Metric "[\w-]+" assessed Failed due to failed \(2\) > failureLimit \(1\)/,
    );
    // Then green passes it and completes.
    const good = act2.slice(act2.indexOf('pushed argoproj/rollouts-demo:green'));
    expect(good).toMatch(/analysis success-rate #3 \[1\] Successful/);
    expect(good).toMatch(/analysis run r\d+-step3-\d+ Successful/);
    expect(good).toMatch(/Healthy\s+step 5\/5\s+rollouts-demo-vsvc1: http-primary 100\/0/);
    expect(output).toContain(
      'demo complete: argoproj/rollouts-demo:bad-red failed its analysis and was aborted',
    );
    expect(code).toBe(0);
  }, 420_000);
});

describe('npm start', () => {
  it('prints where everything is, serves the CLI, and leaves nothing running after Ctrl-C', async () => {
    let resolveUp: () => void = () => undefined;
    const up = new Promise<void>((resolve) => (resolveUp = resolve));
    const dev = run(['dev'], (text) => text.includes('Ctrl-C stops everything') && resolveUp());
    await Promise.race([
      up,
      dev.exited.then(() => {
        throw new Error(`dev exited early:\n${dev.output()}`);
      }),
    ]);
    const output = dev.output();
    expect(output).toMatch(/Webhook\s+http:\/\/127\.0\.0\.1:\d+\/generic/);
    expect(output).toContain('KUBECONFIG=.rollouts/kubeconfig kubectl get virtualservices');
    const state = JSON.parse(readFileSync(join(REPO_ROOT, '.rollouts/dev.json'), 'utf8'));
    const kubeconfig = readFileSync(state.kubeconfig, 'utf8');
    const apiServer = /server: (https:\/\/127\.0\.0\.1:\d+)/.exec(kubeconfig)?.[1] as string;
    expect(await listening(state.webhookUrl)).toBe(true);
    expect(await listening(state.dynamodbEndpoint)).toBe(true);
    expect(await listening(apiServer)).toBe(true);

    const list = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/rollouts.js'), 'list'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect(list.stdout).toMatch(/default\s+default\s+rollouts-demo\s+Healthy\s+0\/4\s+0/);

    dev.child.kill('SIGINT');
    expect(await dev.exited).toBe(0);
    expect(dev.output()).toContain('stopped; nothing left running');
    expect(await listening(state.webhookUrl)).toBe(false);
    expect(await listening(state.dynamodbEndpoint)).toBe(false);
    expect(await listening(apiServer)).toBe(false);
    expect(existsSync(join(REPO_ROOT, '.rollouts/dev.json'))).toBe(false);
  }, 180_000);
});
