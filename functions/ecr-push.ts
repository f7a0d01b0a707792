/** EventBridge rule target: a successful ECR push starts canaries of the pushed image. */
import { ecrPushDepsFromEnvironment } from '../lib/adapters/aws/trigger-deps.js';
import { createEcrPushHandler } from '../lib/app/triggers/ecr-handler.js';

export const handler = createEcrPushHandler(() => ecrPushDepsFromEnvironment(process.env));
