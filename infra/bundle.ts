/**
 * Bundles with esbuild: minified ESM for node24 with source maps. Lambda entry points (used by the
 * CDK stack's local bundling and by the cold-start benchmark, so both measure the same artefact) and
 * the CLI (bin/build.ts).
 */
import { build, type Plugin } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * zod's classic API re-exports every translation of its error messages (`z.locales`, a third of a
 * function's bundle); the functions speak English, zod's default, so only `en` is kept.
 */
const englishOnlyZod: Plugin = {
  name: 'zod-english-only',
  setup(builder) {
    builder.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${join('node_modules', 'zod')}`)
        ? { path: 'zod-locales-en', namespace: 'zod-locales' }
        : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'zod-locales' }, () => ({
      contents: "export { default as en } from 'zod/v4/locales/en.js';",
      resolveDir: process.cwd(),
      loader: 'js',
    }));
  },
};

/**
 * Node's built-in modules reached through `require` (the banner's) instead of an ESM import. An ESM
 * import builds a facade that reads every export, which runs the lazy getters some built-ins have:
 * `node:http` then loads and compiles undici for its WebSocket export, which nothing here uses (tens
 * of milliseconds of every cold start, CLI and Lambda alike). Given a CommonJS module, esbuild reads
 * each named import where it is used, so only the getters the code names ever run.
 */
const builtinsThroughRequire: Plugin = {
  name: 'builtins-through-require',
  setup(builder) {
    builder.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) =>
      (args.kind === 'import-statement' || args.kind === 'dynamic-import') && isBuiltin(args.path)
        ? { path: args.path.replace(/^node:/, ''), namespace: 'builtin' }
        : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
      contents: `module.exports = require('node:${args.path}');`,
      loader: 'js',
    }));
  },
};

export interface BundleResult {
  file: string;
  bytes: number;
}

export interface BundleOptions {
  /** The entry's output name, without extension. */
  name?: string;
  /** Dynamic imports become chunks loaded only when reached (a CLI loads what its command needs). */
  splitting?: boolean;
  external?: string[];
}

export interface Bundle extends BundleResult {
  /** Every source file the bundle was built from, for telling whether it is stale. */
  inputs: string[];
}

/** The one esbuild setup of the project: Lambda functions and the CLI are bundled alike. */
export async function bundle(entry: string, outdir: string, options: BundleOptions = {}): Promise<Bundle> {
  mkdirSync(outdir, { recursive: true });
  const name = options.name ?? 'index';
  const file = join(outdir, `${name}.mjs`);
  const result = await build({
    entryPoints: { [name]: entry },
    outdir,
    outExtension: { '.js': '.mjs' },
    splitting: options.splitting ?? false,
    chunkNames: '[name]-[hash]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    sourcemap: true,
    metafile: true,
    mainFields: ['module', 'main'],
    external: options.external ?? [],
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    plugins: [englishOnlyZod, builtinsThroughRequire],
    logLevel: 'warning',
  });
  return {
    file,
    bytes:
      result.metafile.outputs[
        Object.keys(result.metafile.outputs).find((output) => output.endsWith(`${name}.mjs`)) as string
      ]?.bytes ?? 0,
    inputs: Object.keys(result.metafile.inputs),
  };
}

export async function bundleFunction(entry: string, outdir: string): Promise<BundleResult> {
  // Local mode reads kubeconfigs with it; on Lambda every cluster is EKS, reached with a token.
  const { file, bytes } = await bundle(entry, outdir, { external: ['@kubernetes/client-node'] });
  return { file, bytes };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [entry, outdir] = process.argv.slice(2);
  if (!entry || !outdir) {
    console.error('usage: node --import tsx infra/bundle.ts functions/<name>.ts <outdir>');
    process.exit(2);
  }
  const { bytes } = await bundleFunction(entry, outdir);
  console.error(`bundled ${entry}: ${(bytes / 1024).toFixed(0)} KB`);
}
