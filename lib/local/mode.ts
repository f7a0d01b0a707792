/**
 * Local mode: DynamoDB Local, the step runner on timers, the webhook server on 127.0.0.1 through the
 * Lambda handler itself, and the sandbox control plane with the demo applied (or a real cluster).
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { DEV_STATE_FILE, type DevState } from '../app/cli/connection.js';
import { ClusterConnections } from '../adapters/kube/clusters.js';
import { applyObjects } from '../adapters/kube/apply.js';
import { MemoryPublisher, type PublishedEvent } from '../adapters/aws/events.js';
import { runPass } from '../app/runner/pass.js';
import type { RunnerDeps } from '../app/runner/process-rollout.js';
import { TimerWakeups } from '../adapters/aws/wakeups.js';
import { clusterRegistrySchema, type ClusterTarget } from '../core/model/clusters.js';
import { formatIssues } from '../core/model/issues.js';
import { runnerRbac } from '../core/model/runner-access.js';
import { parseRollout } from '../core/model/rollout.js';
import { RolloutStore } from '../adapters/dynamodb/repository.js';
import { createTableInput } from '../adapters/dynamodb/table.js';
import type { RolloutKey } from '../adapters/dynamodb/types.js';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.js';
import { serveFunctionUrl, type FunctionUrlHandler } from './function-url.js';
import { freePort } from './ports.js';
import { readManifests, REPO_ROOT, startTestCluster, type TestCluster } from './testcluster.js';

export const STATE_DIR = join(REPO_ROOT, '.rollouts');
const TABLE_NAME = 'serverless-rollouts';
const POLL_MS = 500;

export interface LocalModeOptions {
  kubeconfig?: string;
  /** The namespaces the local cluster serves (default: `default`, where the demo lives). */
  namespaces?: string[];
  context?: string;
  port?: number;
  progress: (message: string) => void;
  onEvent?: (event: PublishedEvent) => void;
}

export interface LocalMode {
  webhookUrl: string;
  secrets: { generic: string; github: string; harbor: string; dockerhubToken: string };
  store: RolloutStore;
  clusters: ClusterConnections;
  kubeconfigPath: string;
  sandbox: boolean;
  stop(): Promise<void>;
}

export async function startLocalMode(options: LocalModeOptions): Promise<LocalMode> {
  mkdirSync(STATE_DIR, { recursive: true });
  const stops: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop();
    rmSync(join(REPO_ROOT, DEV_STATE_FILE), { force: true });
  };
  try {
    options.progress('starting DynamoDB Local');
    const dynamo: DynamoDbLocal = await startDynamoDbLocal({
      logFile: join(STATE_DIR, 'dynamodb-local.log'),
    });
    stops.push(() => dynamo.stop());
    const client = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await client.send(new CreateTableCommand(createTableInput(TABLE_NAME)));
    const store = new RolloutStore(client, TABLE_NAME);

    let target: ClusterTarget;
    let kubeconfigPath: string;
    const sandbox = !options.kubeconfig;
    const namespaces = options.namespaces ?? ['default'];
    if (options.kubeconfig) {
      kubeconfigPath = options.kubeconfig;
      target = {
        name: 'default',
        namespaces,
        kubeconfig: { path: options.kubeconfig, ...(options.context ? { context: options.context } : {}) },
      };
    } else {
      const cluster: TestCluster = await startTestCluster({
        logFile: join(STATE_DIR, 'testcluster.log'),
        progress: (m) => options.progress(`sandbox cluster: ${m}`),
      });
      stops.push(() => cluster.stop());
      kubeconfigPath = join(STATE_DIR, 'kubeconfig');
      copyFileSync(cluster.kubeconfigPath, kubeconfigPath);
      options.progress('applying examples/istio-demo to the sandbox cluster');
      await applyObjects(
        cluster.admin(),
        readManifests(join(REPO_ROOT, 'examples/istio-demo')).filter((o) => o.kind !== 'Rollout'),
      );
      target = { name: 'default', namespaces, kubeconfig: { path: kubeconfigPath, context: 'runner' } };
      await applyObjects(cluster.admin(), [
        ...namespaces.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
        ...runnerRbac(target),
      ]);
      const demo = parseRollout(readManifests(join(REPO_ROOT, 'examples/istio-demo'), 'rollout.yaml')[0]);
      if (!demo.ok) throw new Error(`examples/istio-demo/rollout.yaml: ${demo.errors.join('; ')}`);
      await store.apply(demo.value, Date.now());
    }
    const registry = clusterRegistrySchema.safeParse([target]);
    if (!registry.success) throw new Error(`local cluster: ${formatIssues(registry.error)}`);
    const clusters = new ClusterConnections([target]);

    const secrets = {
      generic: randomBytes(16).toString('hex'),
      github: randomBytes(16).toString('hex'),
      harbor: randomBytes(16).toString('hex'),
      dockerhubToken: randomBytes(16).toString('hex'),
    };
    Object.assign(process.env, {
      TABLE_NAME,
      AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      WEBHOOK_SECRETS: JSON.stringify(secrets),
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    });
    const { handler } = await import('../../functions/registry-webhook.js');
    const port = options.port ?? (await freePort());
    const server: Server = await serveFunctionUrl(handler as unknown as FunctionUrlHandler, port, {
      awsRequestId: 'local',
      functionName: 'registry-webhook',
    });
    stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const webhookUrl = `http://127.0.0.1:${port}`;

    const runner = startRunnerLoop(store, clusters, options.onEvent);
    stops.push(() => runner.stop());

    const state: DevState = {
      dynamodbEndpoint: dynamo.endpoint,
      tableName: TABLE_NAME,
      webhookUrl,
      kubeconfig: kubeconfigPath,
      clusters: [target],
      pid: process.pid,
    };
    writeFileSync(join(REPO_ROOT, DEV_STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
    return { webhookUrl, secrets, store, clusters, kubeconfigPath, sandbox, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Passes over due Rollouts every half second, and at each Rollout's own instant through a timer. */
export function startRunnerLoop(
  store: RolloutStore,
  clusters: ClusterConnections,
  onEvent?: (event: PublishedEvent) => void,
) {
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  const wakeups = new TimerWakeups((key: RolloutKey) => schedule({ only: [key] }));
  const deps: RunnerDeps = {
    store,
    clusters,
    events: new MemoryPublisher(onEvent),
    wakeups,
    owner: `local:${process.pid}`,
    clock: Date.now,
    engine: { pollSeconds: 1, resyncSeconds: 10 },
    log: (message, detail) => console.error(`runner: ${message} ${JSON.stringify(detail ?? {})}`),
  };
  const schedule = (options: { only?: RolloutKey[] } = {}) => {
    running = running.then(() =>
      stopped
        ? undefined
        : runPass(deps, options).catch((error: unknown) => console.error('runner pass failed:', error)),
    );
    return running;
  };
  const interval = setInterval(() => void schedule(), POLL_MS);
  return {
    deps,
    stop: async () => {
      stopped = true;
      clearInterval(interval);
      wakeups.stop();
      await running;
    },
  };
}
