/**
 * Who may put command events on the bus. The trigger functions may put nothing at all (they queue
 * pushes in the table and wake the runner through SQS); with `commandSenders` configured, no other
 * principal may put an event of the command detail type. The runner's lifecycle events use other
 * detail types and stay allowed by its own IAM policy.
 */
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { COMMAND_DETAIL_TYPE } from '../../lib/app/runner/inputs.js';

export interface CommandGuardOptions {
  /** Roles that must never put events on the bus. */
  silenced: iam.IRole[];
  /** IAM principal ARNs allowed to send commands; empty: any principal IAM allows. */
  commandSenders: readonly string[];
}

export function guardCommands(bus: events.EventBus, options: CommandGuardOptions): void {
  bus.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'TriggersSendNothing',
      effect: iam.Effect.DENY,
      principals: options.silenced.map((role) => new iam.ArnPrincipal(role.roleArn)),
      actions: ['events:PutEvents'],
      resources: [bus.eventBusArn],
    }),
  );
  if (!options.commandSenders.length) return;
  bus.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'OnlyCommandSendersSendCommands',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['events:PutEvents'],
      resources: [bus.eventBusArn],
      conditions: {
        StringEquals: { 'events:detail-type': COMMAND_DETAIL_TYPE },
        ArnNotLike: { 'aws:PrincipalArn': [...options.commandSenders] },
      },
    }),
  );
}
