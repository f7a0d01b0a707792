/**
 * One Lambda function from functions/<entry>.ts, bundled by infra/bundle.ts: its own log group
 * with a retention, its own role that may write only to that group, and a dead-letter queue.
 */
import { AssetHashType, DockerImage, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '../../..');

export interface BundledFunctionOptions {
  /** File name under functions/, e.g. `step-runner.ts`; also the Powertools service name. */
  entry: string;
  timeout: Duration;
  memorySize: number;
  logRetention: logs.RetentionDays;
  /** Where Lambda puts asynchronous invocations that failed every retry. */
  deadLetterQueue: sqs.IQueue;
  environment: Record<string, string>;
  /** Concurrency kept for this function (and its ceiling); null or absent: the account's unreserved pool. */
  reservedConcurrency?: number | null;
}

export class BundledFunction extends Construct {
  readonly function: lambda.Function;

  constructor(scope: Construct, id: string, options: BundledFunctionOptions) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: options.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn, `${logGroup.logGroupArn}:*`],
      }),
    );
    this.function = new lambda.Function(this, 'Function', {
      code: bundledCode(options.entry),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: options.memorySize,
      timeout: options.timeout,
      role,
      logGroup,
      deadLetterQueue: options.deadLetterQueue,
      ...(options.reservedConcurrency == null
        ? {}
        : { reservedConcurrentExecutions: options.reservedConcurrency }),
      environment: {
        ...options.environment,
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: options.entry.replace('.ts', ''),
      },
    });
    const logGroupId = Stack.of(this).resolve((logGroup.node.defaultChild as logs.CfnLogGroup).logicalId);
    Validations.of(role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${logGroupId}.Arn>:*]`,
      reason: `Lambda creates its log streams at run time inside this function's own log group, so CreateLogStream and PutLogEvents need the group's ":*" stream wildcard and nothing wider.`,
    });
  }

  allow(actions: string[], resources: string[]): void {
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
  }

  get role(): iam.IRole {
    return this.function.role as iam.IRole;
  }
}

/** An SQS queue that only ever holds failed deliveries: encrypted, TLS only, kept 14 days. */
export function deadLetterQueue(scope: Construct, id: string): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
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

/**
 * esbuild through infra/bundle.ts (minified ESM, source maps): the same bundle the bundle tests
 * invoke and the cold-start benchmark measures; it runs locally, so no Docker is needed.
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
            { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
          );
          if (result.status !== 0)
            throw new Error(`bundling functions/${entry} failed (exit ${result.status})`);
          return true;
        },
      },
    },
  });
}
