import { describe, expect, it } from '@jest/globals';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { connect, stackOutputs } from '../../lib/app/cli/connection.js';

describe('the CLI finds a deployed stack by its outputs', () => {
  const cloudFormation = mockClient(CloudFormationClient);
  cloudFormation.on(DescribeStacksCommand, { StackName: 'serverless-rollouts' }).resolves({
    Stacks: [
      {
        StackName: 'serverless-rollouts',
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: [
          { OutputKey: 'TableName', OutputValue: 'serverless-rollouts-TableCD117FA1-1A2B3C' },
          { OutputKey: 'EventBusName', OutputValue: 'serverless-rollouts-events' },
          { OutputKey: 'WebhookUrl', OutputValue: 'https://abc.lambda-url.eu-west-1.on.aws/' },
        ],
      },
    ],
  });
  cloudFormation.on(DescribeStacksCommand, { StackName: 'other' }).resolves({
    Stacks: [{ StackName: 'other', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [] }],
  });

  it('reads the table and the bus', async () => {
    expect(await stackOutputs('serverless-rollouts')).toEqual({
      table: 'serverless-rollouts-TableCD117FA1-1A2B3C',
      bus: 'serverless-rollouts-events',
    });
    const connection = await connect({ stack: 'serverless-rollouts' }, { AWS_REGION: 'eu-west-1' });
    expect(connection.store.tableName).toBe('serverless-rollouts-TableCD117FA1-1A2B3C');
    expect(connection.nudge).toBeDefined();
  });

  it('says when the stack is not one of ours', async () => {
    await expect(stackOutputs('other')).rejects.toThrow('stack other has no TableName output');
  });

  it('prefers an explicit table', async () => {
    const connection = await connect(
      { table: 'mine', stack: 'serverless-rollouts' },
      { AWS_REGION: 'eu-west-1' },
    );
    expect(connection.store.tableName).toBe('mine');
  });
});
