#!/usr/bin/env node
// Entry point for `rollouts` (`npx rollouts` and an installed binary alike). It runs the prebuilt
// bundle dist/cli/rollouts.mjs (`npm run build`; `npm ci` and `npm install` build it through
// `prepare`), which starts without transpiling anything. When the bundle is missing, or older than
// one of the sources it was built from (an edit or a checkout since the last build), it runs the
// TypeScript sources through tsx instead: always the current code, only slower to start.
import { readFileSync, statSync } from 'node:fs';
import module from 'node:module';
import { URL } from 'node:url';

// Node's compile cache (V8 code cache on disk, in the system's temporary directory, keyed by each
// file's content): the bundle's chunks are compiled once per build, not on every command.
module.enableCompileCache();

const root = new URL('../', import.meta.url);
const bundle = new URL('dist/cli/rollouts.mjs', root);

function bundleIsCurrent() {
  try {
    const built = statSync(bundle).mtimeMs;
    const sources = JSON.parse(readFileSync(new URL('dist/cli/inputs.json', root), 'utf8'));
    return sources.every((source) => statSync(new URL(source, root)).mtimeMs <= built);
  } catch {
    return false;
  }
}

if (bundleIsCurrent()) {
  await import(bundle.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./rollouts.ts');
}
