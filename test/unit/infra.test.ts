import { describe, expect, it, jest } from '@jest/globals';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDeploymentConfig } from '../../infra/config.js';
import { ServerlessRolloutsStack } from '../../infra/stack.js';

const CONFIG = {
  clusters: [
    { name: 'prod', namespaces: ['shop', 'payments'], eks: { clusterName: 'prod-eks', region: 'eu-west-1' } },
    {
      name: 'partner',
      namespaces: ['partner'],
      eks: {
        clusterName: 'partner-eks',
        region: 'us-east-1',
        roleArn: 'arn:aws:iam::210987654321:role/rollouts-runner',
      },
    },
  ],
};

function stackIn(app: App, config: unknown = CONFIG) {
  return new ServerlessRolloutsStack(app, 'rollouts', {
    config: parseDeploymentConfig(config),
    env: { account: '123456789012', region: 'eu-west-1' },
  });
}

// Bundling is checked by the real `cdk synth` below; here it would only slow the assertions down.
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

function synth(config: unknown = CONFIG) {
  const stack = stackIn(new App({ context: NO_BUNDLING }), config);
  return { stack, template: Template.fromStack(stack) };
}

/**
 * A fresh app, synthesised once with cdk-nag's AwsSolutions pack as a validation plugin, as
 * infra/app.ts does: `alter` may add to the stack first. The report is the one CDK writes.
 */
function nag(alter: (stack: ServerlessRolloutsStack) => void = () => {}) {
  const outdir = mkdtempSync(join(tmpdir(), 'rollouts-nag-'));
  const app = new App({ outdir, context: NO_BUNDLING });
  alter(stackIn(app));
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const quiet = [jest.spyOn(console, 'error'), jest.spyOn(console, 'log')].map((spy) =>
    spy.mockImplementation(() => {}),
  );
  try {
    app.synth();
    return {
      failure: undefined,
      report: JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')),
    };
  } catch (error) {
    return {
      failure: String(error),
      report: JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')),
    };
  } finally {
    for (const spy of quiet) spy.mockRestore();
  }
}

const { template } = synth();
const functions = template.findResources('AWS::Lambda::Function');
/** Logical IDs carry the construct path: StepRunnerHandlerFunction…, TriggersEcrPushFunction…. */
const functionId = (name: string) => Object.keys(functions).find((id) => id.includes(name)) as string;
const policyOf = (name: string) =>
  Object.values(template.findResources('AWS::IAM::Policy')).find((policy: any) =>
    new RegExp(`${name}(Handler)?Role`).test(policy.Properties.Roles[0].Ref),
  ) as any;

