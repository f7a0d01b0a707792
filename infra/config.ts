/** The deployment's configuration, from cdk.json context `serverlessRollouts` (or `-c serverlessRollouts=<json>`). */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';
import { clusterTargetSchema } from '../lib/core/model/clusters.js';
import { z as zm } from '../lib/core/model/zod-mini.js';
import { formatIssues } from '../lib/core/model/issues.js';
import { parseHarborHosts } from '../lib/core/triggers/bindings.js';

export const RUNNER_KUBERNETES_GROUP = 'serverless-rollouts:runners';

const eksCluster = clusterTargetSchema.check(
  zm.refine(
    (target) => 'eks' in target,
    'deployed clusters are EKS clusters: {name, namespaces, eks: {clusterName, region, roleArn?}}',
  ),
);

/** The retentions CloudWatch Logs accepts (RetentionDays' values); anything else fails at synth, not at deploy. */
const RETENTIONS = Object.values(RetentionDays).filter(
  (value): value is RetentionDays => typeof value === 'number',
);
const logRetention = z.number().refine((days): days is RetentionDays => RETENTIONS.includes(days), {
  message: `log retention in days must be one CloudWatch Logs accepts: ${RETENTIONS.join(', ')} (${RetentionDays.INFINITE}: never expire)`,
});

/** Checked here with the webhook's own parser, so a host synth accepts is one the webhook accepts. */
const harborHosts = z.array(z.string()).transform((hosts, ctx) => {
  const parsed = parseHarborHosts(hosts.join(','));
  if (parsed.ok) return parsed.value;
  ctx.addIssue({ code: 'custom', message: parsed.error });
  return z.NEVER;
});

/** IAM principals (roles, users), as `aws:PrincipalArn` compares them; `*` wildcards allowed. */
const principalArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:iam::\d{12}:(root|\*|(role|user)\/\S+)$/,
    'must be an IAM role or user ARN (or arn:aws:iam::ACCOUNT:* for all of an account)',
  );
const ampWorkspaceArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:aps:[a-z0-9-]+:\d{12}:workspace\/ws-[A-Za-z0-9-]+$/,
    'must be an AMP workspace ARN',
  );
/** Reserved concurrent executions, or null for the account's unreserved pool. */
const reserved = z.number().int().min(1).nullable();

export const deploymentConfigSchema = z.object({
  clusters: z.array(eksCluster).default([]),
  /** Registry hosts Harbor pushes may name (HARBOR_HOSTS for the webhook). */
  harborHosts: harborHosts.default([]),
  /** The only principals whose command events the bus accepts; empty: any principal of the account with events:PutEvents. */
  commandSenders: z.array(principalArn).default([]),
  /** So a webhook flood cannot take the runner's concurrency and leave canaries at split weights. */
  reservedConcurrency: z.object({ runner: reserved.default(5), webhook: reserved.default(10) }).prefault({}),
  /** What analysis may read: these AMP workspaces and the secrets under this prefix, nothing broader. */
  analysis: z
    .object({
      ampWorkspaces: z.array(ampWorkspaceArn).default([]),
      secretsPrefix: z
        .string()
        .regex(/^[A-Za-z0-9/_+=.@-]+$/, 'must be a non-empty Secrets Manager name prefix')
        .default('serverless-rollouts/'),
    })
    .prefault({}),
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
