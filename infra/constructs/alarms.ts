/** One alarm per function on failed invocations and one per dead-letter queue on any message in it. */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface AlarmsOptions {
  /** Alarm names come from the keys. */
  functions: Record<string, lambda.IFunction>;
  deadLetterQueues: Record<string, sqs.IQueue>;
  /** Evaluation period; five minutes unless said otherwise. */
  period?: Duration;
}

export class Alarms extends Construct {
  constructor(scope: Construct, id: string, options: AlarmsOptions) {
    super(scope, id);
    const period = options.period ?? Duration.minutes(5);
    const alarm = (alarmId: string, description: string, metric: cloudwatch.IMetric) =>
      new cloudwatch.Alarm(this, alarmId, {
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    for (const [name, fn] of Object.entries(options.functions))
      alarm(`${name}Errors`, `${name} failed invocations`, fn.metricErrors({ period }));
    for (const [name, queue] of Object.entries(options.deadLetterQueues))
      alarm(
        `${name}Depth`,
        `messages in ${name}: a delivery failed for good`,
        queue.metricApproximateNumberOfMessagesVisible({ period }),
      );
  }
}
