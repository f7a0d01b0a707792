/**
 * The `rollouts` CLI. Each command parses its flags here and calls lib; the commands that need
 * no store (lint, preview) read files only.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { lint } from '../lib/cli/lint.js';
import type { SourceFile } from '../lib/cli/manifests.js';
import { preview, type OutputFormat } from '../lib/cli/preview.js';

const USAGE = `usage: rollouts <command> [flags]

Commands that read files only:
  lint -f rollout.yaml [--virtualservice vs.yaml ...]
  preview -f rollout.yaml --virtualservice vs.yaml [...] --weight N [-o yaml|json]
`;

class UsageError extends Error {}

function readSource(path: string): SourceFile {
  try {
    return { path, text: readFileSync(path, 'utf8') };
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

function fileFlags(args: string[], extra: Record<string, { type: 'string'; short?: string }> = {}) {
  const parsed = parseArgs({
    args,
    options: {
      filename: { type: 'string', short: 'f', multiple: true },
      virtualservice: { type: 'string', multiple: true },
      ...extra,
    },
    strict: true,
    allowPositionals: false,
  });
  const values = parsed.values as Record<string, string | string[] | undefined>;
  const filenames = (values.filename as string[] | undefined) ?? [];
  if (filenames.length === 0) throw new UsageError('-f rollout.yaml is required');
  return {
    values,
    rollouts: filenames.map(readSource),
    virtualServices: ((values.virtualservice as string[] | undefined) ?? []).map(readSource),
  };
}

function runLint(args: string[]): number {
  const { rollouts, virtualServices } = fileFlags(args);
  const report = lint(rollouts, virtualServices);
  (report.ok ? process.stdout : process.stderr).write(`${report.lines.join('\n')}\n`);
  return report.ok ? 0 : 1;
}

function runPreview(args: string[]): number {
  const { values, rollouts, virtualServices } = fileFlags(args, {
    weight: { type: 'string' },
    output: { type: 'string', short: 'o' },
  });
  if (rollouts.length !== 1) throw new UsageError('preview takes exactly one -f rollout.yaml');
  if (virtualServices.length === 0) throw new UsageError('--virtualservice vs.yaml is required');
  const weightText = values.weight as string | undefined;
  if (weightText === undefined || !/^\d+$/.test(weightText) || Number(weightText) > 100) {
    throw new UsageError(`--weight must be a whole number from 0 to 100, found ${weightText ?? 'nothing'}`);
  }
  const format = (values.output as string | undefined) ?? 'yaml';
  if (format !== 'yaml' && format !== 'json')
    throw new UsageError(`-o must be yaml or json, found ${format}`);
  const result = preview(
    rollouts[0] as SourceFile,
    virtualServices,
    Number(weightText),
    format as OutputFormat,
  );
  if (!result.ok) {
    process.stderr.write(`${result.errors.join('\n')}\n`);
    return 1;
  }
  process.stdout.write(result.output);
  return 0;
}

const COMMANDS: Record<string, (args: string[]) => number | Promise<number>> = {
  lint: runLint,
  preview: runPreview,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`unknown command '${name}'\n${USAGE}`);
    return 2;
  }
  try {
    return await command(args);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`rollouts ${name}: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
