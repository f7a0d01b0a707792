/**
 * Metric intervals and initial delays as Argo Rollouts reads them: Go's time.ParseDuration
 * (`30s`, `5m`, `1h30m`, `1.5h`, `500ms`; a unit is required except for `0`).
 */
import { err, ok, type Result } from '../result.js';

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

export function parseGoDuration(text: string): Result<number> {
  const invalid = err(`invalid duration '${text}': expected a Go duration such as 30s, 5m, 1h30m or 500ms`);
  if (text === '0') return ok(0);
  let rest = text;
  if (rest.startsWith('-')) return err(`invalid duration '${text}': must not be negative`);
  if (rest.startsWith('+')) rest = rest.slice(1);
  if (rest === '') return invalid;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < rest.length) {
    const match = PART.exec(rest);
    if (!match) return invalid;
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  }
  return ok(Math.round(total));
}
