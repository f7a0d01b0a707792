/** The deployment's configuration, from cdk.json context `serverlessRollouts` (or `-c serverlessRollouts=<json>`). */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';
import { clusterTargetSchema } from '../lib/core/model/clusters.js';
import { formatIssues } from '../lib/core/model/issues.js';

export const RUNNER_KUBERNETES_GROUP = 'serverless-rollouts:runners';

const eksCluster = clusterTargetSchema.refine((target) => 'eks' in target, {
  message: 'deployed clusters are EKS clusters: {name, namespaces, eks: {clusterName, region, roleArn?}}',
});

/** The retentions CloudWatch Logs accepts (RetentionDays' values); anything else fails at synth, not at deploy. */
const RETENTIONS = Object.values(RetentionDays).filter(
  (value): value is RetentionDays => typeof value === 'number',
);
const logRetention = z.number().refine((days): days is RetentionDays => RETENTIONS.includes(days), {
  message: `log retention in days must be one CloudWatch Logs accepts: ${RETENTIONS.join(', ')} (${RetentionDays.INFINITE}: never expire)`,
});

export const deploymentConfigSchema = z.object({
  clusters: z.array(eksCluster).default([]),
  /** Step runner settings; the defaults suit most teams. */
  runnerMemoryMb: z.number().int().min(128).max(10240).default(512),
  logRetentionDays: logRetention.default(RetentionDays.ONE_MONTH),
});
export type DeploymentConfig = z.infer<typeof deploymentConfigSchema>;

export function parseDeploymentConfig(value: unknown): DeploymentConfig {
  const raw = typeof value === 'string' ? JSON.parse(value) : (value ?? {});
  const parsed = deploymentConfigSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`cdk.json context serverlessRollouts: ${formatIssues(parsed.error)}`);
  return parsed.data;
}
