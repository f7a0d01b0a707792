/** CEL conditions with Argo's helpers, Argo's EvaluateResult, and what lint says about expr-lang forms. */
import { describe, expect, it } from '@jest/globals';
import { compileCondition, expressionHints, measurementPhase } from '../../lib/core/analysis/conditions.js';

const holds = (condition: string, result: unknown) =>
  measurementPhase({ successCondition: condition }, result);

describe("Argo's helpers in CEL", () => {
  it.each([
    ['len(result) > 0', [1], 'Successful'],
    ['len(result) == 0', [], 'Successful'],
    ['len(result) == 2', { a: 1, b: 2 }, 'Successful'],
    ['isNaN(result)', NaN, 'Successful'],
    ['isNaN(result) || result >= 0.95', NaN, 'Successful'],
    ['isInf(result)', Infinity, 'Successful'],
    ['isInf(result)', -Infinity, 'Successful'],
    ['isInf(result)', 1, 'Failed'],
    ['isNil(result)', null, 'Successful'],
    ['isNil(result)', 0, 'Failed'],
    ['default(result, 0) < 5', null, 'Successful'],
    ['default(result, 0) < 5', 7, 'Failed'],
    ['asInt(result) == 3', '3', 'Successful'],
    ['asInt(result) == 3', 3.7, 'Successful'],
    ['asFloat(result) > 0.5', '0.7', 'Successful'],
    ['max(result) < 0.05', [0.01, 0.04], 'Successful'],
    ['max(result) < 0.05', [0.01, 0.06], 'Failed'],
    ['min(result) > 0 && sum(result) == 3.0 && mean(result) == 1.5', [1, 2], 'Successful'],
    ['result[0] * 100 >= 95', [0.99], 'Successful'],
    ['100 * result > 95', 0.9, 'Failed'],
    ['result + 1 > 1', 0.5, 'Successful'],
    ['result == 1', 1, 'Successful'],
    ["result == 'It worked!'", 'It worked!', 'Successful'],
    ['result.ok && result.successPercent >= 0.90', { ok: true, successPercent: 0.95 }, 'Successful'],
    ['result[0].Values.all(v, v <= 0.01)', [{ Values: [0.001, 0.002] }], 'Successful'],
    ['size(result) > 0 && result.exists(x, x > 0.9)', [0.1, 0.95], 'Successful'],
    ['has(result.missing)', {}, 'Failed'],
  ])('%s with result %p: %s', (condition, result, phase) => {
    expect(holds(condition, result).phase).toBe(phase);
  });

  it('reaches no JavaScript prototype', () => {
    for (const condition of [
      'result.constructor != null',
      'result.__proto__ != null',
      'result.toString != null',
    ]) {
      expect(holds(condition, {}).phase).toBe('Error');
    }
  });

  it('a condition that is not a bool is an Error measurement (Argo: expected bool)', () => {
    expect(holds('result + 1', 1)).toEqual({
      phase: 'Error',
      message: 'could not evaluate successCondition "result + 1": expected bool, but got number',
    });
  });
});

describe("a measurement's phase (Argo EvaluateResult)", () => {
  it.each([
    [{ successCondition: 'result > 1', failureCondition: 'result < 0' }, 0.5, 'Inconclusive'],
    [{ successCondition: 'result > 1', failureCondition: 'result > 2' }, 3, 'Failed'],
    [{ successCondition: 'result > 1' }, 0.5, 'Failed'],
    [{ failureCondition: 'result > 1' }, 0.5, 'Successful'],
    [{}, 'anything', 'Successful'],
  ])('%p with %p: %s', (conditions, result, phase) => {
    expect(measurementPhase(conditions, result).phase).toBe(phase);
  });

  it('an empty result says no data came back', () => {
    expect(measurementPhase({ failureCondition: 'result[0] > 1' }, [])).toEqual({
      phase: 'Error',
      message:
        'could not evaluate failureCondition "result[0] > 1": metric result is nil or empty: no data returned from the metric provider',
    });
  });
});

