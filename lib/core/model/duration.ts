/** Pause durations as Argo Rollouts accepts them: seconds as a number or digit string, or `30s`, `10m`, `1h`, `1h30m`. */

/** Whole seconds, or what is wrong with the duration. */
import type { Result } from '../result.js';
export type DurationResult = Result<number, string>;

const UNITS_PATTERN = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const SECONDS_PATTERN = /^\d+$/;

export function parseDurationSeconds(value: unknown): DurationResult {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || !Number.isInteger(value)) {
      return { ok: false, error: `Duration must be a whole number of seconds, found ${value}` };
    }
    if (value < 0) return { ok: false, error: `Duration needs to be greater than 0, found ${value}` };
    return { ok: true, value: value };
  }
  if (typeof value !== 'string') {
    return { ok: false, error: `Duration must be a number or a string, found ${describe(value)}` };
  }
  const text = value.trim();
  if (text.startsWith('-'))
    return { ok: false, error: `Duration needs to be greater than 0, found '${value}'` };
  if (SECONDS_PATTERN.test(text)) return { ok: true, value: Number(text) };
  const units = UNITS_PATTERN.exec(text);
  if (text === '' || !units) {
    return {
      ok: false,
      error: `invalid duration '${value}': expected seconds (30 or "30") or a duration such as 30s, 10m, 1h or 1h30m`,
    };
  }
  const [, hours = '0', minutes = '0', seconds = '0'] = units;
  return { ok: true, value: Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds) };
}

export function formatDuration(totalSeconds: number): string {
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const parts = [
    hours ? `${hours}h` : '',
    minutes ? `${minutes}m` : '',
    seconds || totalSeconds === 0 ? `${seconds}s` : '',
  ];
  return parts.join('');
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value;
}
