/** The trigger functions' dependencies, from the Lambda environment the CDK stack sets. */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { dynamoDbClient } from '../dynamodb/client.js';
import { RolloutStore } from '../dynamodb/repository.js';
import { parseHarborHosts } from '../../core/triggers/bindings.js';
import type { WebhookSecrets } from '../../core/triggers/webhook.js';
import type { WebhookDeps } from '../../app/triggers/webhook-handler.js';
import type { EcrPushDeps } from '../../app/triggers/ecr-handler.js';
import { wakeupQueueNudge } from './nudge.js';
import { SqsWakeups } from './wakeups.js';
import { sdkDocuments } from '../dynamodb/sdk-documents.js';

const SECRETS_TTL_MS = 5 * 60 * 1000;
const webhookSecretsSchema = z.object({
  github: z.string().optional(),
  harbor: z.string().optional(),
  dockerhubToken: z.string().optional(),
  generic: z.string().optional(),
});

/** The store, and the runner's wake-up queue as the nudge (trigger functions send no commands). */
function shared(env: NodeJS.ProcessEnv) {
  const table = env.TABLE_NAME;
  if (!table) throw new Error('TABLE_NAME is not set');
  const queue = env.WAKEUP_QUEUE_URL;
  return {
    store: new RolloutStore(sdkDocuments(dynamoDbClient()), table),
    clock: Date.now,
    ...(queue ? { nudge: wakeupQueueNudge(new SqsWakeups(new SQSClient({}), queue), Date.now) } : {}),
  };
}

export function harborHostsFromEnvironment(env: NodeJS.ProcessEnv): string[] {
  const hosts = parseHarborHosts(env.HARBOR_HOSTS);
  if (!hosts.ok) throw new Error(hosts.error);
  return hosts.value;
}

export function webhookDepsFromEnvironment(env: NodeJS.ProcessEnv): WebhookDeps {
  return {
    ...shared(env),
    secrets: secretsLoader(env),
    bindings: { harborHosts: harborHostsFromEnvironment(env) },
  };
}

export function ecrPushDepsFromEnvironment(env: NodeJS.ProcessEnv): EcrPushDeps {
  const region = env.AWS_REGION;
  if (!region) throw new Error('AWS_REGION is not set');
  return { ...shared(env), region, ...(env.ACCOUNT_ID ? { account: env.ACCOUNT_ID } : {}) };
}

/** Secrets Manager, cached for five minutes (local mode injects its secrets instead). */
function secretsLoader(env: NodeJS.ProcessEnv): () => Promise<WebhookSecrets> {
  const arn = env.WEBHOOK_SECRET_ARN;
  if (!arn) return async () => ({});
  const client = new SecretsManagerClient({});
  let cached: { value: WebhookSecrets; at: number } | undefined;
  return async () => {
    if (cached && Date.now() - cached.at < SECRETS_TTL_MS) return cached.value;
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    cached = { value: webhookSecretsSchema.parse(JSON.parse(SecretString ?? '{}')), at: Date.now() };
    return cached.value;
  };
}
