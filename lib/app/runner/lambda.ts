/**
 * The step runner as a Lambda handler, built from its dependencies: functions/step-runner.ts
 * gives it the AWS ones from the environment, tests and local mode give it their own.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { handleRunnerInput } from './handle.js';
import { parseRunnerInput, type Rejection } from './inputs.js';
import type { RunnerDeps } from './ports.js';

export const REJECTED_METRIC = 'RunnerInputRejected';

/** The runner's ports without the per-invocation owner and logger. */
export type RunnerPorts = Omit<RunnerDeps, 'owner' | 'logger'>;

export interface StepRunnerHandlerDeps {
  /** The ports, or how to build them: called once, on the first event that needs them. */
  runner: RunnerPorts | (() => RunnerPorts);
  logger: Logger;
  metrics: Metrics;
  /** Event sources whose events may carry a command (default: the CLI's). */
  commandSources?: readonly string[];
}

export type StepRunnerResponse =
  { due: number } | { batchItemFailures: { itemIdentifier: string }[] } | { ignored: string };

export function createStepRunnerHandler(deps: StepRunnerHandlerDeps) {
  const { logger, metrics } = deps;
  let ports: RunnerPorts | undefined;
  const runnerPorts = () => (ports ??= typeof deps.runner === 'function' ? deps.runner() : deps.runner);

  /** Logged as a warning with its reason and counted under that reason: nothing is dropped unseen. */
  const reject = (rejection: Rejection) => {
    logger.warn(`step runner input rejected: ${rejection.message}`, {
      reason: rejection.reason,
      ...rejection.detail,
    });
    const metric = metrics.singleMetric();
    metric.addDimension('reason', rejection.reason);
    metric.addMetric(REJECTED_METRIC, MetricUnit.Count, 1);
  };

  return middy(async (event: unknown, context: Context): Promise<StepRunnerResponse> => {
    const parsed = parseRunnerInput(event);
    if (!parsed.ok) {
      reject(parsed.error);
      return { ignored: parsed.error.message };
    }
    const result = await handleRunnerInput(
      { ...runnerPorts(), owner: `lambda:${context.awsRequestId}`, logger },
      parsed.value,
      { ...(deps.commandSources ? { commandSources: deps.commandSources } : {}) },
    );
    result.rejections.forEach(reject);
    if (result.report)
      logger.info('step runner pass', {
        due: result.report.due,
        outcomes: result.report.outcomes.map((o) => `${o.key.name}:${o.result}`),
      });
    if (result.batchItemFailures) return { batchItemFailures: result.batchItemFailures };
    if (!result.report) return { ignored: result.rejections.map((r) => r.message).join('; ') };
    return { due: result.report.due };
  }).use(injectLambdaContext(logger));
}
