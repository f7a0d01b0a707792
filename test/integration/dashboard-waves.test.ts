/**
 * The dashboard's fleet view in a real browser (Debian's chromium driven by playwright-core), over
 * DynamoDB Local alone: the view needs no live weights, so the fleet and its members are states in
 * the store, written as a runner writes them (under its lease, by savePass).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { FleetStore } from '../../lib/adapters/dynamodb/fleets.js';
import type { RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import type { RolloutKey } from '../../lib/adapters/dynamodb/types.js';
import { startDashboard, type Dashboard } from '../../lib/app/dashboard/server.js';
import { TOKEN_COOKIE } from '../../lib/app/dashboard/guard.js';
import type { RolloutStatus } from '../../lib/core/engine/types.js';
import type { FleetStatus } from '../../lib/core/fleet/types.js';
import { fleetKey, type Fleet } from '../../lib/core/model/fleet.js';
import { parseFleet } from '../../lib/core/model/fleet-spec.js';
import { buildDashboardPage } from '../../web/dashboard/build.js';
import { launchChromium, newPage } from './browser.js';
import { firstWaveInFlight } from '../unit/fleet-fixtures.js';
import { readDocuments } from '../unit/fixtures.js';
import { createStore, YELLOW } from './runner-harness.js';

const BLUE = 'argoproj/rollouts-demo:blue';
const LOAD_TOLERANT = { timeout: 60_000 };

let store: RolloutStore;
let fleet: Fleet;
let dashboard: Dashboard;
let browser: Browser;
let page: Page;

/** Writes `status` for `key` as a runner's pass does: under its lease, conditionally. */
async function saveStatus(key: RolloutKey, status: RolloutStatus | FleetStatus) {
  const now = Date.now();
  const leased = await store.acquireLease(key, 'test', now, now + 60_000);
  if (!leased.ok) throw new Error(`lease on ${key.cluster}/${key.namespace}/${key.name}: ${leased.error}`);
  const saved = await store.savePass({
    stored: leased.value,
    owner: 'test',
    status: status as RolloutStatus,
    dueAt: null,
    processed: [],
    history: [],
    now,
  });
  if (!saved.ok) throw new Error(`save of ${key.cluster}: ${saved.error}`);
}

const memberKey = (cluster: string): RolloutKey => ({
  cluster,
  namespace: fleet.namespace,
  name: fleet.name,
});

beforeAll(async () => {
  const pageDir = mkdtempSync(join(tmpdir(), 'dashboard-page-'));
  await buildDashboardPage(pageDir);
  store = await createStore();
  const doc = structuredClone(readDocuments('examples/istio-demo/rollout.yaml')[0]) as any;
  doc.metadata.namespace = `waves-${Math.random().toString(16).slice(2, 8)}`;
  delete doc.spec.cluster;
  doc.spec.clusters = ['one', 'two', 'three'];
  doc.spec.waves = [
    { name: 'canary', clusters: ['one'] },
    { name: 'rest', clusters: ['two', 'three'] },
  ];
  doc.spec.strategy.canary.steps = [{ setWeight: 20 }, { pause: {} }];
  const parsed = parseFleet(doc);
  if (!parsed.ok) throw new Error(parsed.error.join('\n'));
  fleet = parsed.value;
  await new FleetStore(store).apply(fleet, Date.now());
  // The first wave is in flight: its member paused at 20% on the fleet's image; the rest wait on blue.
  await saveStatus(fleetKey(fleet), firstWaveInFlight(YELLOW, BLUE, 'one'));
  await saveStatus(memberKey('one'), {
    phase: 'Paused',
    revision: 2,
    stableImage: BLUE,
    canaryImage: YELLOW,
    stepIndex: 1,
    weight: 20,
    pauseStartedAt: new Date().toISOString(),
  });
  for (const cluster of ['two', 'three'])
    await saveStatus(memberKey(cluster), {
      phase: 'Healthy',
      revision: 1,
      stableImage: BLUE,
      stepIndex: 2,
      weight: 0,
    });
  dashboard = await startDashboard({ connection: { store }, pageDir });
  browser = await launchChromium();
  page = await newPage(browser);
});

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
});

/** The focused element's tag and text, the way a keyboard user meets it. */
const focused = () =>
  page.evaluate(() => {
    const element = (globalThis as any).document.activeElement;
    return `${element.tagName.toLowerCase()}: ${(element.textContent ?? '').replace(/\s+/g, ' ').trim()}`;
  });

/** One member's row as words: cluster, phase, step, canary weight, image, state in the fleet. */
const memberRow = async (cluster: string) =>
  (await page.locator(`tr[data-member="${cluster}"] td`).allTextContents()).map((text) =>
    text.replace(/\s+/g, ' ').trim(),
  );