describe('lint hints: expr-lang forms and their CEL rewrite', () => {
  it.each([
    ['result > 1 and result < 5', "'and' is expr-lang: CEL writes '&&'", 'in CEL: result > 1 && result < 5'],
    ['result < 1 or result > 5', "'or' is expr-lang: CEL writes '||'", 'in CEL: result < 1 || result > 5'],
    ['not isNaN(result)', "'not' is expr-lang: CEL writes '!'", 'in CEL: !isNaN(result)'],
    ['result != nil', "'nil' is expr-lang: CEL writes 'null'", 'in CEL: result != null'],
    [
      'all(result, # < 1000)',
      'expr-lang predicates such as all(list, {# > 1}) are CEL macros: list.all(x, x > 1)',
      'in CEL: result.all(x, x < 1000)',
    ],
    [
      'all(result.service_apdex.values.values, {asFloat(.value) >= 9900})',
      'expr-lang predicates such as all(list, {# > 1}) are CEL macros: list.all(x, x > 1)',
      'in CEL: result.service_apdex.values.values.all(x, asFloat(x.value) >= 9900)',
    ],
    [
      'len(result[0].Values) >= 5 and all(result[0].Values, {# <= 0.01})',
      "'and' is expr-lang: CEL writes '&&'",
      'in CEL: len(result[0].Values) >= 5 && result[0].Values.all(x, x <= 0.01)',
    ],
    [
      'any(result, # > 5)',
      'expr-lang predicates such as all(list, {# > 1}) are CEL macros: list.all(x, x > 1)',
      'in CEL: result.exists(x, x > 5)',
    ],
    [
      'result matches "^ok"',
      "'x matches re' is expr-lang: CEL writes 'x.matches(re)'",
      'in CEL: result.matches("^ok")',
    ],
  ])('%s: names the form and rewrites it', (expression, named, rewrite) => {
    const errors = expressionHints(expression)
      .filter((hint) => hint.severity === 'error')
      .map((hint) => hint.message);
    expect(errors).toContain(named);
    expect(errors).toContain(rewrite);
    const rewritten = rewrite.slice('in CEL: '.length);
    expect(compileCondition(rewritten)).toEqual({ ok: true, value: undefined });
    expect(compileCondition(expression).ok).toBe(false);
  });

  it('leaves words inside strings alone', () => {
    expect(expressionHints("result == 'this and that'")).toEqual([]);
  });

  it.each([
    ['result[0] >= 0.95', true],
    ['result[0] <= 0.01', true],
    ['len(result) > 0 && result[0] >= 0.95', false],
    ['len(result) == 0 || result[0] >= 0.95', false],
    ['size(result) > 0 && result[0] >= 0.95', false],
    ['result >= 0.95', false],
    ["result == 'result[0]'", false],
  ])('%s: warns about an unguarded result[0]: %p', (expression, warned) => {
    const warnings = expressionHints(expression).filter((hint) => hint.severity === 'warning');
    expect(warnings.length > 0).toBe(warned);
  });

  it("every condition in Argo's docs either compiles as CEL or gets a rewrite that does", () => {
    const documented = [
      'result[0] >= 0.95',
      'result == true',
      "result.major == '1'",
      'result <= 0.01',
      'default(result, 0) < 5',
      'result.ok && result.successPercent >= 0.90',
      'result.successRate >= 0.95',
      'result.Status == -1',
      "result == 'true'",
      'max(result) < 0.05',
      'len(result) > 0 && result[0] >= 0.95',
      'isNaN(result) || result >= 0.95',
      'isInf(result)',
      'len(result[0].Values) >= 5 and all(result[0].Values, {# <= 0.01})',
      'all(result.service_apdex.values.values, {asFloat(.value) >= 9900})',
      'all(result, # < 1000)',
    ];
    for (const expression of documented) {
      if (compileCondition(expression).ok) continue;
      const rewrite = expressionHints(expression).find((hint) => hint.message.startsWith('in CEL: '));
      expect(rewrite && compileCondition(rewrite.message.slice('in CEL: '.length)).ok).toBe(true);
    }
  });
});
