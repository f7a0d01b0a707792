/**
 * The part of Kubernetes JSONPath that web metrics use: `{$.data.ok}`, `{.items[0].value}`,
 * `{$.items[*].value}`, `{$['key.with.dots']}`, `.*`. Like Argo (which runs client-go's JSONPath and
 * keeps the first match), a path with several matches yields the first; a missing field or an index
 * out of range is an error naming it. Pure: the web provider and `rollouts lint` both use it.
 */
import { err, ok, type Result } from '../../core/result.js';

export type Segment =
  { kind: 'field'; name: string } | { kind: 'index'; index: number } | { kind: 'wildcard' };

const FIELD = /^[^.[\]{}\s'"]+/;

export function parseJsonPath(template: string): Result<Segment[], string> {
  const text = template.trim();
  if (!text.startsWith('{') || !text.endsWith('}'))
    return err(`jsonPath '${template}' must be wrapped in braces, e.g. {$.data.value}`);
  let rest = text.slice(1, -1).trim();
  if (rest.startsWith('$')) rest = rest.slice(1);
  if (rest === '.') rest = '';
  const segments: Segment[] = [];
  while (rest.length > 0) {
    const unsupported = /^(\.\.|\[\?|\[\d*:|\[[^\]]*,|range|end)/.exec(rest);
    if (unsupported)
      return err(
        `jsonPath '${template}': '${unsupported[0]}' (recursive descent, filters, slices, unions, range) is not supported; use fields, [n] and [*]`,
      );
    const next = readSegment(rest);
    if (!next)
      return err(`jsonPath '${template}': cannot read '${rest}'; expected .field, [n], [*] or ['field']`);
    segments.push(next.segment);
    rest = rest.slice(next.length);
  }
  return ok(segments);
}

function readSegment(rest: string): { segment: Segment; length: number } | undefined {
  const wildcard = /^(\.\*|\[\*\])/.exec(rest);
  if (wildcard) return { segment: { kind: 'wildcard' }, length: wildcard[0].length };
  const index = /^\[(-?\d+)\]/.exec(rest);
  if (index) return { segment: { kind: 'index', index: Number(index[1]) }, length: index[0].length };
  const quoted = /^\[(?:'([^']*)'|"([^"]*)")\]/.exec(rest);
  if (quoted)
    return { segment: { kind: 'field', name: (quoted[1] ?? quoted[2]) as string }, length: quoted[0].length };
  const field = rest.startsWith('.') ? FIELD.exec(rest.slice(1)) : null;
  if (field) return { segment: { kind: 'field', name: field[0] }, length: field[0].length + 1 };
  return undefined;
}

/** The first value the path selects in `data`. */
export function firstMatch(data: unknown, segments: Segment[]): Result<unknown, string> {
  let nodes: unknown[] = [data];
  for (const segment of segments) {
    const next: unknown[] = [];
    for (const node of nodes) {
      const step = apply(node, segment);
      if (!step.ok) return step;
      next.push(...step.value);
    }
    nodes = next;
  }
  return nodes.length > 0 ? ok(nodes[0]) : err('the jsonPath selected no value');
}

function apply(node: unknown, segment: Segment): Result<unknown[], string> {
  switch (segment.kind) {
    case 'field':
      if (isObject(node) && Object.hasOwn(node, segment.name)) return ok([node[segment.name]]);
      return err(`${segment.name} is not found`);
    case 'index': {
      if (!Array.isArray(node)) return err(`[${segment.index}] needs a list, found ${describe(node)}`);
      const index = segment.index < 0 ? node.length + segment.index : segment.index;
      if (index < 0 || index >= node.length)
        return err(`array index out of bounds: index ${segment.index}, length ${node.length}`);
      return ok([node[index]]);
    }
    case 'wildcard':
      if (Array.isArray(node)) return ok(node);
      if (isObject(node))
        return ok(
          Object.keys(node)
            .sort()
            .map((key) => node[key]),
        );
      return err(`[*] needs a list or an object, found ${describe(node)}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value;
}
