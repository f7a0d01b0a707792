/**
 * Bundles a Lambda entry point with esbuild: minified ESM for node24 with source maps. Used by the
 * CDK stack (local bundling) and by the cold-start benchmark, so both measure the same artefact.
 */
import { build, type Plugin } from 'esbuild';
import { mkdirSync } from 'node:fs';
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

export interface BundleResult {
  file: string;
  bytes: number;
}

export async function bundleFunction(entry: string, outdir: string): Promise<BundleResult> {
  mkdirSync(outdir, { recursive: true });
  const file = join(outdir, 'index.mjs');
  const result = await build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    sourcemap: true,
    metafile: true,
    mainFields: ['module', 'main'],
    // Local mode reads kubeconfigs with it; on Lambda every cluster is EKS, reached with a token.
    external: ['@kubernetes/client-node'],
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    plugins: [englishOnlyZod],
    logLevel: 'warning',
  });
  return {
    file,
    bytes:
      result.metafile.outputs[
        Object.keys(result.metafile.outputs).find((name) => name.endsWith('index.mjs')) as string
      ]?.bytes ?? 0,
  };
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
