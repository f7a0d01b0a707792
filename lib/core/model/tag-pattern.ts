/**
 * A Rollout's `trigger.tagPattern`: RE2 syntax and semantics (linear time whatever the pattern or
 * tag, so a pattern cannot hang the webhook), matched against the WHOLE tag as if it were anchored.
 */
import { RE2JS } from 're2js';
import { err, ok, type Result } from '../result.js';

export type TagMatcher = (tag: string) => boolean;

export function compileTagPattern(pattern: string): Result<TagMatcher> {
  try {
    const compiled = RE2JS.compile(pattern);
    return ok((tag: string) => compiled.matches(tag));
  } catch (error) {
    return err(`'${pattern}' is not an RE2 regular expression: ${(error as Error).message}`);
  }
}
