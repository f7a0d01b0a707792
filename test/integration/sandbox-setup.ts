/** One control plane and one DynamoDB Local for the whole integration run; tests find them through the environment. */
import { join } from 'node:path';
import { startDynamoDbLocal } from '../../lib/local/dynamodb-local.js';
import { REPO_ROOT, startTestCluster } from '../../lib/local/testcluster.js';

export async function setUpSandbox(): Promise<void> {
  const clusterLog = join(REPO_ROOT, '.tmp/testcluster.log');
  const dynamoLog = join(REPO_ROOT, '.tmp/dynamodb-local.log');
  const started = Date.now();
  const cluster = await startTestCluster({
    logFile: clusterLog,
    progress: (m) => process.stderr.write(`\n[testcluster] ${m}`),
  });
  const dynamo = await startDynamoDbLocal({ logFile: dynamoLog });
  process.stderr.write(
    `\n[testcluster] ready in ${Date.now() - started} ms; control plane logs: ${clusterLog}; DynamoDB Local logs: ${dynamoLog}\n`,
  );
  (globalThis as { __sandbox__?: unknown }).__sandbox__ = { cluster, dynamo };
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.TEST_KUBECONFIG = cluster.kubeconfigPath;
  process.env.TEST_CLUSTER_SERVER = cluster.server;
  process.env.TEST_CLUSTER_CERT = cluster.servingCert.cert;
  process.env.TEST_CLUSTER_KEY = cluster.servingCert.key;
  process.env.TEST_CLUSTER_LOG = clusterLog;
  process.env.TEST_DYNAMODB_ENDPOINT = dynamo.endpoint;
}

export async function tearDownSandbox(): Promise<void> {
  const sandbox = (
    globalThis as { __sandbox__?: { cluster: { stop(): Promise<void> }; dynamo: { stop(): Promise<void> } } }
  ).__sandbox__;
  await sandbox?.dynamo.stop();
  await sandbox?.cluster.stop();
  if (process.env.TEST_CLUSTER_LOG)
    process.stderr.write(`[testcluster] stopped; logs kept at ${process.env.TEST_CLUSTER_LOG}\n`);
}
