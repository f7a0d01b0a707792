/**
 * `rollouts dashboard` in a real browser (Debian's chromium driven by playwright-core), against
 * DynamoDB Local and the real API server: the list, live updates, an action from the page, and the
 * token and same-origin guards.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { keyOf, type RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import { sendCommand } from '../../lib/app/cli/store-commands.js';
import { CSP, startDashboard, type Dashboard } from '../../lib/app/dashboard/server.js';
import type { Rollout } from '../../lib/core/model/rollout.js';
import { waitFor } from '../../lib/local/processes.js';
import { buildDashboardPage } from '../../web/dashboard/build.js';
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
import { applyDemo, createNamespace } from './sandbox.js';

const LOAD_TOLERANT = { timeout: 60_000 };

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
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage();
  page.setDefaultTimeout(60_000);
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

  it('lists the demo Rollout with its phase, step and canary weight', async () => {
    const row = page.locator(`tr[data-rollout="default/${namespace}/rollouts-demo"]`);
    await expect(row.textContent(LOAD_TOLERANT)).resolves.toContain('✔ Healthy');
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

    await page.locator('.rollout h2', { hasText: '॥ Paused' }).waitFor(LOAD_TOLERANT);
    expect(await page.locator('.rollout').textContent()).toContain(`canary ${YELLOW}`);
    await everyBarAt(6, 95, 5);
    for (const vs of ['rollouts-demo-vsvc1', 'rollouts-demo-vsvc2'])
      expect(await routeTexts(vs)).toEqual(Array(3).fill('stable 95 / canary 5'));
    expect(await page.locator('.steps li.current').textContent()).toContain('pause');
    expect(await page.evaluate(() => (globalThis as any).marker)).toBe('no reload');
  });

  it('promotes from the page after a confirmation, through the command path, to 50/50 on the API server', async () => {
    await page.getByRole('button', { name: 'Promote', exact: true }).click();
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor(LOAD_TOLERANT);
    expect(await dialog.textContent()).toContain(`Promote default/${namespace}/rollouts-demo?`);
    // Nothing is sent before the confirmation.
    expect(await store.pendingCommands(keyOf(rollout))).toEqual([]);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page.locator('.notice').waitFor(LOAD_TOLERANT);

    const queued = await store.pendingCommands(keyOf(rollout));
    expect(queued.map(({ command, source }) => ({ command, source }))).toEqual([
      { command: { kind: 'promote' }, source: 'dashboard' },
    ]);
    await passUntil(runnerDeps(store), rollout, pausedAt(50), 'paused at 50 after the promote');
    expect(await routeWeights(rollout)).toEqual(everyRoute(50, 50));
    await everyBarAt(6, 50, 50);
  });
});

describe('the guards', () => {
  const post = (headers: Record<string, string>) =>
    fetch(`${origin()}/api/command`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify({ key: keyOf(rollout), action: 'abort' }),
    });

  const unchanged = async () => {
    const before = await store.get(keyOf(rollout));
    return async () => {
      expect(await store.pendingCommands(keyOf(rollout))).toEqual([]);
      expect((await store.get(keyOf(rollout)))?.commandSeq).toBe(before?.commandSeq);
    };
  };

  it('answers 401 without the token, to reads and writes, and changes nothing', async () => {
    const check = await unchanged();
    for (const path of ['/', '/app.js', '/api/rollouts', '/api/events'])
      expect((await fetch(`${origin()}${path}`)).status).toBe(401);
    expect((await fetch(`${origin()}/?token=wrong`)).status).toBe(401);
    const refused = await post({ Origin: origin() });
    expect(refused.status).toBe(401);
    await check();
  });

  it('refuses a cross-origin POST even with the cookie and the token header, and changes nothing', async () => {
    const check = await unchanged();
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
    const check = await unchanged();
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
