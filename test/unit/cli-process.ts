/** Runs the real CLI in a child process, and writes the files it reads. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function rollouts(...args: string[]) {
  const result = spawnSync(process.execPath, ['bin/rollouts.js', ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function temporaryFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'rollouts-cli-')), name);
  writeFileSync(path, text);
  return path;
}
