/**
 * `rollouts dashboard` in a real browser (Debian's chromium driven by playwright-core), against
 * DynamoDB Local and the real API server: the list, live updates, an action from the page driven by
 * the keyboard, analysis charts from measurements a real Prometheus answered, and the token and
 * same-origin guards.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Browser, Page } from 'playwright-core';
import { keyOf, type RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import { applyFiles, sendCommand } from '../../lib/app/cli/store-commands.js';
import { CSP, startDashboard, type Dashboard } from '../../lib/app/dashboard/server.js';
import type { Rollout } from '../../lib/core/model/rollout.js';
import { waitFor } from '../../lib/local/processes.js';
import { openMetrics, startPrometheus, type LocalPrometheus } from '../../lib/local/prometheus.js';
import { REPO_ROOT } from '../../lib/local/testcluster.js';
import { buildDashboardPage } from '../../web/dashboard/build.js';
import { launchChromium, newPage } from './browser.js';
import {
  clusters,
  createStore,
  demoRolloutIn,
  everyRoute,
  passUntil,
  pausedAt,
  routeWeights,
  runnerDeps,
  YELLOW,
} from './runner-harness.js';
import { applyDemo, createNamespace, waitForAvailable } from './sandbox.js';

const LOAD_TOLERANT = { timeout: 60_000 };
const PHASES = ['Healthy', 'Progressing', 'Paused', 'Promoting', 'Degraded', 'InvalidSpec'];

let store: RolloutStore;
let namespace: string;
let rollout: Rollout;
let dashboard: Dashboard;
let browser: Browser;
let page: Page;
let scriptBytes: number;

const origin = () => `http://127.0.0.1:${dashboard.port}`;

beforeAll(async () => {
  const pageDir = mkdtempSync(join(tmpdir(), 'dashboard-page-'));
  ({ scriptBytes } = await buildDashboardPage(pageDir));
  store = await createStore();
  namespace = await createNamespace('dashboard');
  await applyDemo(namespace);
  rollout = demoRolloutIn(namespace);
  await store.apply(rollout, Date.now());
  dashboard = await startDashboard({ connection: { store, clusters: clusters() }, pageDir });
  browser = await launchChromium();
  page = await newPage(browser);
});

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
});

/** The page's text for every route of one VirtualService. */
const routeTexts = (vs: string) => page.locator(`[data-vs="${namespace}/${vs}"] .weights`).allTextContents();

