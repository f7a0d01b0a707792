/**
 * Arguments as Argo Rollouts resolves them: template args combined across templates, the Rollout's
 * args overriding those names, every arg needing a value, and `{{args.name}}` substituted in every
 * string of a metric (whitespace inside the braces ignored; an unknown `{{...}}` is an error).
 */
import { err, ok, type Result } from '../result.js';
import type { ArgSource, SecretsManagerRef } from './template.js';

/** An argument frozen into a run: a value, or a secret the runner reads when it measures. */
export type ResolvedArg =
  { name: string; value: string } | { name: string; secretsManager: SecretsManagerRef };

/** The Rollout fields a `status.*` fieldRef may read, frozen when the run starts. */
export interface RolloutFields {
  canaryImage?: string;
  stableImage?: string;
  revision: number;
}
export const STATUS_FIELD_PATHS: Record<string, (fields: RolloutFields) => string | undefined> = {
  'status.canaryImage': (fields) => fields.canaryImage,
  'status.stableImage': (fields) => fields.stableImage,
  'status.revision': (fields) => String(fields.revision),
};

/** Argo's flattenArgs: one list for all templates; the same name twice must not disagree. */
export function combineTemplateArgs(lists: ArgSource[][]): Result<ArgSource[]> {
  const combined: ArgSource[] = [];
  for (const arg of lists.flat()) {
    const index = combined.findIndex((known) => known.name === arg.name);
    if (index < 0) {
      combined.push(arg);
      continue;
    }
    const known = combined[index] as ArgSource;
    if (known.value !== undefined && arg.value !== undefined && known.value !== arg.value)
      return err(
        `Argument \`${arg.name}\` specified multiple times with different values: '${known.value}', '${arg.value}'`,
      );
    if (known.value === undefined) combined[index] = arg;
  }
  return ok(combined);
}

/** Argo's MergeArgs: the Rollout's args set the template's (names the templates do not declare are ignored). */
export function mergeArgs(
  templateArgs: ArgSource[],
  rolloutArgs: ArgSource[],
  fields: RolloutFields,
): Result<ResolvedArg[]> {
  const resolved: ResolvedArg[] = [];
  for (const declared of templateArgs) {
    const given = rolloutArgs.find((arg) => arg.name === declared.name);
    const source =
      given && (given.value !== undefined || given.fieldPath || given.secretsManager) ? given : declared;
    if (source.secretsManager) {
      resolved.push({ name: source.name, secretsManager: source.secretsManager });
    } else if (source.fieldPath !== undefined) {
      const read = STATUS_FIELD_PATHS[source.fieldPath]?.(fields);
      if (read === undefined)
        return err(`args.${source.name}: fieldRef ${source.fieldPath} has no value in the Rollout's status`);
      resolved.push({ name: source.name, value: read });
    } else if (source.value !== undefined) {
      resolved.push({ name: source.name, value: source.value });
    } else {
      return err(`args.${source.name} was not resolved: the Rollout's analysis args give it no value`);
    }
  }
  return ok(resolved);
}

const TAG = /\{\{([^{}]*)\}\}/g;

/** Substitutes `{{args.x}}` in one string; `keep` names args left as written (secrets, filled in at measurement time). */
export function substitute(
  text: string,
  values: ReadonlyMap<string, string>,
  keep: ReadonlySet<string> = new Set(),
): Result<string> {
  let failure: string | undefined;
  const out = text.replace(TAG, (tag, inner: string) => {
    const name = inner.trim();
    const arg = name.startsWith('args.') ? name.slice('args.'.length) : undefined;
    if (arg !== undefined && values.has(arg)) return values.get(arg) as string;
    if (arg !== undefined && keep.has(arg)) return tag;
    failure ??= `failed to resolve ${tag}`;
    return '';
  });
  return failure ? err(failure) : ok(out);
}

/** The same over every string of a JSON-like value, keys included. */
export function substituteTree<T>(
  value: T,
  values: ReadonlyMap<string, string>,
  keep: ReadonlySet<string> = new Set(),
): Result<T> {
  const walk = (node: unknown): Result<unknown> => {
    if (typeof node === 'string') return substitute(node, values, keep);
    if (Array.isArray(node)) {
      const items: unknown[] = [];
      for (const item of node) {
        const done = walk(item);
        if (!done.ok) return done;
        items.push(done.value);
      }
      return ok(items);
    }
    if (node !== null && typeof node === 'object') {
      const entries: [string, unknown][] = [];
      for (const [key, item] of Object.entries(node)) {
        const doneKey = substitute(key, values, keep);
        if (!doneKey.ok) return doneKey;
        const done = walk(item);
        if (!done.ok) return done;
        entries.push([doneKey.value, done.value]);
      }
      return ok(Object.fromEntries(entries));
    }
    return ok(node);
  };
  return walk(value) as Result<T>;
}

/** Names of the `{{args.x}}` a value uses. */
export function argsUsed(value: unknown): Set<string> {
  const used = new Set<string>();
  for (const match of JSON.stringify(value ?? null).matchAll(TAG)) {
    const name = (match[1] as string).trim();
    if (name.startsWith('args.')) used.add(name.slice('args.'.length));
  }
  return used;
}

/**
 * A Rollout arg's `fieldRef` outside `status.*`, read from the manifest when the Rollout is parsed
 * (the manifest does not change during a run): `metadata.name`, `metadata.namespace`,
 * `metadata.labels['k']`, `metadata.annotations['k']`, or any `spec.` path ending in a scalar.
 */
export function readManifestField(document: unknown, path: string): Result<string> {
  const metadata = /^metadata\.(labels|annotations)\['([^']*)'\]$/.exec(path);
  const root = document as { metadata?: Record<string, unknown> };
  if (metadata) {
    const map = root.metadata?.[metadata[1] as string] as Record<string, unknown> | undefined;
    // As Kubernetes' downward API (and so Argo): a missing key reads as an empty string.
    const value = map?.[metadata[2] as string];
    return ok(value === undefined || value === null ? '' : String(value));
  }
  if (path === 'metadata.name' || path === 'metadata.namespace') {
    const value =
      root.metadata?.[path.slice('metadata.'.length)] ??
      (path === 'metadata.namespace' ? 'default' : undefined);
    return value === undefined ? err(`${path} is not set on the Rollout`) : ok(String(value));
  }
  if (path.startsWith('metadata.'))
    return err(
      `unsupported fieldPath ${path}: use metadata.name, metadata.namespace, metadata.labels['key'] or metadata.annotations['key']`,
    );
  if (!path.startsWith('spec.'))
    return err(
      `unsupported fieldPath ${path}: use metadata.*, spec.*, or ${Object.keys(STATUS_FIELD_PATHS).join(', ')}`,
    );
  let node: unknown = document;
  for (const section of path.split(/[.[\]]+/).filter(Boolean)) {
    if (Array.isArray(node)) {
      const index = Number(section);
      if (!Number.isInteger(index)) return err(`invalid index '${section}' in ${path}`);
      if (index >= node.length) return err(`index ${index} out of range in ${path}`);
      node = node[index];
    } else if (node !== null && typeof node === 'object') {
      node = (node as Record<string, unknown>)[section];
    } else {
      return err(`invalid path ${path} in rollout`);
    }
  }
  if (node === undefined || node === null) return err(`invalid path ${path} in rollout`);
  if (typeof node === 'object') return err(`path ${path} in rollout must terminate in a primitive value`);
  return ok(String(node));
}
