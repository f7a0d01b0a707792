/** EventBridge rule target: a successful ECR push starts canaries of the pushed image. */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { acceptPushes } from '../lib/app/runner/pushes.js';
import { triggerDepsFromEnvironment, type TriggerDeps } from '../lib/adapters/aws/trigger-deps.js';
import { parseEcr } from '../lib/core/triggers/payloads.js';

const logger = new Logger({ serviceName: 'ecr-push' });
let deps: TriggerDeps | undefined;

export const handler = middy(async (event: unknown) => {
  const parsed = parseEcr(event);
  if (!parsed.ok) {
    logger.warn('ignored an event that is not an ECR push', { reason: parsed.message });
    return { ignored: parsed.message };
  }
  if (parsed.pushes.length === 0) return { ignored: parsed.ignored };
  deps ??= triggerDepsFromEnvironment(process.env);
  const id = (event as { id?: string }).id;
  const accepted = await acceptPushes(deps.store, parsed.pushes, {
    ...(id ? { deliveryId: id } : {}),
    source: 'ecr',
    now: Date.now(),
    ...(deps.nudge ? { nudge: deps.nudge } : {}),
  });
  logger.info('ECR push accepted', { ...accepted });
  return accepted;
}).use(injectLambdaContext(logger));
