/**
 * `npm run build` (and `prepare`, so `npm ci` and `npm install` run it): the CLI bundled into
 * dist/cli/ with the bundler the Lambda functions use, so `rollouts` starts without transpiling
 * TypeScript. Each command's heavy parts (local mode, the kubeconfig client) are chunks loaded only
 * when reached. dist/cli/inputs.json lists the sources, so bin/rollouts.js can tell a stale bundle.
 *
 * The bundle sits two directories below the repository, as lib/local/*.ts does: local mode finds the
 * repository (examples, tools, .rollouts/) two levels above its own module.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from '../infra/bundle.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const CLI_DIR = join(REPO_ROOT, 'dist/cli');

async function buildCli(): Promise<{ bytes: number; inputs: string[] }> {
  rmSync(CLI_DIR, { recursive: true, force: true });
  const { bytes, inputs } = await bundle(join(REPO_ROOT, 'bin/rollouts.ts'), CLI_DIR, {
    name: 'rollouts',
    splitting: true,
  });
  const sources = inputs
    .map((input) => relative(REPO_ROOT, join(process.cwd(), input)))
    // Dependencies change only through npm ci / npm install, which rebuild the bundle.
    .filter((input) => !input.startsWith('..') && !input.startsWith('node_modules/') && !input.includes(':'));
  writeFileSync(join(CLI_DIR, 'inputs.json'), `${JSON.stringify(sources, null, 1)}\n`);
  return { bytes, inputs: sources };
}

const started = performance.now();
const { bytes, inputs } = await buildCli();
process.stderr.write(
  `bundled the CLI into dist/cli/rollouts.mjs: ${(bytes / 1024).toFixed(0)} KB entry, ${inputs.length} sources, ${(performance.now() - started).toFixed(0)} ms\n`,
);
