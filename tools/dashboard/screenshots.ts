/**
 * `npm run screenshots`: the dashboard's list, a Rollout in flight and its analysis chart, as small
 * PNGs in docs/images/, taken by the browser the tests drive. It runs local mode with the mesh
 * simulator and a Prometheus scraping it, gives the demo Rollout an analysis step after its first
 * pause (examples/istio-demo/analysis/success-rate.yaml), sets a new image and takes the list and
 * the Rollout at 95/5; then promotes and takes the analysis once its run is over. Each picture is
 * as tall as its content; `pngquant` (Debian's package), when installed, reduces it to a palette.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Locator, type Page } from 'playwright-core';
import { KubeHttp } from '../../lib/adapters/kube/http.js';
import type { StoredRollout } from '../../lib/adapters/dynamodb/types.js';
import { applyFiles, sendCommand } from '../../lib/app/cli/store-commands.js';
import { startDashboard } from '../../lib/app/dashboard/server.js';
import type { Command } from '../../lib/core/engine/types.js';
import { parseRollout } from '../../lib/core/model/rollout.js';
import { startLocalMetrics } from '../../lib/local/mesh.js';
import { startLocalMode, type LocalMode } from '../../lib/local/mode.js';
import { waitFor } from '../../lib/local/processes.js';
import { readManifests, REPO_ROOT } from '../../lib/local/testcluster.js';
import { buildDashboardPage } from '../../web/dashboard/build.js';

const KEY = { cluster: 'default', namespace: 'default', name: 'rollouts-demo' };
const DEMO = join(REPO_ROOT, 'examples/istio-demo');
const IMAGES = join(REPO_ROOT, 'docs/images');
const pageDir = join(REPO_ROOT, 'dist/dashboard');

/** A picture of the whole page (900 px wide), or of one part of it with a margin. */
async function shoot(target: Page | Locator, name: string): Promise<void> {
  const path = join(IMAGES, name);
  if ('goto' in target) await target.screenshot({ path, fullPage: true });
  else {
    const box = await target.boundingBox();
    if (!box) throw new Error(`${name}: nothing to take, the part is not on the page`);
    // The box is in the viewport's coordinates; a full-page clip is in the page's.
    const scrolled = await target.page().evaluate(() => ({ x: window.scrollX, y: window.scrollY }));
    const margin = 16;
    await target.page().screenshot({
      path,
      fullPage: true,
      clip: {
        x: box.x + scrolled.x - margin,
        y: box.y + scrolled.y - margin,
        width: box.width + 2 * margin,
        height: box.height + 2 * margin,
      },
    });
  }
  const quantized = spawnSync('pngquant', [
    '--quality=70-95',
    '--speed=1',
    '--strip',
    '--force',
    '--output',
    path,
    path,
  ]);
  const note = quantized.error
    ? ' (pngquant is not installed: apt-get install pngquant makes it smaller)'
    : quantized.status === 0
      ? ' (pngquant)'
      : ` (pngquant left it as it was: exit ${quantized.status})`;
  console.log(`wrote ${path}: ${Math.round(statSync(path).size / 1024)} KB${note}`);
}

async function send(local: LocalMode, command: Command): Promise<void> {
  const sent = await sendCommand(local, KEY, command, Date.now(), 'screenshots');
  if (!sent.ok) throw new Error(sent.stderr);
}

async function until(local: LocalMode, what: string, done: (stored: StoredRollout) => boolean) {
  await waitFor(
    what,
    async () => {
      const stored = await local.store.get(KEY);
      if (stored?.status.phase === 'Degraded')
        throw new Error(`the demo Rollout aborted: ${stored.status.message}`);
      return stored && done(stored) ? true : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 500 },
  );
}

/** The demo Rollout with its success rate analysed at 20%, between its first pause and 50%. */
function analysedDemo(prometheusUrl: string) {
  const doc = readManifests(DEMO, 'rollout.yaml')[0] as {
    spec: { strategy: { canary: { steps: unknown[] } } };
  };
  doc.spec.strategy.canary.steps = [
    { setWeight: 5 },
    { pause: {} },
    { setWeight: 20 },
    {
      analysis: {
        templates: [{ templateName: 'success-rate' }],
        args: [
          { name: 'service-name', value: 'rollouts-demo-canary.default.svc.cluster.local' },
          { name: 'prometheus-address', value: prometheusUrl },
        ],
      },
    },
    { pause: {} },
  ];
  const parsed = parseRollout(doc);
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  return parsed.value;
}

await buildDashboardPage(pageDir);
const local = await startLocalMode({ progress: (message) => console.log(`… ${message}`) });
const admin = new KubeConfig();
admin.loadFromFile(local.kubeconfigPath);
admin.setCurrentContext('admin');
const metrics = await startLocalMetrics({
  kube: new KubeHttp(admin),
  namespace: KEY.namespace,
  virtualServices: ['rollouts-demo-vsvc1'],
  logFile: join(REPO_ROOT, '.tmp/screenshots-prometheus.log'),
});
const dashboard = await startDashboard({ connection: local, pageDir });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  const template = join(DEMO, 'analysis/success-rate.yaml');
  const applied = await applyFiles(
    local,
    [{ path: template, text: readFileSync(template, 'utf8') }],
    Date.now(),
  );
  if (!applied.ok) throw new Error(applied.stderr);
  await local.store.apply(analysedDemo(metrics.prometheusUrl), Date.now());
  await send(local, { kind: 'setImage', image: 'argoproj/rollouts-demo:yellow' });
  await until(
    local,
    'the demo Rollout paused at 5%',
    (s) => s.status.phase === 'Paused' && s.status.weight === 5,
  );

  const page = await browser.newPage({ viewport: { width: 900, height: 100 }, deviceScaleFactor: 1 });
  await page.goto(dashboard.url);
  await page.locator('tr[data-rollout]', { hasText: 'Paused' }).waitFor({ timeout: 60_000 });
  await shoot(page, 'dashboard-list.png');
  await page.getByRole('button', { name: KEY.name }).click();
  await page.locator('.weights', { hasText: 'canary 5' }).first().waitFor({ timeout: 60_000 });
  // The picture shows the page, not where the keyboard focus went on opening the Rollout.
  await page.locator(':focus').blur();
  await shoot(page, 'dashboard-rollout.png');

  await send(local, { kind: 'promote' });
  await until(
    local,
    'the analysis step to pass',
    (s) => s.status.phase === 'Paused' && s.status.stepIndex === 4,
  );
  const analysis = page.locator('section.analysis');
  await analysis.locator('.metric h5 [data-state="Successful"]').waitFor({ timeout: 60_000 });
  await analysis.locator('canvas').first().waitFor({ timeout: 60_000 });
  await shoot(analysis, 'dashboard-analysis.png');
} finally {
  await browser.close();
  await dashboard.close();
  await metrics.stop();
  await local.stop();
}
