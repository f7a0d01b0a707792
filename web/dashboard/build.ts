/**
 * Builds the dashboard page into dist/dashboard/: app.js (Preact + htm + uPlot, minified by esbuild)
 * and app.css (uPlot's stylesheet, then the page's). The CSP forbids inline styles, so the weight
 * bars' widths are classes `.w0`…`.w100`.
 */
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const UPLOT_CSS = createRequire(import.meta.url).resolve('uplot/dist/uPlot.min.css');

export async function buildDashboardPage(outdir: string): Promise<{ scriptBytes: number }> {
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    entryPoints: [join(HERE, 'app.ts')],
    outfile: join(outdir, 'app.js'),
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    legalComments: 'none',
    metafile: true,
    logLevel: 'error',
  });
  const widths = Array.from({ length: 101 }, (_, n) => `.w${n}{width:${n}%}`).join('');
  const styles = [UPLOT_CSS, join(HERE, 'app.css')].map((file) => readFileSync(file, 'utf8'));
  writeFileSync(join(outdir, 'app.css'), `${styles.join('\n')}${widths}\n`);
  const output = Object.values(result.metafile.outputs)[0];
  return { scriptBytes: output?.bytes ?? 0 };
}