describe('the fleet in the dashboard', () => {
  it('lists the fleet as one row marked as a fleet, its members in no row of their own', async () => {
    await page.goto(dashboard.url);
    const row = page.locator(`tr[data-fleet="${fleet.namespace}/${fleet.name}"]`);
    await row.waitFor(LOAD_TOLERANT);
    const cells = (await row.locator('td').allTextContents()).map((text) => text.replace(/\s+/g, ' ').trim());
    expect(cells).toEqual([
      `${fleet.name} (fleet)`,
      '3 clusters',
      fleet.namespace,
      'Progressing',
      'wave 1/2 canary',
      '',
      YELLOW,
    ]);
    expect(await row.locator('[data-state="Progressing"] svg.icon[data-icon="play"]').count()).toBe(1);
    expect(await page.locator('tr[data-rollout]').count()).toBe(0);
  });

  it('opens the fleet from the keyboard: each wave with its members, phase, step, weight and state', async () => {
    await page.locator(`tr[data-fleet] button`).focus();
    await page.keyboard.press('Enter');
    await page.locator('table.waves').waitFor(LOAD_TOLERANT);
    expect(await focused()).toBe(`h2: Fleet ${fleet.namespace}/${fleet.name} Progressing`);
    const waves = page.locator('table.waves tbody');
    expect(
      await waves.evaluateAll((groups) => groups.map((group) => group.getAttribute('data-wave'))),
    ).toEqual(['canary', 'rest']);
    const canary = page.locator('tbody[data-wave="canary"]');
    expect(await canary.getAttribute('aria-current')).toBe('step');
    expect((await canary.locator('th').textContent())?.replace(/\s+/g, ' ').trim()).toBe(
      '► canary (in flight)',
    );
    expect(await page.locator('tbody[data-wave="rest"]').getAttribute('aria-current')).toBeNull();
    expect(await memberRow('one')).toEqual(['one', 'Paused', '1/2', '20%', YELLOW, 'in flight']);
    expect(await memberRow('two')).toEqual(['two', 'Healthy', '2/2', '0%', BLUE, 'idle']);
    expect(await memberRow('three')).toEqual(['three', 'Healthy', '2/2', '0%', BLUE, 'idle']);
    // Words beside icons: the phase and the member's state.
    const one = page.locator('tr[data-member="one"]');
    expect(await one.locator('[data-state="Paused"] svg.icon[data-icon="pause"]').count()).toBe(1);
    expect(await one.locator('[data-member-state="inFlight"] svg.icon[data-icon="play"]').count()).toBe(1);
  });

  it("opens a member's Rollout view from the fleet, and goes back to the fleet, then the list", async () => {
    await page.locator('tr[data-member="one"] button').focus();
    await page.keyboard.press('Enter');
    await page.locator('article.rollout').waitFor(LOAD_TOLERANT);
    expect(await focused()).toBe(`h2: one/${fleet.namespace}/${fleet.name} Paused`);
    await page.locator('.rollout button.link').focus();
    await page.keyboard.press('Enter');
    await page.locator('table.waves').waitFor(LOAD_TOLERANT);
    expect(await focused()).toBe(`h2: Fleet ${fleet.namespace}/${fleet.name} Progressing`);
    await page.locator('.fleet button.link').first().focus();
    await page.keyboard.press('Enter');
    await page.locator('table.list tr[data-fleet]').waitFor(LOAD_TOLERANT);
    expect(await focused()).toBe(`button: ${fleet.name}`);
  });

  it('shows a member moving on live, without a reload', async () => {
    await page.locator(`tr[data-fleet] button`).click();
    await page.locator('table.waves').waitFor(LOAD_TOLERANT);
    await saveStatus(memberKey('one'), {
      phase: 'Healthy',
      revision: 2,
      stableImage: YELLOW,
      stepIndex: 2,
      weight: 0,
    });
    await page.locator('tr[data-member="one"] [data-member-state="complete"]').waitFor(LOAD_TOLERANT);
    expect(await memberRow('one')).toEqual(['one', 'Healthy', '2/2', '0%', YELLOW, 'complete']);
  });
});

describe('the fleet API', () => {
  const get = (path: string) =>
    fetch(`http://127.0.0.1:${dashboard.port}${path}`, {
      headers: { Cookie: `${TOKEN_COOKIE}=${dashboard.token}` },
    });

  it('answers 401 to /api/fleet without the token', async () => {
    const response = await fetch(
      `http://127.0.0.1:${dashboard.port}/api/fleet?namespace=${fleet.namespace}&name=${fleet.name}`,
    );
    expect(response.status).toBe(401);
  });

  it('answers 404 for an unknown fleet and 400 for a fleet record read as a Rollout', async () => {
    const missing = await get(`/api/fleet?namespace=${fleet.namespace}&name=nothing`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toBe(
      `fleet ${fleet.namespace}/nothing not found`,
    );
    const asRollout = await get(`/api/rollout?cluster=*&namespace=${fleet.namespace}&name=${fleet.name}`);
    expect(asRollout.status).toBe(400);
    expect(((await asRollout.json()) as { error: string }).error).toContain('cluster * holds fleets');
  });
});
