/** The deployment's configuration, from cdk.json context `serverlessRollouts` (or `-c serverlessRollouts=<json>`). */
import { z } from 'zod';
import { clusterTargetSchema } from '../lib/core/model/clusters.js';

export const RUNNER_KUBERNETES_GROUP = 'serverless-rollouts:runners';

const eksCluster = clusterTargetSchema.refine((target) => 'eks' in target, {
  message: 'deployed clusters are EKS clusters: {name, eks: {clusterName, region, roleArn?}}',
});

export const deploymentConfigSchema = z.object({
  clusters: z.array(eksCluster).default([]),
  /** Step runner settings; the defaults suit most teams. */
  runnerMemoryMb: z.number().int().min(128).max(10240).default(512),
  logRetentionDays: z.number().int().default(30),
});
export type DeploymentConfig = z.infer<typeof deploymentConfigSchema>;

export function parseDeploymentConfig(value: unknown): DeploymentConfig {
  const raw = typeof value === 'string' ? JSON.parse(value) : (value ?? {});
  const parsed = deploymentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `cdk.json context serverlessRollouts: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}
