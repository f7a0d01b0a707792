/**
 * Latency in local mode on the sandbox API server (issue 17): image change acknowledged -> both
 * VirtualServices at 5, promote acknowledged -> both at 50, end of a timed pause -> rollout done,
 * a CLI command from start to acknowledgement, Kubernetes requests per scenario, and DynamoDB
 * requests and CPU of an idle local mode. Registered in bench/run.ts (key `latency`); run alone with
 * `node --import tsx bench/latency.ts [--smoke]`, which merges its key into bench/results.json.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { runnerRbac } from '../lib/core/model/runner-access.js';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { applyObjects } from '../lib/adapters/kube/apply.js';
import { ClusterConnections } from '../lib/adapters/kube/clusters.js';
import { KubeHttp } from '../lib/adapters/kube/http.js';
import { resourcePath, VIRTUAL_SERVICES } from '../lib/adapters/kube/resources.js';
import { watchUntil } from '../lib/adapters/kube/watch.js';
import { keyOf, RolloutStore } from '../lib/adapters/dynamodb/repository.js';
import { createTableInput } from '../lib/adapters/dynamodb/table.js';
import type { PublishedEvent } from '../lib/app/runner/ports.js';
import { readWeights } from '../lib/core/istio/weights.js';
import { parseRollout, type Rollout } from '../lib/core/model/rollout.js';
import type { VirtualService } from '../lib/core/model/virtualservice.js';
import { startDynamoDbLocal } from '../lib/local/dynamodb-local.js';
import { startRunnerLoop } from '../lib/local/mode.js';
import { serveNudges } from '../lib/local/nudges.js';
import { readManifests, REPO_ROOT, startTestCluster, type TestCluster } from '../lib/local/testcluster.js';
import { KubeProxy } from '../lib/local/kube-proxy.js';
import { renderLatency, updateReadme, type BenchResults } from './readme.js';
import { sdkDocuments } from '../lib/adapters/dynamodb/sdk-documents.js';
import { localDocuments } from '../lib/adapters/dynamodb/local-documents.js';

export interface LatencySandbox {
  cluster: TestCluster;
  proxy: KubeProxy;
  proxiedKubeconfig: string;
  dynamoEndpoint: string;
}

const YELLOW = 'argoproj/rollouts-demo:yellow';
const log = (message: string) => process.stderr.write(`… latency: ${message}\n`);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? (sorted[Math.floor((sorted.length - 1) / 2)] as number) : NaN;
};

function dynamo(endpoint: string, onRequest?: () => void): DynamoDBClient {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  if (onRequest)
    client.middlewareStack.add(
      (next) => async (args) => {
        onRequest();
        return next(args);
      },
      { step: 'initialize', name: 'countRequests' },
    );
  return client;
}

async function adminConfig(sandbox: LatencySandbox) {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  config.loadFromFile(sandbox.cluster.kubeconfigPath);
  config.setCurrentContext('admin');
  return config;
}

/** Resolves with the instant every managed route of every VirtualService shows canary `weight`. */
async function allAt(http: KubeHttp, rollout: Rollout, weight: number): Promise<number> {
  const at = (vs: VirtualService) => {
    const ref = rollout.canary.virtualServices.find((r) => r.name === vs.metadata.name);
    const read = ref && readWeights(rollout, ref, vs);
    return Boolean(read?.ok && read.value.every((route) => route.canary === weight));
  };
  const instants = await Promise.all(
    rollout.canary.virtualServices.map(async (ref) => {
      const path = resourcePath(VIRTUAL_SERVICES, ref.namespace, ref.name);
      const current = (await http.send<VirtualService>('GET', path)).body;
      if (at(current)) return performance.timeOrigin + performance.now();
      const watched = await watchUntil<VirtualService>(
        http,
        {
          collection: resourcePath(VIRTUAL_SERVICES, ref.namespace),
          name: ref.name,
          resourceVersion: (current.metadata as { resourceVersion?: string }).resourceVersion,
          timeoutSeconds: 120,
        },
        at,
      );
      if (watched.outcome !== 'matched')
        throw new Error(`${ref.name} never reached ${weight}: ${watched.outcome}`);
      return performance.timeOrigin + performance.now();
    }),
  );
  return Math.max(...instants);
}

const now = () => performance.timeOrigin + performance.now();

