/** Lambda: the one-minute schedule, SQS wake-ups and command events all advance due Rollouts. */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { runnerDepsFromEnvironment } from '../lib/adapters/aws/aws-deps.js';
import { handleRunnerInput } from '../lib/app/runner/handle.js';
import { parseRunnerInput } from '../lib/app/runner/inputs.js';

const logger = new Logger({ serviceName: 'step-runner' });
let deps: ReturnType<typeof runnerDepsFromEnvironment> | undefined;

export const handler = middy(async (event: unknown, context: Context) => {
  const parsed = parseRunnerInput(event);
  if (!parsed.ok) {
    logger.warn('ignored an event the step runner does not take', { reason: parsed.reason });
    return { ignored: parsed.reason };
  }
  deps ??= runnerDepsFromEnvironment(process.env, 'lambda');
  const result = await handleRunnerInput(
    {
      ...deps,
      owner: `lambda:${context.awsRequestId}`,
      logger,
    },
    parsed.input,
  );
  logger.info('step runner pass', {
    due: result.report?.due,
    outcomes: result.report?.outcomes.map((o) => `${o.key.name}:${o.result}`),
  });
  return result.batchItemFailures
    ? { batchItemFailures: result.batchItemFailures }
    : { due: result.report?.due ?? 0 };
}).use(injectLambdaContext(logger));