/** Waits until the page shows `count` weight bars, all at stable/canary (the page's CSP forbids eval). */
const everyBarAt = (count: number, stable: number, canary: number) =>
  waitFor(
    `${count} weight bars at ${stable}/${canary}`,
    async () => {
      const texts = await page.locator('.weights').allTextContents();
      return texts.length === count && texts.every((text) => text === `stable ${stable} / canary ${canary}`)
        ? true
        : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );

/** Checks that nothing was sent for `target` between this call and the returned one's. */
async function unchanged(target: Rollout) {
  const before = await store.get(keyOf(target));
  return async () => {
    expect(await store.pendingCommands(keyOf(target))).toEqual([]);
    expect((await store.get(keyOf(target)))?.commandSeq).toBe(before?.commandSeq);
  };
}

/** The focused element as `role: name`, the way a keyboard user meets it (`body: …` when none is). */
const focused = () =>
  page.evaluate(() => {
    // No DOM types in the tests' compilation: this runs in the page.
    const { activeElement, body } = (globalThis as any).document;
    const element = activeElement ?? body;
    const role = element.tagName === 'H2' ? 'heading' : element.tagName.toLowerCase();
    const name =
      element.tagName === 'INPUT'
        ? (element.closest('label')?.textContent ?? '')
        : (element.textContent ?? '');
    return `${role}: ${name.replace(/\s+/g, ' ').trim().slice(0, 80)}`;
  });

/** `locator` holds the state `word` beside its icon `icon`, not as colour alone. */
async function expectState(locator: ReturnType<Page['locator']>, word: string, icon: string) {
  const state = locator.locator(`[data-state="${word}"]`);
  expect(await state.count()).toBe(1);
  expect(await state.textContent()).toBe(` ${word}`);
  expect(await state.locator(`svg.icon[data-icon="${icon}"][aria-hidden="true"]`).count()).toBe(1);
}

describe('the dashboard in a browser', () => {
  it('serves a page whose JavaScript is under 150 KB, with the CSP', async () => {
    expect(scriptBytes).toBeGreaterThan(0);
    expect(scriptBytes).toBeLessThan(150 * 1024);
    const response = await page.goto(dashboard.url);
    expect(response?.status()).toBe(200);
    // The token was exchanged for a cookie and left the address bar.
    expect(page.url()).toBe(`${origin()}/`);
    expect(response?.headers()['content-security-policy']).toBe(CSP);
    const cookies = await page.context().cookies();
    expect(cookies).toEqual([
      expect.objectContaining({ name: 'rollouts_dashboard', httpOnly: true, sameSite: 'Strict' }),
    ]);
  });

  it('lists the demo Rollout with its phase (word and icon), step and canary weight', async () => {
    const row = page.locator(`tr[data-rollout="default/${namespace}/rollouts-demo"]`);
    await expect(row.textContent(LOAD_TOLERANT)).resolves.toContain('Healthy');
    await expectState(row, 'Healthy', 'check');
    const { status } = (await store.get(keyOf(rollout)))!;
    const steps = rollout.canary.steps.length;
    expect(await row.locator('.step').textContent()).toBe(
      `${Math.min(status.stepIndex + 1, steps)}/${steps}`,
    );
    expect(await row.locator('.canary-weight').textContent()).toBe('0%');
  });

  it('shows a set image from the command path live, without a reload, with every route at 95/5', async () => {
    await page.getByRole('button', { name: 'rollouts-demo' }).click();
    await page.locator('.rollout h2').waitFor(LOAD_TOLERANT);
    await page.evaluate(() => ((globalThis as any).marker = 'no reload'));
    await page.locator(`[data-vs="${namespace}/rollouts-demo-vsvc1"]`).waitFor(LOAD_TOLERANT);
    expect(await routeTexts('rollouts-demo-vsvc1')).toEqual(Array(3).fill('stable 100 / canary 0'));

    const sent = await sendCommand(
      { store },
      keyOf(rollout),
      { kind: 'setImage', image: YELLOW },
      Date.now(),
    );
    expect(sent.ok).toBe(true);
    await passUntil(runnerDeps(store), rollout, pausedAt(5), 'paused at 5');

    await page.locator('.rollout h2', { hasText: 'Paused' }).waitFor(LOAD_TOLERANT);
    await expectState(page.locator('.rollout h2'), 'Paused', 'pause');
    expect(await page.locator('.rollout').textContent()).toContain(`canary ${YELLOW}`);
    await everyBarAt(6, 95, 5);
    for (const vs of ['rollouts-demo-vsvc1', 'rollouts-demo-vsvc2'])
      expect(await routeTexts(vs)).toEqual(Array(3).fill('stable 95 / canary 5'));
    // The current step says so in words, not only in weight or colour.
    expect(await page.locator('.steps li[aria-current="step"]').textContent()).toBe('► pause: {} (current)');
    expect(await page.evaluate(() => (globalThis as any).marker)).toBe('no reload');
  });

  it('reaches every action from the keyboard in order; Escape or Cancel closes a confirmation and sends nothing', async () => {
    // Opening the Rollout put the focus on its heading; Tab walks back to the top, then forwards.
    expect(await focused()).toBe(`heading: default/${namespace}/rollouts-demo Paused`);
    const order: string[] = [];
    await page.locator('.rollout button.link').focus();
    for (let tab = 0; tab < 7; tab++) {
      order.push(await focused());
      await page.keyboard.press('Tab');
    }
    expect(order).toEqual([
      'button: ← All rollouts',
      'button: Promote',
      'button: Promote --full',
      'button: Abort',
      'button: Retry',
      'input: New image for rollouts-demo',
      'button: Set image',
    ]);

    const check = await unchanged(rollout);
    await page.getByRole('button', { name: 'Abort', exact: true }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor(LOAD_TOLERANT);
    expect(await dialog.textContent()).toContain(`Abort default/${namespace}/rollouts-demo?`);
    // The safe choice has the focus; Escape closes the dialog and returns to the button.
    expect(await focused()).toBe('button: Cancel');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached', ...LOAD_TOLERANT });
    expect(await focused()).toBe('button: Abort');

    // Set image: typed, Enter submits the form, and the confirmation names the assignment.
    await page.getByLabel('New image for rollouts-demo').focus();
    await page.keyboard.type('argoproj/rollouts-demo:green');
    await page.keyboard.press('Enter');
    await dialog.waitFor(LOAD_TOLERANT);
    expect(await dialog.textContent()).toContain(
      `Set image rollouts-demo=argoproj/rollouts-demo:green default/${namespace}/rollouts-demo?`,
    );
    expect(await focused()).toBe('button: Cancel');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached', ...LOAD_TOLERANT });
    expect(await focused()).toBe('input: New image for rollouts-demo');
    await check();
  });

  it('promotes from the keyboard after a confirmation, through the command path, to 50/50 on the API server', async () => {
    await page.getByRole('button', { name: 'Promote', exact: true }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor(LOAD_TOLERANT);
    expect(await dialog.textContent()).toContain(`Promote default/${namespace}/rollouts-demo?`);
    // Nothing is sent before the confirmation.
    expect(await store.pendingCommands(keyOf(rollout))).toEqual([]);
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('button: Confirm');
    await page.keyboard.press('Enter');
    await page.locator('.notice').waitFor(LOAD_TOLERANT);

    const queued = await store.pendingCommands(keyOf(rollout));
    expect(queued.map(({ command, source }) => ({ command, source }))).toEqual([
      { command: { kind: 'promote' }, source: 'dashboard' },
    ]);
    await passUntil(runnerDeps(store), rollout, pausedAt(50), 'paused at 50 after the promote');
    expect(await routeWeights(rollout)).toEqual(everyRoute(50, 50));
    await everyBarAt(6, 50, 50);
  });

  it('goes back to the list from the keyboard, the focus on the Rollout it left', async () => {
    await page.locator('.rollout button.link').focus();
    await page.keyboard.press('Enter');
    await page.locator('table.list').waitFor(LOAD_TOLERANT);
    expect(await focused()).toBe('button: rollouts-demo');
    const row = page.locator(`tr[data-rollout="default/${namespace}/rollouts-demo"]`);
    expect(await row.locator(':focus').count()).toBe(1);
    // Every state on the page is a phase word beside an icon.
    for (const state of await page.locator('[data-state]').all()) {
      expect(PHASES).toContain(await state.getAttribute('data-state'));
      expect(await state.textContent()).toBe(` ${await state.getAttribute('data-state')}`);
      expect(await state.locator('svg.icon[aria-hidden="true"]').count()).toBe(1);
    }
  });
});

describe('analysis on the Rollout view', () => {
  /** 2026-01-01T00:00:00Z: the runner's clock starts here and moves 5 s a pass. */
  const T = 1_767_225_600;
  let prometheus: LocalPrometheus;
  let analysed: Rollout;

  /** A ratio per canary Service, a sample every 15 s around T: good answers 0.99, bad 0.5. */
  const ratios = ['good', 'bad'].map((service) => ({
    name: 'canary_success_ratio',
    type: 'gauge' as const,
    labels: { service },
    samples: Array.from({ length: 200 }, (_, k): [number, number] => [
      T - 600 + 15 * k,
      service === 'good' ? 0.99 : 0.5,
    ]),
  }));

  const metric = (name: string, service: string) => ({
    name,
    interval: '10s',
    count: 3,
    failureLimit: 1,
    successCondition: 'result[0] >= 0.95',
    provider: {
      prometheus: {
        address: '{{args.prometheus-address}}',
        query: `canary_success_ratio{service="${service}"}`,
      },
    },
  });

  beforeAll(async () => {
    prometheus = await startPrometheus({
      logFile: join(REPO_ROOT, '.tmp/dashboard-test-prometheus.log'),
      backfill: openMetrics(ratios),
    });
    const other = await createNamespace('dashboard-analysis');
    await applyDemo(other);
    await waitForAvailable(other, 'rollouts-demo-stable', 1);
    const template = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AnalysisTemplate',
      metadata: { name: 'canary-health', namespace: other },
      spec: {
        args: [{ name: 'prometheus-address' }],
        metrics: [metric('success-rate', 'good'), metric('error-budget', 'bad')],
      },
    };
    const applied = await applyFiles(
      { store },
      [{ path: 'canary-health.yaml', text: stringify(template) }],
      Date.now(),
    );
    expect(applied.ok).toBe(true);
    analysed = demoRolloutIn(other, (doc) => {
      doc.spec.strategy.canary.steps = [
        { setWeight: 20 },
        {
          analysis: {
            templates: [{ templateName: 'canary-health' }],
            args: [{ name: 'prometheus-address', value: prometheus.url }],
            // error-budget fails every measurement, but only as a dry run: the step still passes.
            dryRun: [{ metricName: 'error-budget' }],
          },
        },
        { pause: {} },
      ];
    });
    await store.apply(analysed, Date.now());
    await store.enqueueCommand(keyOf(analysed), { kind: 'setImage', image: YELLOW }, 'test', Date.now());
    let now = T * 1000;
    await passUntil(
      runnerDeps(store, 'runner-dashboard', { clock: () => now }),
      analysed,
      (stored) => {
        now += 5000;
        return stored.status.stepIndex === 2 || stored.status.phase === 'Degraded';
      },
      'the analysis step to complete',
    );
  }, 180_000);

  afterAll(async () => {
    await prometheus?.stop();
  });

  it('charts each metric of the run with its measurements, successful and failed, in words too', async () => {
    const stored = (await store.get(keyOf(analysed)))!;
    expect(stored.status).toMatchObject({ phase: 'Paused', stepIndex: 2 });
    const run = stored.status.analysis!.step!;
    expect(run.phase).toBe('Successful');

    await page.locator(`tr[data-rollout="default/${analysed.namespace}/rollouts-demo"] button`).click();
    const section = page.locator('section.analysis');
    await section.waitFor(LOAD_TOLERANT);
    await expectState(section.locator(`[data-run="${run.id}"] h4`), 'Successful', 'check');

    for (const [name, phase, icon] of [
      ['success-rate', 'Successful', 'check'],
      ['error-budget', 'Failed', 'cross'],
    ] as const) {
      const result = run.results.find((one) => one.name === name)!;
      expect(result.phase).toBe(phase);
      const block = section.locator(`.metric[data-metric="${name}"]`);
      await expectState(block.locator('h5'), phase, icon);
      // uPlot drew the chart: its canvas, and the legend naming the metric and each phase in words.
      const chart = block.locator(`figure[data-chart="${name}"]`);
      await chart.locator('canvas').first().waitFor(LOAD_TOLERANT);
      expect(await chart.locator('.u-legend .u-label').allTextContents()).toEqual([
        'time',
        name,
        'Successful',
        'Failed',
        'Inconclusive',
      ]);
      expect(await chart.locator('[role="img"]').getAttribute('aria-label')).toBe(
        `${name}: ${result.measurements.length} measurements, ${result.successful} Successful, ${result.failed} Failed, 0 Inconclusive`,
      );
      const taken = result.measurements.length;
      expect(await chart.locator('figcaption').textContent()).toBe(
        `${name} over time: ${taken} of ${taken} measurements charted`,
      );
      // Every stored measurement is a row, its phase a word beside an icon.
      const rows = block.locator('table.measurements tbody tr');
      expect(await rows.count()).toBe(result.measurements.length);
      for (const [index, record] of result.measurements.entries()) {
        const cells = await rows.nth(index).locator('td').allTextContents();
        expect(cells.slice(0, 4)).toEqual([String(record.index), record.at, ` ${phase}`, record.value]);
        expect(
          await rows.nth(index).locator(`[data-state="${phase}"] svg[data-icon="${icon}"]`).count(),
        ).toBe(1);
      }
    }
    const values = (name: string) =>
      run.results.find((one) => one.name === name)!.measurements.map((record) => record.value);
    expect(values('success-rate')).toEqual(['[0.99]', '[0.99]', '[0.99]']);
    expect(values('error-budget')).toEqual(['[0.5]', '[0.5]']);
  });
});

describe('the guards', () => {
  const post = (headers: Record<string, string>) =>
    fetch(`${origin()}/api/command`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify({ key: keyOf(rollout), action: 'abort' }),
    });

  it('answers 401 without the token, to reads and writes, and changes nothing', async () => {
    const check = await unchanged(rollout);
    for (const path of ['/', '/app.js', '/api/rollouts', '/api/events'])
      expect((await fetch(`${origin()}${path}`)).status).toBe(401);
    expect((await fetch(`${origin()}/?token=wrong`)).status).toBe(401);
    const refused = await post({ Origin: origin() });
    expect(refused.status).toBe(401);
    await check();
  });

  it('refuses a cross-origin POST even with the cookie and the token header, and changes nothing', async () => {
    const check = await unchanged(rollout);
    const credentials = {
      Cookie: `rollouts_dashboard=${dashboard.token}`,
      'X-Dashboard-Token': dashboard.token,
    };
    expect((await post({ ...credentials, Origin: 'http://evil.example' })).status).toBe(403);
    expect((await post({ ...credentials, 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    // Same origin, but without the header a form or another page could not add.
    expect((await post({ Cookie: credentials.Cookie, Origin: origin() })).status).toBe(403);
    await check();
  });

  it('refuses a cross-origin POST from a page in the browser', async () => {
    const check = await unchanged(rollout);
    const other = await browser.newPage();
    // Another origin (localhost is not 127.0.0.1 to the browser) posting to the dashboard.
    await other.goto(`http://localhost:${dashboard.port}/nothing`);
    const status = await other.evaluate(
      async ({ target, key, token }) =>
        (
          await fetch(target, {
            method: 'POST',
            credentials: 'include',
            headers: { 'Content-Type': 'application/json', 'X-Dashboard-Token': token },
            body: JSON.stringify({ key, action: 'abort' }),
          }).catch(() => ({ status: 0 }))
        ).status,
      { target: `${origin()}/api/command`, key: keyOf(rollout), token: dashboard.token },
    );
    // Refused by the browser (CORS preflight unanswered) or by the server: never accepted.
    expect([0, 401, 403]).toContain(status);
    await other.close();
    await check();
  });
});