describe('the CDK stack', () => {
  it('has the table from the store definition: on demand, PITR, encrypted, TTL, due and repository indexes', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: 'due',
          KeySchema: [
            { AttributeName: 'dueShard', KeyType: 'HASH' },
            { AttributeName: 'dueAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        }),
        Match.objectLike({
          IndexName: 'repository',
          KeySchema: [
            { AttributeName: 'triggerRepository', KeyType: 'HASH' },
            { AttributeName: 'pk', KeyType: 'RANGE' },
          ],
        }),
      ],
    });
  });

  it("keeps the table's and the webhook secret's logical IDs, so an update replaces neither", () => {
    expect(Object.keys(template.findResources('AWS::DynamoDB::Table'))).toEqual(['TableCD117FA1']);
    expect(Object.keys(template.findResources('AWS::SecretsManager::Secret'))).toEqual([
      'WebhookSecretsC35BAB69',
    ]);
  });

  it('runs three functions on nodejs24.x arm64 with memory, timeout, log retention and a dead-letter queue', () => {
    expect(Object.keys(functions)).toHaveLength(3);
    for (const fn of Object.values(functions) as any[]) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        DeadLetterConfig: { TargetArn: expect.anything() },
      });
      expect(fn.Properties.MemorySize).toBeGreaterThanOrEqual(256);
      expect(fn.Properties.Timeout).toBeGreaterThan(0);
    }
    expect(functions[functionId('StepRunner')]).toMatchObject({
      Properties: { Timeout: 300, MemorySize: 512 },
    });
    template.resourceCountIs('AWS::Logs::LogGroup', 3);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('wakes the runner every minute, from the wake-up queue and on command events', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId('StepRunner'), 'Arn'] } })],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'detail-type': ['Rollout Command'] },
      EventBusName: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionId('StepRunner') },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { maxReceiveCount: 5, deadLetterTargetArn: Match.anyValue() },
      SqsManagedSseEnabled: true,
    });
  });

  it('routes successful ECR pushes to ecr-push and serves the webhook on a Function URL', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ecr'],
        'detail-type': ['ECR Image Action'],
        detail: { 'action-type': ['PUSH'], result: ['SUCCESS'] },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId('EcrPush'), 'Arn'] } })],
    });
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      TargetFunctionArn: { 'Fn::GetAtt': [functionId('RegistryWebhook'), 'Arn'] },
    });
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
  });

  it('gives the runner an EKS access entry for same-account clusters and an assumable role for others', () => {
    template.resourceCountIs('AWS::EKS::AccessEntry', 1);
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: 'prod-eks',
      Type: 'STANDARD',
      KubernetesGroups: ['serverless-rollouts:runners'],
    });
  });

  it('grants each function only what it uses', () => {
    const statements = (prefix: string) =>
      policyOf(prefix).Properties.PolicyDocument.Statement.map((s: any) => [s.Action, s.Resource]);
    const runner = statements('StepRunner');
    expect(runner).toContainEqual([
      [
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'dynamodb:PutItem',
        'dynamodb:DeleteItem',
        'dynamodb:ConditionCheckItem',
      ],
      [
        expect.objectContaining({ 'Fn::GetAtt': [expect.stringMatching(/^Table/), 'Arn'] }),
        expect.objectContaining({ 'Fn::Join': expect.anything() }),
      ],
    ]);
    expect(runner).toContainEqual(['events:PutEvents', expect.anything()]);
    expect(runner).toContainEqual(['sqs:SendMessage', expect.anything()]);
    expect(runner).toContainEqual([
      'eks:DescribeCluster',
      {
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks:eu-west-1:123456789012:cluster/prod-eks']],
      },
    ]);
    expect(runner.filter(([action]: [string]) => action === 'eks:DescribeCluster')).toHaveLength(1);
    expect(runner).toContainEqual(['sts:AssumeRole', 'arn:aws:iam::210987654321:role/rollouts-runner']);
    const actions = (prefix: string) =>
      statements(prefix).flatMap(([action]: [string | string[]]) => [action].flat());
    expect(actions('StepRunner')).not.toContain('secretsmanager:GetSecretValue');
    expect(actions('RegistryWebhook')).toContain('secretsmanager:GetSecretValue');
    expect(actions('EcrPush')).not.toContain('secretsmanager:GetSecretValue');
    for (const prefix of ['EcrPush', 'RegistryWebhook']) {
      expect(actions(prefix)).not.toContain('dynamodb:DeleteItem');
      // Their only queue is the dead-letter queue Lambda writes failed async events to.
      expect(statements(prefix).filter(([action]: [string]) => action === 'sqs:SendMessage')).toEqual([
        ['sqs:SendMessage', { 'Fn::GetAtt': [expect.stringMatching(/^AsyncFailures/), 'Arn'] }],
      ]);
      expect(actions(prefix)).not.toContain('eks:DescribeCluster');
    }
    for (const action of Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) =>
      p.Properties.PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat()),
    )) {
      expect(action).not.toMatch(/\*/);
    }
    template.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 0);
  });

  it('alarms on function errors and dead-letter queue depth', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Threshold: 1,
    });
  });

  it('outputs what the CLI needs', () => {
    for (const output of ['WebhookUrl', 'TableName', 'EventBusName', 'WebhookSecretArn', 'RunnerRoleArn'])
      template.hasOutput(output, {});
  });

  it('passes cdk-nag AwsSolutions with every acknowledgement explained', () => {
    const { failure, report } = nag();
    expect(failure).toBeUndefined();
    const [awsSolutions] = report.pluginReports;
    expect(awsSolutions).toMatchObject({ pluginName: 'AwsSolutions', conclusion: 'success', violations: [] });
    // One stream-wildcard acknowledgement per function's log group, each with its reason.
    expect(awsSolutions.suppressedViolations).toHaveLength(3);
    for (const acknowledged of awsSolutions.suppressedViolations)
      expect(acknowledged.reason).toMatch(/^Lambda creates its log streams/);
  });

  it('fails synthesis on a cdk-nag violation and names the resource and the rule', () => {
    const { failure, report } = nag(
      (stack) => new sqs.Queue(stack, 'Unencrypted', { encryption: sqs.QueueEncryption.UNENCRYPTED }),
    );
    expect(failure).toMatch(/ValidationFailed/);
    const [awsSolutions] = report.pluginReports;
    expect(awsSolutions.conclusion).toBe('failure');
    const found = awsSolutions.violations.flatMap((violation: any) =>
      violation.violatingConstructs.map((c: any) => [violation.ruleName, c.constructPath]),
    );
    // Exactly the queue this test added is reported, and nothing else in the stack.
    expect(found).toEqual([
      ['AwsSolutions-SQS2', 'rollouts/Unencrypted/Resource'],
      ['AwsSolutions-SQS3', 'rollouts/Unencrypted/Resource'],
      ['AwsSolutions-SQS4', 'rollouts/Unencrypted/Resource'],
    ]);
  });

  it('sets the configured log retention, and rejects one CloudWatch Logs does not accept, at synth', () => {
    synth({ ...CONFIG, logRetentionDays: 7 }).template.allResourcesProperties('AWS::Logs::LogGroup', {
      RetentionInDays: 7,
    });
    expect(() => parseDeploymentConfig({ logRetentionDays: 45 })).toThrow(
      'logRetentionDays: log retention in days must be one CloudWatch Logs accepts',
    );
  });

  it('rejects a cluster that is not EKS, or a bad region, with the field', () => {
    expect(() =>
      parseDeploymentConfig({ clusters: [{ name: 'x', namespaces: ['a'], kubeconfig: { path: '/k' } }] }),
    ).toThrow('clusters.0: deployed clusters are EKS clusters');
    expect(() =>
      parseDeploymentConfig({
        clusters: [{ name: 'x', namespaces: ['a'], eks: { clusterName: 'c', region: 'mars' } }],
      }),
    ).toThrow('clusters.0');
  });
});

describe('npx cdk synth', () => {
  it('works offline with no AWS credentials, bundling all three functions', () => {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_') && !name.startsWith('CDK_')),
    );
    const result = spawnSync('npx', ['cdk', 'synth', '--quiet', '-o', '.tmp/cdk.out'], {
      env,
      encoding: 'utf8',
      timeout: 280_000,
    });
    expect(result.stderr).not.toMatch(/ERROR/);
    expect(result.status).toBe(0);
  }, 300_000);
});
