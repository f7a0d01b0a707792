/**
 * Builds the dashboard page into dist/dashboard/: app.js (Preact + htm, minified by esbuild) and
 * app.css. The CSP forbids inline styles, so the weight bars' widths are classes `.w0`…`.w100`.
 */
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

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
  writeFileSync(join(outdir, 'app.css'), `${readFileSync(join(HERE, 'app.css'), 'utf8')}${widths}\n`);
  const output = Object.values(result.metafile.outputs)[0];
  return { scriptBytes: output?.bytes ?? 0 };
}
