/**
 * DynamoDB UpdateExpressions from data instead of spliced strings: every attribute goes through a
 * `#name` placeholder (so reserved words such as `status` need no special care) and every value
 * through a `:u_name` placeholder, which cannot clash with a condition's own `:values`.
 */

/** `attribute = attribute + n` (the attribute must exist; use `add` for counters that may not). */
export class Increment {
  constructor(readonly by: number) {}
}
export const increment = (by = 1) => new Increment(by);

export interface UpdateParts {
  /** Attributes to set; an Increment adds to the current value. Undefined values are refused. */
  set?: Record<string, unknown>;
  /** Attributes to remove. */
  remove?: readonly string[];
  /** Numbers to add, creating the attribute at 0 when missing. */
  add?: Record<string, number>;
}

export interface BuiltUpdate {
  UpdateExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}

const ATTRIBUTE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function buildUpdate(parts: UpdateParts): BuiltUpdate {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const name = (attribute: string) => {
    if (!ATTRIBUTE.test(attribute)) throw new Error(`not a plain attribute name: '${attribute}'`);
    names[`#${attribute}`] = attribute;
    return `#${attribute}`;
  };
  const value = (attribute: string, v: unknown) => {
    values[`:u_${attribute}`] = v;
    return `:u_${attribute}`;
  };
  const seen = new Set<string>();
  const once = (attribute: string) => {
    if (seen.has(attribute)) throw new Error(`attribute '${attribute}' appears twice in one update`);
    seen.add(attribute);
    return attribute;
  };

  const sets = Object.entries(parts.set ?? {}).map(([attribute, v]) => {
    once(attribute);
    if (v === undefined) throw new Error(`SET ${attribute} to undefined: use remove`);
    const n = name(attribute);
    return v instanceof Increment
      ? `${n} = ${n} + ${value(attribute, v.by)}`
      : `${n} = ${value(attribute, v)}`;
  });
  const removes = (parts.remove ?? []).map((attribute) => name(once(attribute)));
  const adds = Object.entries(parts.add ?? {}).map(
    ([attribute, by]) => `${name(once(attribute))} ${value(attribute, by)}`,
  );

  const clauses = [
    sets.length ? `SET ${sets.join(', ')}` : '',
    removes.length ? `REMOVE ${removes.join(', ')}` : '',
    adds.length ? `ADD ${adds.join(', ')}` : '',
  ].filter(Boolean);
  if (clauses.length === 0) throw new Error('an update must set, remove or add something');
  return {
    UpdateExpression: clauses.join(' '),
    ExpressionAttributeNames: names,
    ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
  };
}

/**
 * An update with its condition: the condition's `#names` and `:values` are merged in. Condition
 * values must not start with `:u_` (those are the update's).
 */
export function conditionalUpdate(
  parts: UpdateParts,
  condition: { expression: string; names?: Record<string, string>; values?: Record<string, unknown> },
): BuiltUpdate & { ConditionExpression: string } {
  const built = buildUpdate(parts);
  const clash = Object.keys(condition.values ?? {}).find((key) => key.startsWith(':u_'));
  if (clash) throw new Error(`condition value ${clash} uses the update's placeholder prefix`);
  const values = { ...built.ExpressionAttributeValues, ...condition.values };
  return {
    UpdateExpression: built.UpdateExpression,
    ConditionExpression: condition.expression,
    ExpressionAttributeNames: { ...built.ExpressionAttributeNames, ...condition.names },
    ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
  };
}