/** One run of the guide's scenario; each latency from the acknowledgement of what started it. */
async function scenario(sandbox: LatencySandbox, run: number) {
  const namespace = `latency-${run}-${Date.now().toString(36)}`;
  const config = await adminConfig(sandbox);
  const adminHttp = new KubeHttp(config);
  await applyObjects(config, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
  await applyObjects(config, runnerRbac({ name: 'default', namespaces: [namespace] }));
  const manifests = readManifests(join(REPO_ROOT, 'examples/istio-demo'));
  await applyObjects(
    config,
    manifests
      .filter((o) => o.kind !== 'Rollout')
      .map((o) => ({ ...o, metadata: { ...o.metadata, namespace } })),
  );
  const doc = structuredClone(manifests.find((o) => o.kind === 'Rollout')) as any;
  doc.metadata = { name: 'rollouts-demo', namespace };
  doc.spec.strategy.canary.steps = [
    { setWeight: 5 },
    { pause: {} },
    { setWeight: 50 },
    { pause: { duration: '2s' } },
  ];
  const parsed = parseRollout(doc);
  if (!parsed.ok) throw new Error(parsed.error.join('; '));
  const rollout = parsed.value;
  const key = keyOf(rollout);
  const client = dynamo(sandbox.dynamoEndpoint);
  const table = `latency-${run}`;
  await client.send(new CreateTableCommand(createTableInput(table)));
  // The store as local mode has it (lib/local/mode.ts).
  const store = new RolloutStore(localDocuments(sandbox.dynamoEndpoint), table);
  const completed: number[] = [];
  const loop = startRunnerLoop(
    store,
    new ClusterConnections([
      {
        name: 'default',
        namespaces: [namespace],
        kubeconfig: { path: sandbox.proxiedKubeconfig, context: 'runner' },
      },
    ]),
    (event: PublishedEvent) => event.event.type === 'Rollout Completed' && completed.push(now()),
  );
  try {
    await store.apply(rollout, Date.now());
    await loop.nudge(key);
    await sleep(500);
    sandbox.proxy.reset();

    // As `rollouts set image` acknowledges: queued, runner nudged.
    await store.enqueueCommand(key, { kind: 'setImage', image: YELLOW }, 'bench', Date.now());
    const imageAcknowledged = now();
    void loop.nudge(key);
    const at5 = await allAt(adminHttp, rollout, 5);
    for (;;) {
      const stored = await store.get(key);
      if (stored?.status.phase === 'Paused' && stored.status.weight === 5) break;
      await sleep(20);
    }

    await store.enqueueCommand(key, { kind: 'promote' }, 'bench', Date.now());
    const promoteAcknowledged = now();
    void loop.nudge(key);
    const at50 = await allAt(adminHttp, rollout, 50);

    let pauseEnds = NaN;
    for (;;) {
      const stored = await store.get(key);
      if (stored?.status.pauseUntil) {
        pauseEnds = Date.parse(stored.status.pauseUntil);
        break;
      }
      await sleep(20);
    }
    while (completed.length === 0) await sleep(20);
    await loop.settled();
    return {
      imageToWeight5Ms: at5 - imageAcknowledged,
      promoteToWeight50Ms: at50 - promoteAcknowledged,
      pauseEndToDoneMs: (completed[0] as number) - pauseEnds,
      kubernetesRequests: sandbox.proxy.requests.length,
      watches: sandbox.proxy.requests.filter((r) => r.path.includes('watch=1')).length,
    };
  } finally {
    await loop.stop();
  }
}

/** Wall time of CLI commands, spawned as a user runs them, against a store and a runner's nudge endpoint. */
async function cliStart(sandbox: LatencySandbox, repeats: number) {
  spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bin/build.ts')], { stdio: 'ignore' });
  const client = dynamo(sandbox.dynamoEndpoint);
  await client.send(new CreateTableCommand(createTableInput('latency-cli')));
  const store = new RolloutStore(sdkDocuments(client), 'latency-cli');
  const doc = structuredClone(
    readManifests(join(REPO_ROOT, 'examples/istio-demo'), 'rollout.yaml')[0],
  ) as any;
  const parsed = parseRollout(doc);
  if (!parsed.ok) throw new Error(parsed.error.join('; '));
  await store.apply(parsed.value, Date.now());
  const nudges = await serveNudges(0, () => undefined);
  const cwd = mkdtempSync(join(tmpdir(), 'latency-cli-'));
  mkdirSync(join(cwd, '.rollouts'));
  writeFileSync(
    join(cwd, '.rollouts/dev.json'),
    JSON.stringify({
      dynamodbEndpoint: sandbox.dynamoEndpoint,
      tableName: 'latency-cli',
      webhookUrl: 'http://127.0.0.1:9/',
      runnerUrl: `http://127.0.0.1:${(nudges.address() as AddressInfo).port}`,
      kubeconfig: sandbox.cluster.kubeconfigPath,
      clusters: [
        {
          name: 'default',
          namespaces: ['default'],
          kubeconfig: { path: sandbox.cluster.kubeconfigPath, context: 'runner' },
        },
      ],
      pid: process.pid,
    }),
  );
  const time = (args: string[]) => {
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const started = performance.now();
      const result = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/rollouts.js'), ...args], {
        cwd,
        encoding: 'utf8',
      });
      times.push(performance.now() - started);
      if (result.status !== 0 && args[0] !== 'promote')
        throw new Error(`rollouts ${args.join(' ')}: ${result.stderr}`);
    }
    return median(times);
  };
  const results = {
    helpMs: time(['help']),
    listMs: time(['list']),
    // Refused by the status check (Healthy): a store read and the answer, as `promote` does.
    promoteMs: time(['promote', 'rollouts-demo']),
    getMs: time(['get', 'rollouts-demo']),
  };
  await new Promise<void>((resolve) => nudges.close(() => resolve()));
  return results;
}

