/** A fleet document parsed and checked: the schema of `spec.clusters`, `spec.waves` and `spec.onAbort`. */
import { z } from 'zod';
import { err, ok, type Result } from '../result.js';
import { checkScope, type ClusterScope } from './clusters.js';
import { parseDurationSeconds } from './duration.js';
import { formatIssueList } from './issues.js';
import { dnsLabel } from './names.js';
import { parseRollout } from './rollout.js';
import { memberRollout, type Fleet, type Wave } from './fleet.js';

const waveSchema = z
  .object({
    name: z.string().trim().min(1, 'must not be empty'),
    clusters: z.array(dnsLabel).min(1, 'must list at least one cluster'),
    bake: z
      .unknown()
      .superRefine((value, ctx) => {
        const parsed = parseDurationSeconds(value);
        if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
      })
      .optional(),
    maxParallel: z
      .number({ message: 'must be a whole number of clusters, at least 1' })
      .int('must be a whole number of clusters, at least 1')
      .min(1, 'must be a whole number of clusters, at least 1')
      .optional(),
    steps: z.array(z.unknown()).optional(),
  })
  .strict();

const fleetSpecSchema = z
  .object({
    cluster: z.unknown().optional(),
    clusters: z.array(dnsLabel).min(1, 'must list at least one cluster'),
    waves: z.array(waveSchema).min(1, 'must list at least one wave (or leave waves out)').optional(),
    onAbort: z
      .object({ completedClusters: z.enum(['Keep', 'Revert']) })
      .strict()
      .optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.cluster !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['cluster'],
        message: 'give spec.cluster (one cluster) or spec.clusters (a fleet), not both',
      });
    spec.clusters.forEach((cluster, index) => {
      if (spec.clusters.indexOf(cluster) !== index)
        ctx.addIssue({ code: 'custom', path: ['clusters', index], message: `'${cluster}' is listed twice` });
    });
    const waves = spec.waves ?? [];
    const seen = new Map<string, string>();
    waves.forEach((wave, index) => {
      if (waves.findIndex((other) => other.name === wave.name) !== index)
        ctx.addIssue({
          code: 'custom',
          path: ['waves', index, 'name'],
          message: `wave names must be unique, '${wave.name}' is used twice`,
        });
      wave.clusters.forEach((cluster, position) => {
        const path = ['waves', index, 'clusters', position];
        const earlier = seen.get(cluster);
        if (earlier !== undefined)
          ctx.addIssue({
            code: 'custom',
            path,
            message: `cluster '${cluster}' is already in wave '${earlier}': each cluster belongs to exactly one wave`,
          });
        else if (!spec.clusters.includes(cluster))
          ctx.addIssue({
            code: 'custom',
            path,
            message: `cluster '${cluster}' is not in spec.clusters (${spec.clusters.join(', ')})`,
          });
        seen.set(cluster, wave.name);
      });
      const maxParallel = wave.maxParallel;
      if (maxParallel !== undefined && maxParallel > wave.clusters.length)
        ctx.addIssue({
          code: 'custom',
          path: ['waves', index, 'maxParallel'],
          message: `is ${maxParallel} but the wave has ${wave.clusters.length} cluster(s)`,
        });
    });
    if (spec.waves)
      spec.clusters.forEach((cluster, index) => {
        if (!seen.has(cluster))
          ctx.addIssue({
            code: 'custom',
            path: ['clusters', index],
            message: `cluster '${cluster}' is in no wave: each cluster belongs to exactly one wave`,
          });
      });
  });

const STEPS_PATH = 'spec.strategy.canary.steps';

/** Whether a Rollout document describes a fleet (it lists spec.clusters). */
export function isFleetDocument(document: unknown): boolean {
  const spec = (document as { spec?: unknown } | null)?.spec;
  return typeof spec === 'object' && spec !== null && 'clusters' in spec;
}

/** A fleet document, or every problem with its field path (the fleet's and the Rollout's). */
export function parseFleet(document: unknown): Result<Fleet, string[]> {
  const parsed = z.object({ spec: fleetSpecSchema }).safeParse(document);
  if (!parsed.success) return err(formatIssueList(parsed.error));
  const { clusters, waves, onAbort } = parsed.data.spec;
  const {
    clusters: _c,
    waves: _w,
    onAbort: _o,
    ...spec
  } = (document as { spec: Record<string, unknown> }).spec;
  const base = { ...(document as object), spec: { ...spec, cluster: clusters[0] } };
  const template = parseRollout(base);
  if (!template.ok) return err(template.error);
  const errors: string[] = [];
  const parsedWaves: Wave[] = (waves ?? [{ name: 'all', clusters }]).map((wave, index) => {
    const bake = 'bake' in wave && wave.bake !== undefined ? parseDurationSeconds(wave.bake) : undefined;
    const result: Wave = {
      name: wave.name,
      clusters: wave.clusters,
      bakeSeconds: bake?.ok ? bake.value : 0,
      maxParallel: ('maxParallel' in wave ? wave.maxParallel : undefined) ?? wave.clusters.length,
    };
    const steps = 'steps' in wave ? wave.steps : undefined;
    if (steps === undefined) return result;
    const withSteps = structuredClone(base) as { spec: { strategy?: { canary?: { steps?: unknown } } } };
    if (withSteps.spec.strategy?.canary) withSteps.spec.strategy.canary.steps = steps;
    const member = parseRollout(withSteps);
    if (!member.ok)
      errors.push(
        ...member.error
          .filter((error) => error.startsWith(STEPS_PATH))
          .map((error) => `spec.waves[${index}].steps${error.slice(STEPS_PATH.length)}`),
      );
    else result.steps = member.value.canary.steps;
    return result;
  });
  if (errors.length) return err(errors);
  const { trigger, ...rest } = template.value;
  return ok({
    name: template.value.name,
    namespace: template.value.namespace,
    clusters,
    waves: parsedWaves,
    onAbort: { completedClusters: onAbort?.completedClusters ?? 'Keep' },
    ...(trigger ? { trigger } : {}),
    template: rest,
  });
}

/** Every member must be registered and allowed the namespace (and its VirtualServices' namespaces). */
export function checkFleetScope(fleet: Fleet, registry: readonly ClusterScope[]): Result<void, string[]> {
  const problems = fleet.clusters.flatMap((cluster, index) => {
    const scoped = checkScope(memberRollout(fleet, cluster), registry);
    return scoped.ok
      ? []
      : scoped.error.map((problem) =>
          problem.startsWith('spec.cluster:')
            ? `spec.clusters[${index}]:${problem.slice('spec.cluster:'.length)}`
            : `spec.clusters[${index}] (${cluster}): ${problem}`,
        );
  });
  return problems.length ? err(problems) : ok(undefined);
}
