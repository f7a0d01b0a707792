/**
 * Success and failure conditions: CEL (no eval, no prototype access) with Argo Rollouts' helpers, and
 * a measurement's phase from them exactly as Argo decides it. Argo writes conditions in expr-lang;
 * the common forms are the same in CEL, and `expressionHints` names the ones that are not.
 */
import { Environment } from '@marcbachmann/cel-js';
import { err, ok, type Result } from '../result.js';

export type MeasurementPhase = 'Successful' | 'Failed' | 'Inconclusive' | 'Error';

type Value = unknown;
const isNil = (value: Value): boolean => value === null || value === undefined;

function sizeOf(value: Value): bigint {
  if (typeof value === 'string' || Array.isArray(value)) return BigInt(value.length);
  if (value instanceof Map || value instanceof Set) return BigInt(value.size);
  if (value instanceof Uint8Array) return BigInt(value.length);
  if (value !== null && typeof value === 'object') return BigInt(Object.keys(value).length);
  throw new Error(`len() is not defined for ${describe(value)}`);
}

function asNumber(value: Value, name: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  if (typeof value === 'string' && /^[+-]?(inf|infinity|nan)$/i.test(value.trim()))
    return Number(
      value
        .trim()
        .replace(/^([+-]?)inf(inity)?$/i, '$1Infinity')
        .replace(/^[+-]?nan$/i, 'NaN'),
    );
  throw new Error(`${name}() is not supported on ${describe(value)} ${JSON.stringify(value)}`);
}

function numbers(list: Value, name: string): number[] {
  if (!Array.isArray(list) || list.length === 0) throw new Error(`${name}() needs a non-empty list`);
  return list.map((item) => asNumber(item, name));
}

function describe(value: Value): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'list';
  return typeof value === 'object' ? 'map' : typeof value;
}

const ENVIRONMENT = (() => {
  const env = new Environment({ homogeneousAggregateLiterals: false })
    .registerVariable('result', 'dyn')
    .registerFunction('len(dyn): int', sizeOf)
    .registerFunction('isNaN(dyn): bool', (value: Value) => typeof value === 'number' && Number.isNaN(value))
    .registerFunction('isInf(dyn): bool', (value: Value) => value === Infinity || value === -Infinity)
    .registerFunction('isNil(dyn): bool', isNil)
    .registerFunction('default(dyn, dyn): dyn', (value: Value, fallback: Value) =>
      isNil(value) ? fallback : value,
    )
    .registerFunction('asInt(dyn): int', (value: Value) => BigInt(Math.trunc(asNumber(value, 'asInt'))))
    .registerFunction('asFloat(dyn): double', (value: Value) => asNumber(value, 'asFloat'))
    // expr-lang's list reducers, which Argo's docs use on multi-series results (`max(result) < 0.05`).
    .registerFunction('max(list): double', (list: Value) => Math.max(...numbers(list, 'max')))
    .registerFunction('min(list): double', (list: Value) => Math.min(...numbers(list, 'min')))
    .registerFunction('sum(list): double', (list: Value) => numbers(list, 'sum').reduce((a, b) => a + b, 0))
    .registerFunction('mean(list): double', (list: Value) => {
      const values = numbers(list, 'mean');
      return values.reduce((a, b) => a + b, 0) / values.length;
    });
  // Metric values are doubles; `result * 100 > 95` must work as it does in Argo's expr-lang.
  const arithmetic: Record<string, (a: number, b: number) => number> = {
    '+': (a, b) => a + b,
    '-': (a, b) => a - b,
    '*': (a, b) => a * b,
    '/': (a, b) => a / b,
  };
  for (const [op, apply] of Object.entries(arithmetic)) {
    env.registerOperator(`double ${op} int`, (a: number, b: bigint) => apply(a, Number(b)));
    env.registerOperator(`int ${op} double`, (a: bigint, b: number) => apply(Number(a), b));
  }
  return env;
})();

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] as string;
}