/** DynamoDB requests and CPU of an idle local runner, in a process of its own (bench/idle-runner.ts). */
async function idle(sandbox: LatencySandbox, seconds: number) {
  const client = dynamo(sandbox.dynamoEndpoint);
  await client.send(new CreateTableCommand(createTableInput('latency-idle')));
  const input = JSON.stringify({
    endpoint: sandbox.dynamoEndpoint,
    table: 'latency-idle',
    kubeconfig: sandbox.proxiedKubeconfig,
    seconds,
  });
  // Not spawnSync: this process serves the proxy the runner's kubeconfig points at.
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bench/idle-runner.ts'), input], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += String(chunk)));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`bench/idle-runner.ts exited ${code}`);
  const measured = JSON.parse(output) as { dynamoRequests: number; cpuSeconds: number };
  const perMinute = 60 / seconds;
  return {
    seconds,
    dynamoRequestsPerMinute: measured.dynamoRequests * perMinute,
    cpuSecondsPerMinute: measured.cpuSeconds * perMinute,
  };
}

export async function latency(sandbox: LatencySandbox, smoke: boolean) {
  const runs = smoke ? 1 : 3;
  const scenarios: Awaited<ReturnType<typeof scenario>>[] = [];
  for (let run = 0; run < runs; run++) {
    log(`the guide's scenario, run ${run + 1} of ${runs}`);
    scenarios.push(await scenario(sandbox, run));
  }
  log('CLI commands');
  const cli = await cliStart(sandbox, smoke ? 3 : 10);
  log('an idle local runner');
  const idleLoop = await idle(sandbox, smoke ? 5 : 60);
  const pick = (field: keyof (typeof scenarios)[number]) => median(scenarios.map((s) => s[field]));
  return {
    runs,
    imageToWeight5Ms: pick('imageToWeight5Ms'),
    promoteToWeight50Ms: pick('promoteToWeight50Ms'),
    pauseEndToDoneMs: pick('pauseEndToDoneMs'),
    kubernetesRequestsPerScenario: pick('kubernetesRequests'),
    watchesPerScenario: pick('watches'),
    scenarios,
    cli,
    idle: idleLoop,
    targets: {
      imageToWeight5Ms: 'at most 269 (Argo Rollouts)',
      promoteToWeight50Ms: 'at most 137',
      pauseEndToDoneMs: 'at most 306 (2x Argo)',
      cli: 'a command under 300 ms',
      kubernetesRequestsPerScenario: 'at most 39',
      idle: 'at most 0.21 CPU s per minute, no DynamoDB request',
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const smoke = process.argv.includes('--smoke');
  mkdirSync(join(REPO_ROOT, '.tmp'), { recursive: true });
  const cluster = await startTestCluster({ logFile: join(REPO_ROOT, '.tmp/latency-cluster.log') });
  const stops: (() => Promise<void>)[] = [() => cluster.stop()];
  try {
    const dynamoLocal = await startDynamoDbLocal({ logFile: join(REPO_ROOT, '.tmp/latency-dynamodb.log') });
    stops.push(() => dynamoLocal.stop());
    const proxy = await new KubeProxy(cluster.server, cluster.servingCert, cluster.caData).start();
    stops.push(() => proxy.stop());
    const result = await latency(
      {
        cluster,
        proxy,
        proxiedKubeconfig: proxy.kubeconfigThrough(
          cluster.kubeconfigPath,
          join(REPO_ROOT, '.tmp/latency-kubeconfig'),
        ),
        dynamoEndpoint: dynamoLocal.endpoint,
      },
      smoke,
    );
    const path = join(REPO_ROOT, smoke ? '.tmp/bench-latency-smoke.json' : 'bench/results.json');
    let existing: Record<string, unknown> = {};
    try {
      existing = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      // First run: a file of its own.
    }
    // Run alone, the figures carry their own date and load; the rest of the file keeps its run's.
    const merged = {
      ...existing,
      latency: { ...result, date: new Date().toISOString(), loadAverage: loadavg() },
    };
    writeFileSync(path, `${JSON.stringify(merged, null, 2)}\n`);
    console.log(`written to ${path} (key latency)`);
    if (!smoke) {
      console.log(renderLatency(merged as unknown as BenchResults));
      console.log((await updateReadme()) ? 'README.md regenerated' : 'README.md unchanged');
    }
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}
