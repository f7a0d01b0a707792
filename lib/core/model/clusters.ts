/**
 * The cluster registry: which Kubernetes API each Rollout's `spec.cluster` names, and the namespaces
 * the runner may act in there. Shared by CDK, the runner, the CLI and local mode.
 */
import { err, ok, type Result } from '../result.js';
import { labelProblem } from './dns-names.js';
import { z } from './zod-mini.js';
import { formatIssues } from './issues.js';
import { formatRef, type ObjectRef } from './references.js';

/** What a cluster lets the runner touch: Rollouts and their VirtualServices in these namespaces only. */
export interface ClusterScope {
  name: string;
  namespaces: readonly string[];
}

export type ClusterTarget = ClusterScope &
  (
    | { kubeconfig: { path: string; context?: string } }
    | { eks: { clusterName: string; region: string; roleArn?: string } }
  );

/** zod/mini: the CLI checks local mode's registry on every command that reaches a cluster. */
const dnsLabel = z.string().check(
  z.superRefine((value, ctx) => {
    const message = labelProblem(value);
    if (message) ctx.addIssue({ code: 'custom', message, input: value });
  }),
);

const namespaces = z.array(dnsLabel).check(
  z.minLength(1, 'must list the namespaces the runner may act in, e.g. [shop, payments]'),
  z.superRefine((list, ctx) => {
    const repeated = list.filter((namespace, index) => list.indexOf(namespace) !== index);
    if (repeated.length)
      ctx.addIssue({
        code: 'custom',
        message: `lists ${[...new Set(repeated)].join(', ')} twice`,
        input: list,
      });
  }),
);

/** One object, so that a missing field is reported by name rather than as "Invalid input" of a union. */
export const clusterTargetSchema = z.pipe(
  z
    .object({
      name: dnsLabel,
      namespaces,
      eks: z.optional(
        z.object({
          clusterName: z.string().check(z.minLength(1)),
          region: z
            .string()
            .check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1')),
          roleArn: z.optional(
            z.string().check(z.regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN')),
          ),
        }),
      ),
      kubeconfig: z.optional(
        z.object({ path: z.string().check(z.minLength(1)), context: z.optional(z.string()) }),
      ),
    })
    .check(
      z.superRefine((target, ctx) => {
        if ((target.eks === undefined) === (target.kubeconfig === undefined))
          ctx.addIssue({
            code: 'custom',
            message: 'must have exactly one of eks or kubeconfig',
            input: target,
          });
      }),
    ),
  z.transform((target) => target as ClusterTarget),
);

export const clusterRegistrySchema = z.array(clusterTargetSchema).check(
  z.superRefine((targets, ctx) => {
    const seen = new Set<string>();
    targets.forEach((target, index) => {
      if (seen.has(target.name))
        ctx.addIssue({
          code: 'custom',
          path: [index, 'name'],
          message: `cluster '${target.name}' is listed twice`,
          input: targets,
        });
      seen.add(target.name);
    });
  }),
);

/** A registry as stored by someone else (local mode's state file): every target, or why it is not one. */
export function parseClusterRegistry(value: unknown, source: string): ClusterTarget[] {
  const parsed = clusterRegistrySchema.safeParse(value);
  if (!parsed.success) throw new Error(`${source}: clusters: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

/** The parts of a Rollout that say where the runner will act. */
export interface Placement {
  cluster: string;
  namespace: string;
  canary: { virtualServices: readonly (ObjectRef & { reference: string })[] };
}

/**
 * Refuses a Rollout whose namespace, or any of whose VirtualServices, lies outside what its cluster
 * serves; each problem names its field, the cluster and the namespaces it allows.
 */
export function checkScope(rollout: Placement, registry: readonly ClusterScope[]): Result<void, string[]> {
  const cluster = registry.find((candidate) => candidate.name === rollout.cluster);
  if (!cluster) {
    const known = registry.map((candidate) => candidate.name).join(', ') || 'none';
    return err([`spec.cluster: cluster '${rollout.cluster}' is not registered (registered: ${known})`]);
  }
  const allowed = `cluster '${cluster.name}' serves namespaces ${cluster.namespaces.join(', ')} only`;
  const problems: string[] = [];
  if (!cluster.namespaces.includes(rollout.namespace))
    problems.push(`metadata.namespace: namespace '${rollout.namespace}' is not allowed: ${allowed}`);
  rollout.canary.virtualServices.forEach((ref, index) => {
    if (!cluster.namespaces.includes(ref.namespace))
      problems.push(
        `spec.strategy.canary.trafficRouting.istio.virtualServices[${index}].name: VirtualService '${ref.reference}' (${formatRef(ref)}) is in namespace '${ref.namespace}', which is not allowed: ${allowed}`,
      );
  });
  return problems.length ? err(problems) : ok(undefined);
}