/** Parse and type-check a condition; the error names the expr-lang form and its CEL rewrite when there is one. */
export function compileCondition(expression: string): Result<void> {
  const checked = ENVIRONMENT.check(expression);
  if (checked.valid) {
    if (checked.type !== 'bool' && checked.type !== 'dyn')
      return err(`must evaluate to a bool, found ${checked.type}`);
    return ok(undefined);
  }
  const hints = expressionHints(expression).filter((hint) => hint.severity === 'error');
  const rewrite = hints.length ? `; ${hints.map((hint) => hint.message).join('; ')}` : '';
  return err(`not a valid CEL expression: ${message(checked.error)}${rewrite}`);
}

function evaluate(expression: string, result: Value): Result<boolean> {
  try {
    const value: unknown = ENVIRONMENT.evaluate(expression, { result: celValue(result) });
    return typeof value === 'boolean' ? ok(value) : err(`expected bool, but got ${describe(value)}`);
  } catch (error) {
    return err(message(error));
  }
}

/** JSON numbers reach CEL as doubles; integers in nested lists and maps stay doubles too (as Argo's float64). */
function celValue(value: Value): Value {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(celValue);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, celValue(item)]));
  return value;
}

function isNilOrEmpty(value: Value): boolean {
  return isNil(value) || (Array.isArray(value) && value.length === 0);
}

/** Argo's EvaluateResult: both false = Inconclusive, failure wins, a missing condition is the other's negation. */
export function measurementPhase(
  conditions: { successCondition?: string; failureCondition?: string },
  result: Value,
): { phase: MeasurementPhase; message?: string } {
  const outcome = (kind: 'successCondition' | 'failureCondition'): Result<boolean> | undefined => {
    const expression = conditions[kind];
    if (!expression) return undefined;
    const evaluated = evaluate(expression, result);
    if (evaluated.ok) return evaluated;
    const why = isNilOrEmpty(result)
      ? 'metric result is nil or empty: no data returned from the metric provider'
      : evaluated.error;
    return err(`could not evaluate ${kind} "${expression}": ${why}`);
  };
  const success = outcome('successCondition');
  if (success && !success.ok) return { phase: 'Error', message: success.error };
  const failure = outcome('failureCondition');
  if (failure && !failure.ok) return { phase: 'Error', message: failure.error };
  if (!success && !failure) return { phase: 'Successful' };
  const succeeded = success ? success.value : !(failure as { value: boolean }).value;
  const failed = failure ? failure.value : !succeeded;
  if (failed) return { phase: 'Failed' };
  return succeeded ? { phase: 'Successful' } : { phase: 'Inconclusive' };
}

export interface ExpressionHint {
  severity: 'error' | 'warning';
  message: string;
}

