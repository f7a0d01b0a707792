/** Lambda Function URL: Docker Hub, GHCR, Harbor and generic push webhooks start canaries. */
import { webhookDepsFromEnvironment } from '../lib/adapters/aws/trigger-deps.js';
import { createWebhookHandler } from '../lib/app/triggers/webhook-handler.js';

export const handler = createWebhookHandler(() => webhookDepsFromEnvironment(process.env));
