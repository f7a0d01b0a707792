/** `npx cdk deploy`: the serverless-rollouts stack, configured from cdk.json context. */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseDeploymentConfig } from './config.js';
import { ServerlessRolloutsStack } from './stack.js';

const app = new App();
new ServerlessRolloutsStack(app, app.node.tryGetContext('stackName') ?? 'serverless-rollouts', {
  config: parseDeploymentConfig(app.node.tryGetContext('serverlessRollouts')),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