/** expr-lang forms with a direct CEL spelling: the token and its replacement. */
const KEYWORD_REWRITES: [RegExp, string, string][] = [
  [/\s+and\s+/g, ' && ', "'and' is expr-lang: CEL writes '&&'"],
  [/\s+or\s+/g, ' || ', "'or' is expr-lang: CEL writes '||'"],
  [/(^|[\s(])not\s+/g, '$1!', "'not' is expr-lang: CEL writes '!'"],
  [/\bnil\b/g, 'null', "'nil' is expr-lang: CEL writes 'null'"],
  [
    /\s+matches\s+("[^"]*"|'[^']*')/g,
    '.matches($1)',
    "'x matches re' is expr-lang: CEL writes 'x.matches(re)'",
  ],
  [
    /\s+startsWith\s+("[^"]*"|'[^']*')/g,
    '.startsWith($1)',
    "'x startsWith y' is expr-lang: CEL writes 'x.startsWith(y)'",
  ],
  [
    /\s+endsWith\s+("[^"]*"|'[^']*')/g,
    '.endsWith($1)',
    "'x endsWith y' is expr-lang: CEL writes 'x.endsWith(y)'",
  ],
  [
    /\s+contains\s+("[^"]*"|'[^']*')/g,
    '.contains($1)',
    "'x contains y' is expr-lang: CEL writes 'x.contains(y)'",
  ],
];
/** expr-lang's predicate builtins `all(list, {# > 1})` / `all(list, # > 1)` and CEL's macro for each. */
const PREDICATES: Record<string, (list: string, body: string) => string> = {
  all: (list, body) => `${list}.all(x, ${body})`,
  any: (list, body) => `${list}.exists(x, ${body})`,
  one: (list, body) => `${list}.exists_one(x, ${body})`,
  none: (list, body) => `!${list}.exists(x, ${body})`,
  filter: (list, body) => `${list}.filter(x, ${body})`,
  map: (list, body) => `${list}.map(x, ${body})`,
  count: (list, body) => `size(${list}.filter(x, ${body}))`,
};

const STRING_LITERAL = /("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')/;

/** Strings stay as written (or blanked): rewrites apply to the code between them. */
function outsideStrings(expression: string, rewrite: (code: string) => string, blankStrings = false): string {
  return expression
    .split(STRING_LITERAL)
    .map((part, index) => (index % 2 === 1 ? (blankStrings ? '""' : part) : rewrite(part)))
    .join('');
}

function rewritePredicates(code: string): string {
  let out = code;
  for (const [name, build] of Object.entries(PREDICATES)) {
    const call = new RegExp(`(^|[^.\\w])${name}\\(`, 'g');
    let match: RegExpExecArray | null;
    while ((match = call.exec(out))) {
      const open = match.index + match[0].length - 1;
      const close = matchingParen(out, open);
      if (close < 0) break;
      const inner = out.slice(open + 1, close);
      const comma = topLevelComma(inner);
      if (comma < 0) continue;
      const list = inner.slice(0, comma).trim();
      const body = inner
        .slice(comma + 1)
        .trim()
        .replace(/^\{([\s\S]*)\}$/, '$1')
        .trim()
        .replace(/#\.?/g, (token) => (token === '#.' ? 'x.' : 'x'))
        .replace(/(^|[^\w)\].])\.(\w)/g, '$1x.$2');
      const replacement = build(list, body);
      out = out.slice(0, open - name.length) + replacement + out.slice(close + 1);
      call.lastIndex = open - name.length + replacement.length;
    }
  }
  return out;
}

function matchingParen(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    if (code[i] === '(') depth++;
    else if (code[i] === ')' && --depth === 0) return i;
  }
  return -1;
}

function topLevelComma(code: string): number {
  let depth = 0;
  for (let i = 0; i < code.length; i++) {
    const char = code[i];
    if (char === '(' || char === '[' || char === '{') depth++;
    else if (char === ')' || char === ']' || char === '}') depth--;
    else if (char === ',' && depth === 0) return i;
  }
  return -1;
}

/**
 * What `rollouts lint` says about a condition: each expr-lang-only form with the whole expression
 * rewritten in CEL (errors: the condition would not evaluate), and `result[0]` read with no
 * emptiness guard (a warning: an empty query result then errors instead of failing cleanly).
 */
export function expressionHints(expression: string): ExpressionHint[] {
  const hints: ExpressionHint[] = [];
  let rewritten = expression;
  for (const [pattern, replacement, explanation] of KEYWORD_REWRITES) {
    // Infix string operators take their quoted operand along, so they apply to the whole text.
    const next = replacement.includes('$1)')
      ? rewritten.replace(pattern, replacement)
      : outsideStrings(rewritten, (code) => code.replace(pattern, replacement));
    if (next !== rewritten) hints.push({ severity: 'error', message: explanation });
    rewritten = next;
  }
  const predicates = outsideStrings(rewritten, rewritePredicates);
  if (predicates !== rewritten) {
    hints.push({
      severity: 'error',
      message: 'expr-lang predicates such as all(list, {# > 1}) are CEL macros: list.all(x, x > 1)',
    });
    rewritten = predicates;
  }
  if (hints.length) {
    hints.push({ severity: 'error', message: `in CEL: ${rewritten}` });
  }
  const code = outsideStrings(expression, (part) => part, true);
  if (/\bresult\s*\[\s*0\s*\]/.test(code) && !hasEmptinessGuard(code)) {
    hints.push({
      severity: 'warning',
      message:
        'result[0] is read with no emptiness guard: an empty result makes the measurement an Error; guard it with len(result) > 0 && ... (or size(result))',
    });
  }
  return hints;
}

function hasEmptinessGuard(code: string): boolean {
  return /\b(len|size)\s*\(\s*result\s*\)|\bresult\s*\.\s*size\s*\(|\bisNil\s*\(|\bdefault\s*\(\s*result\b|\bhas\s*\(/.test(
    code,
  );
}
