/** What the push entry points need, from their Lambda environment (or local mode's). */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { dynamoDbClient } from '../dynamodb/client.js';
import { RolloutStore } from '../dynamodb/repository.js';
import type { RolloutKey } from '../dynamodb/types.js';
import type { WebhookSecrets } from '../../core/triggers/webhook.js';
import { COMMAND_DETAIL_TYPE } from '../../app/runner/inputs.js';

const SECRETS_TTL_MS = 5 * 60 * 1000;
const secretsSchema = z.object({
  github: z.string().optional(),
  harbor: z.string().optional(),
  dockerhubToken: z.string().optional(),
  generic: z.string().optional(),
});

export interface TriggerDeps {
  store: RolloutStore;
  secrets: () => Promise<WebhookSecrets>;
  nudge?: (key: RolloutKey) => Promise<void>;
}

export function triggerDepsFromEnvironment(env: NodeJS.ProcessEnv): TriggerDeps {
  const table = env.TABLE_NAME;
  if (!table) throw new Error('TABLE_NAME is not set');
  const store = new RolloutStore(dynamoDbClient(), table);
  const bus = env.EVENT_BUS_NAME;
  const events = bus ? new EventBridgeClient({}) : undefined;
  return {
    store,
    secrets: secretsLoader(env),
    ...(events && bus
      ? {
          nudge: async (key: RolloutKey) => {
            await events.send(
              new PutEventsCommand({
                Entries: [
                  {
                    EventBusName: bus,
                    Source: 'serverless-rollouts.webhook',
                    DetailType: COMMAND_DETAIL_TYPE,
                    Detail: JSON.stringify({
                      cluster: key.cluster,
                      namespace: key.namespace,
                      rollout: key.name,
                    }),
                  },
                ],
              }),
            );
          },
        }
      : {}),
  };
}

/** Secrets Manager in AWS (cached for five minutes); local mode passes them in WEBHOOK_SECRETS. */
function secretsLoader(env: NodeJS.ProcessEnv): () => Promise<WebhookSecrets> {
  if (env.WEBHOOK_SECRETS) {
    const secrets = secretsSchema.parse(JSON.parse(env.WEBHOOK_SECRETS));
    return async () => secrets;
  }
  const arn = env.WEBHOOK_SECRET_ARN;
  if (!arn) return async () => ({});
  const client = new SecretsManagerClient({});
  let cached: { value: WebhookSecrets; at: number } | undefined;
  return async () => {
    if (cached && Date.now() - cached.at < SECRETS_TTL_MS) return cached.value;
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    cached = { value: secretsSchema.parse(JSON.parse(SecretString ?? '{}')), at: Date.now() };
    return cached.value;
  };
}
