/**
 * Analysis ports in memory for unit tests and tools: a metric provider answering from a script of
 * results (every call recorded), and secrets from a map.
 */
import type { Measurement, MetricProvider } from '../../core/analysis/provider.js';
import { err, type Result } from '../../core/result.js';
import type { SecretReader } from '../../app/runner/ports.js';

export interface ProviderCall {
  block: Record<string, unknown>;
  now: Date;
  timeoutMs: number;
}

/** Answers each measure call with the next scripted result (the last repeats); none scripted is an error. */
export class ScriptedProvider implements MetricProvider {
  readonly calls: ProviderCall[] = [];

  constructor(private readonly script: Result<Measurement, string>[] = []) {}

  async measure(
    block: Record<string, unknown>,
    options: { now: Date; timeoutMs: number },
  ): Promise<Result<Measurement, string>> {
    this.calls.push({ block: structuredClone(block), now: options.now, timeoutMs: options.timeoutMs });
    const next = this.script.length > 1 ? this.script.shift() : this.script[0];
    return next ?? err('no measurement scripted');
  }
}

export class MemorySecrets implements SecretReader {
  readonly reads: string[] = [];

  constructor(private readonly values: Record<string, string> = {}) {}

  async read(secretId: string): Promise<string> {
    this.reads.push(secretId);
    const value = this.values[secretId];
    if (value === undefined) throw new Error(`secret ${secretId} not found`);
    return value;
  }
}
