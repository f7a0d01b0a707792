/** The runner's dependencies on AWS, from the Lambda environment the CDK stack sets. */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createProviders } from '../metrics/registry.js';
import { SecretsManagerReader } from './secrets.js';
import { z } from 'zod';
import { ClusterConnections } from '../kube/clusters.js';
import { clusterRegistrySchema } from '../../core/model/clusters.js';
import { dynamoDbClient } from '../dynamodb/client.js';
import { RolloutStore } from '../dynamodb/repository.js';
import { FleetStore } from '../dynamodb/fleets.js';
import { EventBridgePublisher } from './events.js';
import type { RunnerPorts } from '../../app/runner/lambda.js';
import { formatIssues } from '../../core/model/issues.js';
import { SqsWakeups } from './wakeups.js';
import { sdkDocuments } from '../dynamodb/sdk-documents.js';

const environmentSchema = z.object({
  TABLE_NAME: z.string().min(1),
  EVENT_BUS_NAME: z.string().min(1),
  WAKEUP_QUEUE_URL: z.string().url(),
  /** The name prefix of the Secrets Manager secrets analysis args may read (the IAM policy's). */
  ANALYSIS_SECRET_PREFIX: z.string().min(1).optional(),
  CLUSTERS: z.string().transform((text, ctx) => {
    try {
      return clusterRegistrySchema.parse(JSON.parse(text));
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        message: `CLUSTERS must be the JSON cluster registry: ${(error as Error).message}`,
      });
      return z.NEVER;
    }
  }),
});

/**
 * A pass waiting for pods watches their Deployment this long and goes on when they are there: well
 * inside the step runner's 5-minute timeout and the 2-minute lease, and longer than most pods take.
 */
export const WATCH_SECONDS = 20;

/** Throws when the environment is not what the stack sets: the function cannot run at all then. */
export function runnerDepsFromEnvironment(env: NodeJS.ProcessEnv): RunnerPorts {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) throw new Error(`step runner misconfigured: ${formatIssues(parsed.error)}`);
  const { TABLE_NAME, EVENT_BUS_NAME, WAKEUP_QUEUE_URL, CLUSTERS, ANALYSIS_SECRET_PREFIX } = parsed.data;
  const store = new RolloutStore(sdkDocuments(dynamoDbClient()), TABLE_NAME);
  return {
    store,
    fleets: new FleetStore(store),
    clusters: new ClusterConnections(CLUSTERS),
    events: new EventBridgePublisher(new EventBridgeClient({}), EVENT_BUS_NAME),
    wakeups: new SqsWakeups(new SQSClient({}), WAKEUP_QUEUE_URL),
    metrics: createProviders(),
    secrets: new SecretsManagerReader(new SecretsManagerClient({}), ANALYSIS_SECRET_PREFIX),
    clock: Date.now,
    watchSeconds: WATCH_SECONDS,
  };
}
