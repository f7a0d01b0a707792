/**
 * Local mode: DynamoDB Local, the event-driven step runner, the webhook server on 127.0.0.1 through the
 * Lambda handler itself, and the sandbox control plane with the demo applied (or a real cluster).
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DEV_STATE_FILE, type DevState } from '../app/cli/connection.js';
import { ClusterConnections } from '../adapters/kube/clusters.js';
import { applyObjects } from '../adapters/kube/apply.js';
import { MemoryPublisher, type PublishedEvent } from '../adapters/aws/events.js';
import { runPass } from '../app/runner/pass.js';
import type { RunnerDeps } from '../app/runner/process-rollout.js';
import { consoleLogger } from '../adapters/memory/logger.js';
import { TimerWakeups } from '../adapters/memory/wakeups.js';
import { MemorySecrets } from '../adapters/memory/analysis.js';
import { createProviders } from '../adapters/metrics/registry.js';
import type { EngineOptions } from '../core/engine/types.js';
import { clusterRegistrySchema, type ClusterTarget } from '../core/model/clusters.js';
import { formatIssues } from '../core/model/issues.js';
import { runnerRbac } from '../core/model/runner-access.js';
import { parseRollout } from '../core/model/rollout.js';
import type { Fleet } from '../core/model/fleet.js';
import { parseFleet } from '../core/model/fleet-spec.js';
import { RolloutStore } from '../adapters/dynamodb/repository.js';
import { FleetStore } from '../adapters/dynamodb/fleets.js';
import { localDynamoDbClient } from '../adapters/dynamodb/client.js';
import { createTableInput } from '../adapters/dynamodb/table.js';
import type { RolloutKey } from '../adapters/dynamodb/types.js';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.js';
import { serveFunctionUrl, type FunctionUrlHandler } from './function-url.js';
import { serveNudges } from './nudges.js';
import { freePort } from './ports.js';
import { createWebhookHandler } from '../app/triggers/webhook-handler.js';
import { harborHostsFromEnvironment } from '../adapters/aws/trigger-deps.js';
import { KubeHttp } from '../adapters/kube/http.js';
import { parseAnalysisTemplate } from '../core/analysis/template.js';
import { startLocalMetrics, type LocalMetrics } from './mesh.js';
import { readManifests, REPO_ROOT, startTestCluster, type TestCluster } from './testcluster.js';
import { localDocuments } from '../adapters/dynamodb/local-documents.js';

export const STATE_DIR = join(REPO_ROOT, '.rollouts');
const TABLE_NAME = 'serverless-rollouts';

export interface LocalModeOptions {
  kubeconfig?: string;
  /** The namespaces the local cluster serves (default: `default`, where the demo lives). */
  namespaces?: string[];
  context?: string;
  /** Start one sandbox cluster per cluster of examples/waves and register its fleet instead of the demo. */
  waves?: boolean;
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
  /**
   * The sandbox's mesh simulator and the real Prometheus scraping it (the `prometheus-address` arg
   * of examples/istio-demo/analysis); absent with your own cluster, or when no Prometheus is installed.
   */
  metrics?: LocalMetrics;
  /** Starts a pass for `key` now: what the CLI's nudge does, for callers in this process. */
  nudge(key: RolloutKey): Promise<void>;
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
    const client = localDynamoDbClient(dynamo.endpoint);
    await client.send(new CreateTableCommand(createTableInput(TABLE_NAME)));
    // Plain HTTP to DynamoDB Local, as the CLI: half the SDK's time a request, the same results
    // (test/integration/runner-store.test.ts runs the store through both).
    const store = new RolloutStore(localDocuments(dynamo.endpoint), TABLE_NAME);

    let targets: ClusterTarget[];
    let kubeconfigPath: string;
    let metrics: LocalMetrics | undefined;
    const sandbox = !options.kubeconfig;
    const namespaces = options.namespaces ?? ['default'];
    if (options.kubeconfig) {
      kubeconfigPath = options.kubeconfig;
      targets = [
        {
          name: 'default',
          namespaces,
          kubeconfig: { path: options.kubeconfig, ...(options.context ? { context: options.context } : {}) },
        },
      ];
    } else {
      const fleet = options.waves ? wavesExample() : undefined;
      const sandboxes = await Promise.all(
        (fleet?.clusters ?? ['default']).map((name) => startSandbox(name, namespaces, options.progress)),
      );
      for (const { stop } of sandboxes) stops.push(stop);
      targets = sandboxes.map(({ target }) => target);
      const first = sandboxes[0] as Sandbox;
      kubeconfigPath = first.kubeconfigPath;
      if (fleet) await new FleetStore(store).apply(fleet, Date.now());
      else {
        const demo = parseRollout(readManifests(join(REPO_ROOT, 'examples/istio-demo'), 'rollout.yaml')[0]);
        if (!demo.ok) throw new Error(`examples/istio-demo/rollout.yaml: ${demo.error.join('; ')}`);
        await applyDemoTemplates(store);
        await store.apply(demo.value, Date.now());
        metrics = await startSandboxMetrics(first.cluster, options.progress);
        if (metrics) stops.push(() => (metrics as LocalMetrics).stop());
      }
    }
    const registry = clusterRegistrySchema.safeParse(targets);
    if (!registry.success) throw new Error(`local cluster: ${formatIssues(registry.error)}`);
    const clusters = new ClusterConnections(targets);

    const secrets = {
      generic: randomBytes(16).toString('hex'),
      github: randomBytes(16).toString('hex'),
      harbor: randomBytes(16).toString('hex'),
      dockerhubToken: randomBytes(16).toString('hex'),
    };
    const runner = startRunnerLoop(store, clusters, options.onEvent);
    stops.push(() => runner.stop());
    const nudges = await serveNudges(await freePort(), (key) => void runner.nudge(key));
    stops.push(() => new Promise<void>((resolve) => nudges.close(() => resolve())));
    const { port: nudgePort } = nudges.address() as AddressInfo;

    process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    const webhook = createWebhookHandler({
      store,
      secrets: async () => secrets,
      // Harbor pushes are taken only from the hosts named, as in AWS.
      bindings: { harborHosts: harborHostsFromEnvironment(process.env) },
      // A queued push starts its pass at once, as the command event does in AWS.
      nudge: async (key) => void runner.nudge(key),
      clock: Date.now,
    });
    const port = options.port ?? (await freePort());
    const server: Server = await serveFunctionUrl(webhook as FunctionUrlHandler, port, {
      awsRequestId: 'local',
      functionName: 'registry-webhook',
    });
    stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const webhookUrl = `http://127.0.0.1:${port}`;

    const state: DevState = {
      dynamodbEndpoint: dynamo.endpoint,
      tableName: TABLE_NAME,
      webhookUrl,
      runnerUrl: `http://127.0.0.1:${nudgePort}`,
      kubeconfig: kubeconfigPath,
      clusters: targets,
      pid: process.pid,
    };
    writeFileSync(join(REPO_ROOT, DEV_STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
    return {
      webhookUrl,
      secrets,
      store,
      clusters,
      kubeconfigPath,
      sandbox,
      ...(metrics ? { metrics } : {}),
      nudge: runner.nudge,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

export const DEMO_TEMPLATES_DIR = join(REPO_ROOT, 'examples/istio-demo/analysis');
export const DEMO_VIRTUAL_SERVICES = ['rollouts-demo-vsvc1', 'rollouts-demo-vsvc2'];
/** A tenth of local mode's synthetic requests carry this header, so a header route has traffic to show. */
export const DEMO_TEST_HEADER = { name: 'x-canary', value: 'yes', share: 0.1 };

/** examples/istio-demo/analysis's AnalysisTemplates, stored as `rollouts apply` stores them. */
async function applyDemoTemplates(store: RolloutStore): Promise<void> {
  for (const document of readManifests(DEMO_TEMPLATES_DIR)) {
    const template = parseAnalysisTemplate(document);
    if (!template.ok)
      throw new Error(
        `examples/istio-demo/analysis: ${document.metadata?.name}: ${template.error.join('; ')}`,
      );
    await store.applyTemplate(template.value, document, Date.now());
  }
}

/**
 * The mesh simulator on the demo's VirtualServices and a real Prometheus scraping it. Without a
 * Prometheus binary, local mode goes on without metrics and says how to get one.
 */
async function startSandboxMetrics(
  cluster: TestCluster,
  progress: (message: string) => void,
): Promise<LocalMetrics | undefined> {
  progress('starting the mesh simulator and Prometheus');
  let reported = false;
  try {
    return await startLocalMetrics({
      kube: new KubeHttp(cluster.admin()),
      namespace: 'default',
      virtualServices: DEMO_VIRTUAL_SERVICES,
      testHeader: DEMO_TEST_HEADER,
      logFile: join(STATE_DIR, 'prometheus.log'),
      onError: (error) => {
        if (!reported) progress(`mesh simulator: ${error.message} (it goes on with what it last read)`);
        reported = true;
      },
    });
  } catch (error) {
    progress(`no metrics for analysis: ${(error as Error).message}`);
    return undefined;
  }
}

interface Sandbox {
  cluster: TestCluster;
  target: ClusterTarget;
  kubeconfigPath: string;
  stop: () => Promise<void>;
}

/** A sandbox control plane named `name` with the demo's objects and the runner's access in `namespaces`. */
async function startSandbox(
  name: string,
  namespaces: string[],
  progress: (message: string) => void,
): Promise<Sandbox> {
  const suffix = name === 'default' ? '' : `-${name}`;
  const cluster: TestCluster = await startTestCluster({
    logFile: join(STATE_DIR, `testcluster${suffix}.log`),
    progress: (m) => progress(`sandbox cluster${suffix ? ` ${name}` : ''}: ${m}`),
  });
  try {
    const kubeconfigPath = join(STATE_DIR, `kubeconfig${suffix}`);
    copyFileSync(cluster.kubeconfigPath, kubeconfigPath);
    progress(`applying examples/istio-demo to the sandbox cluster${suffix ? ` ${name}` : ''}`);
    await applyObjects(
      cluster.admin(),
      readManifests(join(REPO_ROOT, 'examples/istio-demo')).filter((o) => o.kind !== 'Rollout'),
    );
    const target: ClusterTarget = {
      name,
      namespaces,
      kubeconfig: { path: kubeconfigPath, context: 'runner' },
    };
    await applyObjects(cluster.admin(), [
      ...namespaces.map((namespace) => ({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: namespace },
      })),
      ...runnerRbac(target),
    ]);
    return { cluster, target, kubeconfigPath, stop: () => cluster.stop() };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

/** The fleet of examples/waves: three clusters, one sandbox each in local mode. */
function wavesExample(): Fleet {
  const parsed = parseFleet(readManifests(join(REPO_ROOT, 'examples/waves'), 'rollout.yaml')[0]);
  if (!parsed.ok) throw new Error(`examples/waves/rollout.yaml: ${parsed.error.join('; ')}`);
  return parsed.value;
}

/** Local mode's engine timing: resyncs of a paused or aborted rollout come sooner than in AWS. */
export const LOCAL_ENGINE: EngineOptions = { pollSeconds: 1, resyncSeconds: 10 };
/** A pass waiting for pods watches their Deployment this long before falling back to a wake-up. */
export const LOCAL_WATCH_SECONDS = 30;

export interface RunnerLoop {
  deps: RunnerDeps;
  /** Runs a pass now: for `key`, or over whatever is due. Resolves when it is done. */
  nudge(key?: RolloutKey): Promise<void>;
  /** Resolves once no pass is running. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The step runner of local mode, event-driven like the Lambda: a pass runs when something happens
 * (a command or a push nudges it, a wake-up fires at the instant a Rollout stored, the Deployment a
 * pass watches becomes available), never on a timer, so nothing reads DynamoDB while nothing is due. One pass over what is due at start catches
 * up with what was queued before. Passes run side by side, as Lambda invocations do; the lease and
 * the conditional save keep two passes over one Rollout from both writing.
 */
export function startRunnerLoop(
  store: RolloutStore,
  clusters: ClusterConnections,
  onEvent?: (event: PublishedEvent) => void,
  engine: EngineOptions = LOCAL_ENGINE,
): RunnerLoop {
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  const wakeups = new TimerWakeups((key: RolloutKey) => void nudge(key));
  const deps: RunnerDeps = {
    store,
    fleets: new FleetStore(store),
    clusters,
    events: new MemoryPublisher(onEvent),
    wakeups,
    metrics: createProviders(),
    // Local mode has no AWS account: an arg from Secrets Manager fails its measurement, saying so.
    secrets: new MemorySecrets(),
    owner: `local:${process.pid}`,
    clock: Date.now,
    engine,
    fleet: { pollSeconds: engine.pollSeconds },
    watchSeconds: LOCAL_WATCH_SECONDS,
    logger: consoleLogger('runner'),
  };
  const nudge = (key?: RolloutKey): Promise<void> => {
    if (stopped) return Promise.resolve();
    const pass: Promise<void> = runPass(deps, key ? { only: [key] } : {})
      .then(() => undefined)
      .catch((error: unknown) => console.error('runner pass failed:', error))
      .finally(() => inFlight.delete(pass));
    inFlight.add(pass);
    return pass;
  };
  void nudge();
  return {
    deps,
    nudge,
    settled: async () => {
      while (inFlight.size > 0) await Promise.all(inFlight);
    },
    stop: async () => {
      stopped = true;
      wakeups.stop();
      await Promise.all(inFlight);
    },
  };
}
