/** Lambda: the one-minute schedule, SQS wake-ups and command events all advance due Rollouts. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { runnerDepsFromEnvironment } from '../lib/adapters/aws/aws-deps.js';
import { createStepRunnerHandler } from '../lib/app/runner/lambda.js';

export const handler = createStepRunnerHandler({
  runner: () => runnerDepsFromEnvironment(process.env),
  logger: new Logger({ serviceName: 'step-runner' }),
  metrics: new Metrics({ namespace: 'ServerlessRollouts', serviceName: 'step-runner' }),
});
