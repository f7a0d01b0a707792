import type { Result } from '../result.js';

/**
 * The port between the pure analysis core and the metric providers (lib/adapters/metrics/).
 * The core decides what to measure and assesses what was measured; providers only take a reading.
 */

/** One measurement by a provider. `value` is what conditions see as `result` (numbers, arrays of numbers, objects with AWS casing for CloudWatch, parsed JSON for web). */
export interface Measurement {
  value: unknown;
}

export interface MetricProvider {
  /** `provider` is the metric's provider block after `{{args.x}}` substitution, e.g. {prometheus: {address, query, timeout?, authentication?}}. Never throws: failures are err(message). */
  measure(
    provider: Record<string, unknown>,
    options: { now: Date; timeoutMs: number; signal?: AbortSignal },
  ): Promise<Result<Measurement, string>>;
}
