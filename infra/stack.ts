/** Everything a team needs in its account: table, functions, schedule, queues, bus, webhook URL, alarms. */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import type { DeploymentConfig } from './config.js';
import { Alarms } from './constructs/alarms.js';
import { guardCommands } from './constructs/command-guard.js';
import { deadLetterQueue } from './constructs/bundled-function.js';
import { StateTable } from './constructs/state-table.js';
import { StepRunner } from './constructs/step-runner.js';
import { Triggers } from './constructs/triggers.js';

export interface ServerlessRolloutsStackProps extends StackProps {
  config: DeploymentConfig;
}

export class ServerlessRolloutsStack extends Stack {
  readonly state: StateTable;
  readonly runner: StepRunner;
  readonly triggers: Triggers;

  constructor(scope: Construct, id: string, props: ServerlessRolloutsStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.state = new StateTable(this, 'State');
    const bus = new events.EventBus(this, 'Bus', { eventBusName: `${id}-events` });
    const asyncFailures = deadLetterQueue(this, 'AsyncFailures');
    this.runner = new StepRunner(this, 'StepRunner', {
      state: this.state,
      bus,
      asyncFailures,
      clusters: config.clusters,
      memorySize: config.runnerMemoryMb,
      logRetention: config.logRetentionDays,
      reservedConcurrency: config.reservedConcurrency.runner,
      analysis: config.analysis,
    });
    this.triggers = new Triggers(this, 'Triggers', {
      state: this.state,
      wakeups: this.runner.wakeups,
      asyncFailures,
      harborHosts: config.harborHosts,
      webhookConcurrency: config.reservedConcurrency.webhook,
      logRetention: config.logRetentionDays,
    });
    guardCommands(bus, {
      silenced: [this.triggers.ecrPush.role, this.triggers.webhook.role],
      commandSenders: config.commandSenders,
    });
    new Alarms(this, 'Alarms', {
      functions: {
        StepRunner: this.runner.handler.function,
        EcrPush: this.triggers.ecrPush.function,
        RegistryWebhook: this.triggers.webhook.function,
      },
      deadLetterQueues: { AsyncFailures: asyncFailures, WakeupFailures: this.runner.wakeupFailures },
    });

    new CfnOutput(this, 'WebhookUrl', {
      value: this.triggers.webhookUrl.url,
      description: 'POST /github, /harbor, /dockerhub/<token>, /generic',
    });
    new CfnOutput(this, 'TableName', {
      value: this.state.tableName,
      description: 'ROLLOUTS_TABLE for the CLI',
    });
    new CfnOutput(this, 'EventBusName', {
      value: bus.eventBusName,
      description: 'ROLLOUTS_EVENT_BUS for the CLI',
    });
    new CfnOutput(this, 'WebhookSecretArn', { value: this.triggers.webhookSecret.secretArn });
    new CfnOutput(this, 'RunnerRoleArn', {
      value: this.runner.handler.role.roleArn,
      description: 'map it to the serverless-rollouts:runners group on each cluster',
    });
    new CfnOutput(this, 'ClusterNamespaces', {
      value: JSON.stringify(config.clusters.map(({ name, namespaces }) => ({ name, namespaces }))),
      description: 'the namespaces each cluster serves: rollouts apply refuses a Rollout outside them',
    });
  }
}
