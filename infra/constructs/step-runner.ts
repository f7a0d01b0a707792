/**
 * The step runner and what wakes it: a one-minute schedule (the safety net), the wake-up queue it
 * fills for itself (the trigger functions fill it too), and the CLI's command events on the bus. It
 * may read and write the table through the due index, publish events, reach each configured EKS
 * cluster, and read what analysis measures.
 */
import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { TABLE } from '../../lib/adapters/dynamodb/table.js';
import { CLI_COMMAND_SOURCE } from '../../lib/adapters/aws/nudge.js';
import { COMMAND_DETAIL_TYPE } from '../../lib/app/runner/inputs.js';
import { RUNNER_KUBERNETES_GROUP, type DeploymentConfig } from '../config.js';
import { BundledFunction, deadLetterQueue } from './bundled-function.js';
import type { StateTable } from './state-table.js';

export interface StepRunnerOptions {
  state: StateTable;
  bus: events.IEventBus;
  /** For failed asynchronous invocations (schedule and command events). */
  asyncFailures: sqs.IQueue;
  clusters: DeploymentConfig['clusters'];
  memorySize: number;
  logRetention: logs.RetentionDays;
  /** null: no reserved concurrency. */
  reservedConcurrency: number | null;
  analysis: DeploymentConfig['analysis'];
}

export class StepRunner extends Construct {
  readonly handler: BundledFunction;
  /** Wake-ups that failed five deliveries. */
  readonly wakeupFailures: sqs.Queue;
  /** Due-now wake-ups: the runner's own, and the trigger functions' after they queue a push. */
  readonly wakeups: sqs.Queue;

  constructor(scope: Construct, id: string, options: StepRunnerOptions) {
    super(scope, id);
    this.wakeupFailures = deadLetterQueue(this, 'WakeupFailures');
    const wakeups = new sqs.Queue(this, 'Wakeups', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.minutes(6),
      deadLetterQueue: { queue: this.wakeupFailures, maxReceiveCount: 5 },
    });
    this.wakeups = wakeups;
    this.handler = new BundledFunction(this, 'Handler', {
      entry: 'step-runner.ts',
      timeout: Duration.minutes(5),
      memorySize: options.memorySize,
      logRetention: options.logRetention,
      deadLetterQueue: options.asyncFailures,
      reservedConcurrency: options.reservedConcurrency,
      environment: {
        TABLE_NAME: options.state.tableName,
        EVENT_BUS_NAME: options.bus.eventBusName,
        WAKEUP_QUEUE_URL: wakeups.queueUrl,
        CLUSTERS: JSON.stringify(options.clusters),
        // The runner refuses secrets outside the prefix IAM allows before it asks AWS.
        ANALYSIS_SECRET_PREFIX: options.analysis.secretsPrefix,
      },
    });
    this.handler.allow(
      [
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'dynamodb:PutItem',
        'dynamodb:DeleteItem',
        'dynamodb:ConditionCheckItem',
      ],
      options.state.arns(TABLE.dueIndex.name),
    );
    this.handler.allow(['events:PutEvents'], [options.bus.eventBusArn]);
    this.handler.allow(['sqs:SendMessage'], [wakeups.queueArn]);
    this.grantClusters(options.clusters);
    this.grantAnalysis(options.analysis);

    const fn = this.handler.function;
    const target = () =>
      new targets.LambdaFunction(fn, { deadLetterQueue: options.asyncFailures, retryAttempts: 2 });
    new events.Rule(this, 'EveryMinute', {
      description: 'Safety net: advance every due Rollout',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [target()],
    });
    new events.Rule(this, 'Commands', {
      eventBus: options.bus,
      description: 'Rollout commands and nudges for the step runner',
      // Only the CLI's source, from this account: the bus policy decides which principals may send it.
      eventPattern: {
        source: [CLI_COMMAND_SOURCE],
        detailType: [COMMAND_DETAIL_TYPE],
        account: [Stack.of(this).account],
      },
      targets: [target()],
    });
    fn.addEventSource(new SqsEventSource(wakeups, { batchSize: 10, reportBatchItemFailures: true }));
  }

  /**
   * Analysis measurements: CloudWatch metrics, the AMP workspaces the deployment lists, and the
   * secrets (provider credentials) under the configured prefix.
   */
  private grantAnalysis(analysis: DeploymentConfig['analysis']): void {
    this.handler.allow(['cloudwatch:GetMetricData'], ['*']);
    Validations.of(this.handler.role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudwatch:GetMetricData has no resource-level permissions (IAM accepts only "*" for it); the metrics an analysis reads are named in its AnalysisTemplate.',
    });
    if (analysis.ampWorkspaces.length) this.handler.allow(['aps:QueryMetrics'], analysis.ampWorkspaces);
    const secrets = Stack.of(this).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${analysis.secretsPrefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.handler.allow(['secretsmanager:GetSecretValue'], [secrets]);
    Validations.of(this.handler.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${nagResource(Stack.of(this), secrets)}]`,
      reason: `Analysis reads provider credentials by name from the secrets under the configured prefix "${analysis.secretsPrefix}" only; the wildcard is that prefix, and Secrets Manager appends a random suffix to every secret's ARN.`,
    });
  }

  /**
   * Same-account clusters in this region get an access entry for the runner's role; clusters with
   * a role (cross-account) get sts:AssumeRole on it, and that role holds the access entry there.
   */
  private grantClusters(clusters: DeploymentConfig['clusters']): void {
    const stack = Stack.of(this);
    for (const cluster of clusters) {
      if (!('eks' in cluster)) continue;
      const { clusterName, region, roleArn } = cluster.eks;
      if (roleArn) {
        this.handler.allow(['sts:AssumeRole'], [roleArn]);
        continue;
      }
      this.handler.allow(
        ['eks:DescribeCluster'],
        [stack.formatArn({ service: 'eks', region, resource: 'cluster', resourceName: clusterName })],
      );
      if (region === stack.region) {
        new eks.CfnAccessEntry(this, `AccessEntry-${cluster.name}`, {
          clusterName,
          principalArn: this.handler.role.roleArn,
          type: 'STANDARD',
          kubernetesGroups: [RUNNER_KUBERNETES_GROUP],
        });
      }
    }
  }
}

/** A resource ARN as cdk-nag names it in a finding: a `Ref` becomes `<Name>` (e.g. `<AWS::Partition>`). */
function nagResource(stack: Stack, arn: string): string {
  const resolved: unknown = stack.resolve(arn);
  if (typeof resolved === 'string') return resolved;
  const [separator, parts] = (resolved as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return parts
    .map((part) => (typeof part === 'string' ? part : `<${(part as { Ref: string }).Ref}>`))
    .join(separator);
}
