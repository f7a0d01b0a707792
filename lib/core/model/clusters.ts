/** The cluster registry: which Kubernetes API each Rollout's `spec.cluster` names. Shared by CDK and the runner. */
import { z } from 'zod';

export type ClusterTarget =
  | { name: string; kubeconfig: { path: string; context?: string } }
  | { name: string; eks: { clusterName: string; region: string; roleArn?: string } };

const clusterName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label');

export const clusterTargetSchema: z.ZodType<ClusterTarget> = z.union([
  z.object({
    name: clusterName,
    eks: z.object({
      clusterName: z.string().min(1),
      region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1'),
      roleArn: z
        .string()
        .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN')
        .optional(),
    }),
  }),
  z.object({
    name: clusterName,
    kubeconfig: z.object({ path: z.string().min(1), context: z.string().optional() }),
  }),
]);

export const clusterRegistrySchema = z.array(clusterTargetSchema).superRefine((targets, ctx) => {
  const seen = new Set<string>();
  targets.forEach((target, index) => {
    if (seen.has(target.name))
      ctx.addIssue({
        code: 'custom',
        path: [index, 'name'],
        message: `cluster '${target.name}' is listed twice`,
      });
    seen.add(target.name);
  });
});
