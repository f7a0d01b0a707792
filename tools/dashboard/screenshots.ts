/**
 * `npm run screenshots`: the dashboard's list and a Rollout in flight, as small PNGs in docs/images/,
 * taken by the browser the tests drive. It runs local mode, sets a new image on the demo Rollout and
 * waits until the runner holds it at its first pause.
 */
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { sendCommand } from '../../lib/app/cli/store-commands.js';
import { startDashboard } from '../../lib/app/dashboard/server.js';
import { startLocalMode } from '../../lib/local/mode.js';
import { waitFor } from '../../lib/local/processes.js';
import { REPO_ROOT } from '../../lib/local/testcluster.js';
import { buildDashboardPage } from '../../web/dashboard/build.js';

const KEY = { cluster: 'default', namespace: 'default', name: 'rollouts-demo' };
const IMAGES = join(REPO_ROOT, 'docs/images');
const pageDir = join(REPO_ROOT, 'dist/dashboard');

await buildDashboardPage(pageDir);
const local = await startLocalMode({ progress: (message) => console.log(`… ${message}`) });
const dashboard = await startDashboard({ connection: local, pageDir });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  const sent = await sendCommand(
    local,
    KEY,
    { kind: 'setImage', image: 'argoproj/rollouts-demo:yellow' },
    Date.now(),
    'screenshots',
  );
  if (!sent.ok) throw new Error(sent.stderr);
  await waitFor(
    'the demo Rollout paused at 5%',
    async () => {
      const stored = await local.store.get(KEY);
      return stored?.status.phase === 'Paused' && stored.status.weight === 5 ? true : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 500 },
  );
  const page = await browser.newPage({ viewport: { width: 1100, height: 300 } });
  await page.goto(dashboard.url);
  await page.locator('tr[data-rollout]', { hasText: 'Paused' }).waitFor({ timeout: 60_000 });
  await page.screenshot({ path: join(IMAGES, 'dashboard-list.png') });
  await page.setViewportSize({ width: 1100, height: 900 });
  await page.getByRole('button', { name: KEY.name }).click();
  await page.locator('.weights', { hasText: 'canary 5' }).first().waitFor({ timeout: 60_000 });
  await page.screenshot({ path: join(IMAGES, 'dashboard-rollout.png'), fullPage: true });
  console.log(`wrote ${IMAGES}/dashboard-list.png and dashboard-rollout.png`);
} finally {
  await browser.close();
  await dashboard.close();
  await local.stop();
}
