/** Loggers without Powertools: lines kept for tests to assert, or written to stderr in local mode. */
import type { RunnerLogger } from '../../app/runner/ports.js';

export type LogLevel = 'info' | 'warn' | 'error';
export interface LogLine {
  level: LogLevel;
  message: string;
  detail: Record<string, unknown>;
}

export class RecordingLogger implements RunnerLogger {
  readonly lines: LogLine[] = [];
  info(message: string, detail: Record<string, unknown>): void {
    this.lines.push({ level: 'info', message, detail });
  }
  warn(message: string, detail: Record<string, unknown>): void {
    this.lines.push({ level: 'warn', message, detail });
  }
  error(message: string, detail: Record<string, unknown>): void {
    this.lines.push({ level: 'error', message, detail });
  }
}

/** Warnings and errors on stderr, one line each; info is left out so local mode stays quiet. */
export function consoleLogger(prefix: string): RunnerLogger {
  const write = (level: LogLevel) => (message: string, detail: Record<string, unknown>) =>
    console.error(`${prefix} ${level}: ${message} ${JSON.stringify(detail)}`);
  return { info: () => undefined, warn: write('warn'), error: write('error') };
}
