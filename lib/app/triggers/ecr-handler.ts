/**
 * The ECR push function's Lambda handler, built from its dependencies. An event that is not a
 * well-formed push of this account's and region's registry is logged and dropped (never queued);
 * a store outage throws, so EventBridge retries and then dead-letters the event.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { decideEcr } from '../../core/triggers/ecr.js';
import { acceptPushes, type Nudge, type PushStore, type PushesAccepted } from './pushes.js';
import { once } from './once.js';

export interface EcrPushDeps {
  store: PushStore;
  nudge?: Nudge;
  /** This deployment's region, and its account when known (else read from the function's ARN). */
  region: string;
  account?: string;
  clock: () => number;
}

/** arn:aws:lambda:<region>:<account>:function:<name> */
const accountOf = (context: Context): string | undefined => context.invokedFunctionArn?.split(':')[4];

/** `deps` may be a function: Lambda builds them on the first event, not at import. */
export function createEcrPushHandler(
  deps: EcrPushDeps | (() => EcrPushDeps),
  logger = new Logger({ serviceName: 'ecr-push' }),
) {
  const resolve = once(deps);
  return middy(async (event: unknown, context: Context): Promise<PushesAccepted | { ignored: string }> => {
    const deps = resolve();
    const account = deps.account ?? accountOf(context);
    if (!account) throw new Error('ecr-push cannot tell its account: set ACCOUNT_ID');
    const decision = decideEcr(event, { account, region: deps.region });
    if (decision.kind === 'drop') {
      logger.warn('dropped an event that is not a valid ECR push of this registry', {
        reason: decision.reason,
      });
      return { ignored: decision.reason };
    }
    if (decision.kind === 'ignore') return { ignored: decision.reason };
    const accepted = await acceptPushes(deps.store, decision.pushes, {
      deliveryKeys: decision.deliveryKeys,
      source: 'ecr',
      now: deps.clock(),
      ...(deps.nudge ? { nudge: deps.nudge } : {}),
    });
    logger.info('ECR push accepted', { ...accepted });
    return accepted;
  }).use(injectLambdaContext(logger, { logEvent: false }));
}
