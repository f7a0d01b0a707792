/** Child processes that log to one file and all stop together, in reverse start order. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export class ProcessGroup {
  private readonly children: { name: string; child: ChildProcess }[] = [];
  private readonly log: WriteStream;

  constructor(readonly logFile: string) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  start(
    name: string,
    command: string,
    args: string[],
    options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
  ): ChildProcess {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    const prefix = (chunk: Buffer) =>
      chunk
        .toString()
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => `[${name}] ${line}\n`)
        .join('');
    child.stdout?.on('data', (chunk: Buffer) => this.log.write(prefix(chunk)));
    child.stderr?.on('data', (chunk: Buffer) => this.log.write(prefix(chunk)));
    child.on('exit', (code, signal) => this.log.write(`[${name}] exited (${signal ?? code})\n`));
    this.children.push({ name, child });
    return child;
  }

  /** Throws when a process of the group has died, so a wait loop fails fast with the log to read. */
  assertRunning(): void {
    const dead = this.children.find(({ child }) => child.exitCode !== null || child.signalCode !== null);
    if (dead)
      throw new Error(
        `${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode}); see ${this.logFile}`,
      );
  }

  async stop(): Promise<void> {
    for (const { child } of [...this.children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
      if (!stopped) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    this.children.length = 0;
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; group?: ProcessGroup },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    options.group?.assertRunning();
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(options.intervalMs ?? 200);
  }
  const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
  const logs = options.group ? `; see ${options.group.logFile}` : '';
  throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}${detail}${logs}`);
}
