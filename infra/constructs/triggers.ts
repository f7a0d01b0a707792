/**
 * What starts canaries: ecr-push (successful ECR pushes, from EventBridge) and registry-webhook
 * (GitHub, Harbor, Docker Hub and generic HMAC webhooks, on a Function URL), with the webhook
 * secrets they verify deliveries against.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { TABLE } from '../../lib/adapters/dynamodb/table.js';
import { BundledFunction } from './bundled-function.js';
import type { StateTable } from './state-table.js';

export interface TriggersOptions {
  state: StateTable;
  /** The step runner's wake-up queue: a queued push wakes the runner through it (triggers send no commands). */
  wakeups: sqs.IQueue;
  asyncFailures: sqs.IQueue;
  /** Registry hosts Harbor pushes may name. */
  harborHosts: readonly string[];
  /** The webhook's reserved concurrency; null: none. */
  webhookConcurrency: number | null;
  logRetention: logs.RetentionDays;
  /** Both triggers only parse, match and write one item: 256 MB is plenty. */
  memorySize?: number;
}

export class Triggers extends Construct {
  readonly ecrPush: BundledFunction;
  readonly webhook: BundledFunction;
  readonly webhookSecret: secretsmanager.Secret;
  readonly webhookUrl: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, options: TriggersOptions) {
    super(scope, id);
    this.webhookSecret = new secretsmanager.Secret(this, 'WebhookSecrets', {
      description:
        'Webhook secrets: generic (HMAC key, generated), github, harbor, dockerhubToken (set the ones you use)',
      generateSecretString: {
        secretStringTemplate: '{}',
        generateStringKey: 'generic',
        excludePunctuation: true,
        passwordLength: 40,
      },
    });
    // Kept from the single-stack layout: a new logical ID would generate a new HMAC key and break
    // every registry configured with the old one.
    (this.webhookSecret.node.defaultChild as secretsmanager.CfnSecret).overrideLogicalId(
      'WebhookSecretsC35BAB69',
    );
    Validations.of(this.webhookSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Webhook secrets are shared with the registries that sign deliveries; rotating them means reconfiguring each registry by hand.',
    });

    const shared = {
      timeout: Duration.seconds(30),
      memorySize: options.memorySize ?? 256,
      logRetention: options.logRetention,
      deadLetterQueue: options.asyncFailures,
    };
    const environment = { TABLE_NAME: options.state.tableName, WAKEUP_QUEUE_URL: options.wakeups.queueUrl };
    this.ecrPush = new BundledFunction(this, 'EcrPush', {
      ...shared,
      entry: 'ecr-push.ts',
      // ECR events may claim only this account's (and region's) repositories.
      environment: { ...environment, ACCOUNT_ID: Stack.of(this).account },
    });
    this.webhook = new BundledFunction(this, 'RegistryWebhook', {
      ...shared,
      entry: 'registry-webhook.ts',
      reservedConcurrency: options.webhookConcurrency,
      environment: {
        ...environment,
        WEBHOOK_SECRET_ARN: this.webhookSecret.secretArn,
        HARBOR_HOSTS: options.harborHosts.join(','),
      },
    });
    for (const trigger of [this.ecrPush, this.webhook]) {
      trigger.allow(
        [
          'dynamodb:GetItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
          'dynamodb:PutItem',
          'dynamodb:ConditionCheckItem',
        ],
        options.state.arns(TABLE.repositoryIndex.name),
      );
      trigger.allow(['sqs:SendMessage'], [options.wakeups.queueArn]);
    }
    this.webhook.allow(['secretsmanager:GetSecretValue'], [this.webhookSecret.secretArn]);

    new events.Rule(this, 'EcrPushes', {
      description: 'Successful ECR pushes start canaries',
      eventPattern: {
        source: ['aws.ecr'],
        detailType: ['ECR Image Action'],
        detail: { 'action-type': ['PUSH'], result: ['SUCCESS'] },
      },
      targets: [
        new targets.LambdaFunction(this.ecrPush.function, {
          deadLetterQueue: options.asyncFailures,
          retryAttempts: 2,
        }),
      ],
    });
    this.webhookUrl = this.webhook.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
  }
}
