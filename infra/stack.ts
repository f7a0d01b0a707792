/** Everything a team needs in its account: table, functions, schedule, queues, bus, webhook URL, alarms. */
import {
  AssetHashType,
  CfnOutput,
  DockerImage,
  Duration,
  RemovalPolicy,
  Stack,
  Validations,
  type StackProps,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMAND_DETAIL_TYPE } from '../lib/app/runner/inputs.js';
import { TABLE } from '../lib/adapters/dynamodb/table.js';
import { RUNNER_KUBERNETES_GROUP, type DeploymentConfig } from './config.js';

const ROOT = join(fileURLToPath(import.meta.url), '../..');

export interface ServerlessRolloutsStackProps extends StackProps {
  config: DeploymentConfig;
}

export class ServerlessRolloutsStack extends Stack {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: ServerlessRolloutsStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: TABLE.ttlAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE.dueIndex.name,
      partitionKey: { name: TABLE.dueIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE.dueIndex.sortKey, type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE.repositoryIndex.name,
      partitionKey: { name: TABLE.repositoryIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE.repositoryIndex.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });

    const bus = new events.EventBus(this, 'Bus', { eventBusName: `${id}-events` });
    const asyncDlq = this.queue('AsyncFailures');
    const wakeupDlq = this.queue('WakeupFailures');
    const wakeups = new sqs.Queue(this, 'Wakeups', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.minutes(6),
      deadLetterQueue: { queue: wakeupDlq, maxReceiveCount: 5 },
    });
    const webhookSecret = new secretsmanager.Secret(this, 'WebhookSecrets', {
      description:
        'Webhook secrets: generic (HMAC key, generated), github, harbor, dockerhubToken (set the ones you use)',
      generateSecretString: {
        secretStringTemplate: '{}',
        generateStringKey: 'generic',
        excludePunctuation: true,
        passwordLength: 40,
      },
    });

    const runner = this.fn(
      'StepRunner',
      'step-runner.ts',
      Duration.minutes(5),
      config.runnerMemoryMb,
      config.logRetentionDays,
      asyncDlq,
      {
        TABLE_NAME: this.table.tableName,
        EVENT_BUS_NAME: bus.eventBusName,
        WAKEUP_QUEUE_URL: wakeups.queueUrl,
        CLUSTERS: JSON.stringify(config.clusters),
      },
    );
    const triggerEnvironment = { TABLE_NAME: this.table.tableName, EVENT_BUS_NAME: bus.eventBusName };
    const ecrPush = this.fn(
      'EcrPush',
      'ecr-push.ts',
      Duration.seconds(30),
      256,
      config.logRetentionDays,
      asyncDlq,
      triggerEnvironment,
    );
    const webhook = this.fn(
      'RegistryWebhook',
      'registry-webhook.ts',
      Duration.seconds(30),
      256,
      config.logRetentionDays,
      asyncDlq,
      {
        ...triggerEnvironment,
        WEBHOOK_SECRET_ARN: webhookSecret.secretArn,
      },
    );

    const stateActions = [
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
      'dynamodb:ConditionCheckItem',
    ];
    this.allow(runner, stateActions, [this.table.tableArn, this.indexArn(TABLE.dueIndex.name)]);
    this.allow(runner, ['events:PutEvents'], [bus.eventBusArn]);
    this.allow(runner, ['sqs:SendMessage'], [wakeups.queueArn]);
    for (const trigger of [ecrPush, webhook]) {
      this.allow(
        trigger,
        [
          'dynamodb:GetItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
          'dynamodb:PutItem',
          'dynamodb:ConditionCheckItem',
        ],
        [this.table.tableArn, this.indexArn(TABLE.repositoryIndex.name)],
      );
      this.allow(trigger, ['events:PutEvents'], [bus.eventBusArn]);
    }
    this.allow(webhook, ['secretsmanager:GetSecretValue'], [webhookSecret.secretArn]);

    for (const cluster of config.clusters) {
      if (!('eks' in cluster)) continue;
      const { clusterName, region, roleArn } = cluster.eks;
      const clusterArn = Stack.of(this).formatArn({
        service: 'eks',
        region,
        resource: 'cluster',
        resourceName: clusterName,
      });
      if (roleArn) {
        // Cross-account: the role in the cluster's account has the access entry and DescribeCluster.
        this.allow(runner, ['sts:AssumeRole'], [roleArn]);
        continue;
      }
      this.allow(runner, ['eks:DescribeCluster'], [clusterArn]);
      if (region === Stack.of(this).region) {
        new eks.CfnAccessEntry(this, `AccessEntry-${cluster.name}`, {
          clusterName,
          principalArn: runner.role!.roleArn,
          type: 'STANDARD',
          kubernetesGroups: [RUNNER_KUBERNETES_GROUP],
        });
      }
    }

    new events.Rule(this, 'EveryMinute', {
      description: 'Safety net: advance every due Rollout',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(runner, { deadLetterQueue: asyncDlq, retryAttempts: 2 })],
    });
    new events.Rule(this, 'Commands', {
      eventBus: bus,
      description: 'Rollout commands and nudges for the step runner',
      eventPattern: { detailType: [COMMAND_DETAIL_TYPE] },
      targets: [new targets.LambdaFunction(runner, { deadLetterQueue: asyncDlq, retryAttempts: 2 })],
    });
    runner.addEventSource(new SqsEventSource(wakeups, { batchSize: 10, reportBatchItemFailures: true }));
    new events.Rule(this, 'EcrPushes', {
      description: 'Successful ECR pushes start canaries',
      eventPattern: {
        source: ['aws.ecr'],
        detailType: ['ECR Image Action'],
        detail: { 'action-type': ['PUSH'], result: ['SUCCESS'] },
      },
      targets: [new targets.LambdaFunction(ecrPush, { deadLetterQueue: asyncDlq, retryAttempts: 2 })],
    });
    const url = webhook.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });

    for (const fn of [runner, ecrPush, webhook]) {
      new cloudwatch.Alarm(this, `${fn.node.id}Errors`, {
        alarmDescription: `${fn.node.id} failed invocations`,
        metric: fn.metricErrors({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    for (const queue of [asyncDlq, wakeupDlq]) {
      new cloudwatch.Alarm(this, `${queue.node.id}Depth`, {
        alarmDescription: `messages in ${queue.node.id}: a delivery failed for good`,
        metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    new CfnOutput(this, 'WebhookUrl', {
      value: url.url,
      description: 'POST /github, /harbor, /dockerhub/<token>, /generic',
    });
    new CfnOutput(this, 'TableName', {
      value: this.table.tableName,
      description: 'ROLLOUTS_TABLE for the CLI',
    });
    new CfnOutput(this, 'EventBusName', {
      value: bus.eventBusName,
      description: 'ROLLOUTS_EVENT_BUS for the CLI',
    });
    new CfnOutput(this, 'WebhookSecretArn', { value: webhookSecret.secretArn });
    new CfnOutput(this, 'RunnerRoleArn', {
      value: runner.role!.roleArn,
      description: 'map it to the serverless-rollouts:runners group on each cluster',
    });

    Validations.of(webhookSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Webhook secrets are shared with the registries that sign deliveries; rotating them means reconfiguring each registry by hand.',
    });
  }

  private queue(id: string): sqs.Queue {
    const queue = new sqs.Queue(this, id, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself a dead-letter queue.',
    });
    return queue;
  }

  private indexArn(name: string): string {
    return `${this.table.tableArn}/index/${name}`;
  }

  private allow(fn: lambda.Function, actions: string[], resources: string[]): void {
    fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
  }

  private fn(
    id: string,
    entry: string,
    timeout: Duration,
    memorySize: number,
    retentionDays: number,
    deadLetterQueue: sqs.IQueue,
    environment: Record<string, string>,
  ): lambda.Function {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: retentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn, `${logGroup.logGroupArn}:*`],
      }),
    );
    const fn = new lambda.Function(this, id, {
      code: bundledCode(entry),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize,
      timeout,
      role,
      logGroup,
      deadLetterQueue,
      environment: {
        ...environment,
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: entry.replace('.ts', ''),
      },
    });
    const logGroupId = this.resolve((logGroup.node.defaultChild as logs.CfnLogGroup).logicalId) as string;
    Validations.of(role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${logGroupId}.Arn>:*]`,
      reason: `Lambda creates its log streams at run time inside this function's own log group, so CreateLogStream and PutLogEvents need the group's ":*" stream wildcard and nothing wider.`,
    });
    return fn;
  }
}

/**
 * esbuild through infra/bundle.ts (minified ESM, source maps), the same bundle the cold-start
 * benchmark measures; it runs locally, so no Docker is needed.
 */
function bundledCode(entry: string): lambda.Code {
  return lambda.Code.fromAsset(join(ROOT, 'functions'), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs24.x'),
      local: {
        tryBundle(outputDir: string) {
          const result = spawnSync(
            process.execPath,
            ['--import', 'tsx', join(ROOT, 'infra/bundle.ts'), join(ROOT, 'functions', entry), outputDir],
            {
              cwd: ROOT,
              stdio: ['ignore', 'inherit', 'inherit'],
            },
          );
          if (result.status !== 0)
            throw new Error(`bundling functions/${entry} failed (exit ${result.status})`);
          return true;
        },
      },
    },
  });
}
