/**
 * `npm run bench`: what the issues promise, measured. Prints a table and writes bench/results.json
 * (`--smoke`: small sizes, for CI, written to .tmp/bench-smoke.json).
 */
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  type DynamoDBClient,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { spawnSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bundleFunction } from '../infra/bundle.js';
import { applyObjects } from '../lib/adapters/kube/apply.js';
import { ClusterConnections } from '../lib/adapters/kube/clusters.js';
import { runnerRbac } from '../lib/core/model/runner-access.js';
import { KubeHttp } from '../lib/adapters/kube/http.js';
import { VirtualServiceClient } from '../lib/adapters/kube/virtualservices.js';
import { startDynamoDbLocal } from '../lib/local/dynamodb-local.js';
import { serveFunctionUrl, type FunctionUrlHandler } from '../lib/local/function-url.js';
import { startRunnerLoop } from '../lib/local/mode.js';
import { readManifests, REPO_ROOT, startTestCluster, type TestCluster } from '../lib/local/testcluster.js';
import { MemoryPublisher, type PublishedEvent } from '../lib/adapters/aws/events.js';
import { MemorySecrets } from '../lib/adapters/memory/analysis.js';
import { createProviders } from '../lib/adapters/metrics/registry.js';
import { runPass } from '../lib/app/runner/pass.js';
import { setCanaryWeight } from '../lib/app/runner/traffic.js';
import type { RunnerDeps } from '../lib/app/runner/process-rollout.js';
import { parseRollout, type Rollout } from '../lib/core/model/rollout.js';
import { localDynamoDbClient } from '../lib/adapters/dynamodb/client.js';
import { keyOf, RolloutStore } from '../lib/adapters/dynamodb/repository.js';
import { createTableInput, DUE_SHARD, rolloutPartition, SORT_KEYS } from '../lib/adapters/dynamodb/table.js';
import { signGeneric } from '../lib/core/triggers/signatures.js';
import { createWebhookHandler } from '../lib/app/triggers/webhook-handler.js';
import { KubeProxy } from '../test/support/kube-proxy.js';
import { latency, latencyRows } from './latency.js';

const smoke = process.argv.includes('--smoke');
const REPEATS = smoke ? 3 : 5;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? (sorted[Math.floor((sorted.length - 1) / 2)] as number) : NaN;
};
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
};
const log = (message: string) => process.stderr.write(`… ${message}\n`);

interface Sandbox {
  cluster: TestCluster;
  proxy: KubeProxy;
  proxiedKubeconfig: string;
  dynamoEndpoint: string;
}

function dynamo(
  endpoint: string,
  counters?: { requests: number; read: number; write: number },
): DynamoDBClient {
  const client = localDynamoDbClient(endpoint);
  if (counters) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        counters.requests++;
        const reading = /^(GetItem|Query|Scan|BatchGetItem|TransactGetItems)/.test(context.commandName ?? '');
        (args.input as Record<string, unknown>).ReturnConsumedCapacity = 'TOTAL';
        const result = await next(args);
        const output = result.output as { ConsumedCapacity?: unknown };
        const consumed = [output.ConsumedCapacity].flat().filter(Boolean) as {
          ReadCapacityUnits?: number;
          WriteCapacityUnits?: number;
          CapacityUnits?: number;
        }[];
        // DynamoDB Local reports only the total; the operation says whether it was read or written.
        for (const c of consumed) {
          const units = c.CapacityUnits ?? 0;
          if (reading) counters.read += units;
          else counters.write += units;
        }
        return result;
      },
      { step: 'initialize', name: 'countRequests' },
    );
  }
  return client;
}

function demoRollout(namespace: string, name: string, steps?: unknown[]): Rollout {
  const doc = structuredClone(
    readManifests(join(REPO_ROOT, 'examples/istio-demo'), 'rollout.yaml')[0],
  ) as any;
  doc.metadata = { name, namespace };
  if (steps) doc.spec.strategy.canary.steps = steps;
  const parsed = parseRollout(doc);
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.value;
}

/** The namespaces the benchmarks' cluster registry serves; each gets the generated runner RBAC. */
const BENCH_NAMESPACES = ['bench-fleet', 'bench-kube', 'bench-timing'];

async function demoNamespace(sandbox: Sandbox, namespace: string) {
  const admin = sandbox.cluster.admin();
  await applyObjects(admin, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
  await applyObjects(admin, runnerRbac({ name: 'default', namespaces: [namespace] }));
  await applyObjects(
    admin,
    readManifests(join(REPO_ROOT, 'examples/istio-demo'))
      .filter((o) => o.kind !== 'Rollout')
      .map((o) => ({ ...o, metadata: { ...o.metadata, namespace } })),
  );
}

/** 1. Runner pass cost against fleet size: only what is due is read. */
async function fleet(sandbox: Sandbox) {
  const sizes = smoke ? [100, 1000] : [100, 1000, 10_000];
  const due = 10;
  await demoNamespace(sandbox, 'bench-fleet');
  const results = [];
  for (const size of sizes) {
    log(`fleet: ${size} Rollouts, ${due} due`);
    const tableName = `fleet-${size}`;
    const setup = dynamo(sandbox.dynamoEndpoint);
    await setup.send(new CreateTableCommand(createTableInput(tableName)));
    const keys: string[] = [];
    for (let start = 0; start < size; start += 25) {
      const items = Array.from({ length: Math.min(25, size - start) }, (_, offset) => {
        const name = `app-${start + offset}`;
        const rollout = demoRollout('bench-fleet', name);
        const pk = rolloutPartition('default', 'bench-fleet', name);
        if (start + offset < due) keys.push(pk);
        return {
          PutRequest: {
            Item: marshall(
              {
                pk,
                sk: SORT_KEYS.state,
                cluster: 'default',
                namespace: 'bench-fleet',
                name,
                rollout,
                status: { phase: 'Healthy', revision: 1, stepIndex: 0, weight: 0 },
                version: 1,
                commandSeq: 0,
                updatedAt: new Date().toISOString(),
              },
              { removeUndefinedValues: true },
            ),
          },
        };
      });
      await setup.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: items } }));
    }
    const counters = { requests: 0, read: 0, write: 0 };
    const store = new RolloutStore(dynamo(sandbox.dynamoEndpoint, counters), tableName);
    const deps: RunnerDeps = {
      store,
      clusters: new ClusterConnections([
        {
          name: 'default',
          namespaces: BENCH_NAMESPACES,
          kubeconfig: { path: sandbox.cluster.kubeconfigPath, context: 'runner' },
        },
      ]),
      events: new MemoryPublisher(),
      wakeups: { schedule: async () => undefined },
      metrics: createProviders(),
      secrets: new MemorySecrets(),
      owner: 'bench',
      clock: Date.now,
    };
    const passes = [];
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      for (const pk of keys) {
        await setup.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: marshall({ pk, sk: SORT_KEYS.state }),
            UpdateExpression: 'SET dueShard = :d, dueAt = :t',
            ExpressionAttributeValues: marshall({ ':d': DUE_SHARD, ':t': 0 }),
          }),
        );
      }
      Object.assign(counters, { requests: 0, read: 0, write: 0 });
      const started = performance.now();
      const report = await runPass(deps);
      const wallMs = performance.now() - started;
      if (report.due !== due) throw new Error(`expected ${due} due Rollouts, the pass found ${report.due}`);
      passes.push({ ...counters, wallMs });
    }
    results.push({
      size,
      due,
      requests: median(passes.map((p) => p.requests)),
      readUnits: median(passes.map((p) => p.read)),
      writeUnits: median(passes.map((p) => p.write)),
      wallMs: median(passes.map((p) => p.wallMs)),
    });
  }
  const first = results[0]!;
  const last = results.at(-1)!;
  return {
    results,
    costRatio: {
      requests: last.requests / first.requests,
      readUnits: last.readUnits / first.readUnits,
      wallMs: last.wallMs / first.wallMs,
    },
    target: 'largest pass costs at most 1.5x the 100 pass',
  };
}

/** 2. Kubernetes requests per weight change, per VirtualService, counted at a proxy. */
async function kubeRequests(sandbox: Sandbox) {
  log('kubernetes requests per weight change');
  await demoNamespace(sandbox, 'bench-kube');
  const rollout = demoRollout('bench-kube', 'rollouts-demo');
  const client = new VirtualServiceClient(new KubeHttp(loadContext(sandbox.proxiedKubeconfig, 'runner')));
  const measure = async (weight: number) => {
    sandbox.proxy.reset();
    await setCanaryWeight(client, rollout, weight, new Map());
    const perVs = rollout.canary.virtualServices.length;
    return {
      get: sandbox.proxy.count('GET', '/virtualservices/') / perVs,
      patch: sandbox.proxy.count('PATCH', '/virtualservices/') / perVs,
    };
  };
  const change = await measure(30);
  const unchanged = await measure(30);
  return { change, unchanged, target: '1 GET + 1 PATCH per change, 0 PATCH when nothing changes' };
}

function loadContext(path: string, context: string) {
  // KubeHttp takes a client-node KubeConfig for kubeconfig files.
  const { KubeConfig } = requireClientNode();
  const config = new KubeConfig();
  config.loadFromFile(path);
  config.setCurrentContext(context);
  return config;
}
let clientNode: typeof import('@kubernetes/client-node') | undefined;
function requireClientNode() {
  if (!clientNode) throw new Error('client-node not loaded');
  return clientNode;
}

/** 3. Step timing in local mode: how late a weight lands after its pause ends. */
async function stepTiming(sandbox: Sandbox) {
  const pauses = smoke ? 5 : 50;
  log(`step timing: ${pauses} pauses of 1 to 3 s in local mode`);
  await demoNamespace(sandbox, 'bench-timing');
  const durations = Array.from({ length: pauses }, (_, i) => 1 + ((i * 7) % 3));
  const steps = durations.flatMap((seconds, i) => [{ setWeight: i + 1 }, { pause: { duration: seconds } }]);
  const rollout = demoRollout('bench-timing', 'rollouts-demo', steps);
  const client = dynamo(sandbox.dynamoEndpoint);
  await client.send(new CreateTableCommand(createTableInput('timing')));
  const store = new RolloutStore(client, 'timing');
  await store.apply(rollout, Date.now());
  const paused: PublishedEvent[] = [];
  const clusters = new ClusterConnections([
    {
      name: 'default',
      namespaces: BENCH_NAMESPACES,
      kubeconfig: { path: sandbox.proxiedKubeconfig, context: 'runner' },
    },
  ]);
  sandbox.proxy.reset();
  const loop = startRunnerLoop(
    store,
    clusters,
    (event) => event.event.type === 'Rollout Paused' && paused.push(event),
  );
  await store.enqueueCommand(
    keyOf(rollout),
    { kind: 'setImage', image: 'argoproj/rollouts-demo:yellow' },
    'bench',
    Date.now(),
  );
  void loop.nudge(keyOf(rollout));
  const deadline = Date.now() + (durations.reduce((a, b) => a + b, 0) + 60) * 1000;
  const done = async () => {
    const status = (await store.get(keyOf(rollout)))?.status;
    return status?.phase === 'Healthy' && status.revision === 2;
  };
  while (Date.now() < deadline && !(await done())) await sleep(200);
  await loop.stop();
  const patches = sandbox.proxy.requests.filter(
    (r) => r.method === 'PATCH' && r.path.includes('/virtualservices/rollouts-demo-vsvc1'),
  );
  const lateness = paused.map((event) => {
    const due =
      Date.parse(event.at) + (durations[((event.event.stepIndex as number) - 1) / 2] as number) * 1000;
    const landed = patches.find((p) => p.at >= due);
    return landed ? landed.at - due : NaN;
  });
  const measured = lateness.filter((value) => Number.isFinite(value));
  log(`step timing: ${paused.length} pauses seen, ${patches.length} weight patches`);
  return {
    pauses,
    measured: measured.length,
    p50Ms: percentile(measured, 50),
    p99Ms: percentile(measured, 99),
    maxMs: Math.max(...measured),
    target: 'p99 under 250 ms',
  };
}

/** 4. Cold start: bundle size and import time of each function. */
async function coldStart() {
  log('cold start: bundling and importing each function');
  const results = [];
  for (const name of ['step-runner', 'registry-webhook', 'ecr-push']) {
    const outdir = join(REPO_ROOT, '.tmp/bench-bundles', name);
    const { file, bytes } = await bundleFunction(join(REPO_ROOT, 'functions', `${name}.ts`), outdir);
    const times = [];
    for (let i = 0; i < 10; i++) {
      const run = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const t = performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now() - t);`,
        ],
        { encoding: 'utf8', env: { ...process.env, AWS_REGION: 'us-east-1' } },
      );
      times.push(Number(run.stdout.trim()));
    }
    results.push({ name, bytes, importMsMedian: median(times) });
  }
  return {
    results,
    targets: { 'step-runner': 'under 1.5 MB and 300 ms', 'registry-webhook': 'under 700 KB' },
  };
}

/** 5. Webhook throughput through the local server, signatures checked, from a second process. */
async function webhookThroughput(sandbox: Sandbox) {
  log('webhook throughput with signature checks');
  const client = dynamo(sandbox.dynamoEndpoint);
  await client.send(new CreateTableCommand(createTableInput('webhook')));
  const secret = 'bench-secret';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const handler = createWebhookHandler({
    store: new RolloutStore(client, 'webhook'),
    secrets: async () => ({ generic: secret }),
    bindings: { harborHosts: [] },
    clock: Date.now,
  });
  const server = await serveFunctionUrl(handler as FunctionUrlHandler, 0, {
    awsRequestId: 'bench',
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const body = JSON.stringify({ image: 'ghcr.io/acme/nothing:v1' });
  const signed = JSON.stringify(signGeneric(secret, Buffer.from(body), Date.now() / 1000));
  const seconds = smoke ? 2 : 10;
  const script = `
    import autocannon from 'autocannon';
    const result = await autocannon({ url: 'http://127.0.0.1:${port}/generic', method: 'POST', body: ${JSON.stringify(body)}, headers: { 'content-type': 'application/json', ...${signed} }, connections: 10, duration: ${seconds}, amount: ${smoke ? 2000 : 50000} });
    console.log(JSON.stringify({ requestsPerSecond: result.requests.average, p99Ms: result.latency.p99, non2xx: result.non2xx, errors: result.errors, total: result.requests.total }));`;
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`autocannon exited ${code}`))));
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return {
    ...JSON.parse(output.trim().split('\n').at(-1) as string),
    seconds,
    connections: 10,
    request: 'signed generic push matching no Rollout (202)',
  };
}

async function main() {
  clientNode = await import('@kubernetes/client-node');
  const started = Date.now();
  log('starting the test control plane and DynamoDB Local');
  const cluster = await startTestCluster({ logFile: join(REPO_ROOT, '.tmp/bench-cluster.log') });
  const dynamoLocal = await startDynamoDbLocal({ logFile: join(REPO_ROOT, '.tmp/bench-dynamodb.log') });
  const proxy = await new KubeProxy(cluster.server, cluster.servingCert, cluster.caData).start();
  mkdirSync(join(REPO_ROOT, '.tmp'), { recursive: true });
  const sandbox: Sandbox = {
    cluster,
    proxy,
    proxiedKubeconfig: proxy.kubeconfigThrough(
      cluster.kubeconfigPath,
      join(REPO_ROOT, '.tmp/bench-kubeconfig'),
    ),
    dynamoEndpoint: dynamoLocal.endpoint,
  };
  try {
    const results = {
      date: new Date().toISOString(),
      smoke,
      machine: { cores: cpus().length, node: process.version },
      fleet: await fleet(sandbox),
      kubernetesRequests: await kubeRequests(sandbox),
      stepTiming: await stepTiming(sandbox),
      coldStart: await coldStart(),
      webhook: await webhookThroughput(sandbox),
      latency: await latency(sandbox, smoke),
      seconds: Math.round((Date.now() - started) / 1000),
    };
    const path = join(REPO_ROOT, smoke ? '.tmp/bench-smoke.json' : 'bench/results.json');
    writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
    printTable(results);
    console.log(`\nwritten to ${path}`);
  } finally {
    await proxy.stop();
    await dynamoLocal.stop();
    await cluster.stop();
  }
}

function printTable(r: any) {
  const rows: [string, string, string][] = [];
  for (const f of r.fleet.results)
    rows.push([
      `runner pass, ${f.size} registered / ${f.due} due`,
      `${f.requests} requests, ${f.readUnits.toFixed(1)} RCU, ${f.writeUnits.toFixed(1)} WCU, ${f.wallMs.toFixed(0)} ms`,
      '',
    ]);
  rows.push([
    '  cost ratio largest/100',
    `requests ${r.fleet.costRatio.requests.toFixed(2)}x, RCU ${r.fleet.costRatio.readUnits.toFixed(2)}x, wall ${r.fleet.costRatio.wallMs.toFixed(2)}x`,
    r.fleet.costRatio.requests <= 1.5 && r.fleet.costRatio.readUnits <= 1.5 ? 'meets ≤1.5x' : 'MISSES ≤1.5x',
  ]);
  const k = r.kubernetesRequests;
  rows.push([
    'k8s requests per VS, weight change',
    `${k.change.get} GET + ${k.change.patch} PATCH`,
    k.change.get === 1 && k.change.patch === 1 ? 'meets 1+1' : 'MISSES',
  ]);
  rows.push([
    'k8s requests per VS, no change',
    `${k.unchanged.get} GET + ${k.unchanged.patch} PATCH`,
    k.unchanged.patch === 0 ? 'meets 0 PATCH' : 'MISSES',
  ]);
  const t = r.stepTiming;
  rows.push([
    `step lateness, ${t.measured}/${t.pauses} pauses`,
    `p50 ${t.p50Ms} ms, p99 ${t.p99Ms} ms, max ${t.maxMs} ms`,
    t.p99Ms < 250 ? 'meets p99 < 250 ms' : 'MISSES',
  ]);
  for (const c of r.coldStart.results) {
    const limit =
      c.name === 'step-runner'
        ? c.bytes < 1.5 * 1024 * 1024 && c.importMsMedian < 300
        : c.name === 'registry-webhook'
          ? c.bytes < 700 * 1024
          : true;
    rows.push([
      `cold start ${c.name}`,
      `${(c.bytes / 1024).toFixed(0)} KB, import ${c.importMsMedian.toFixed(0)} ms (median of 10)`,
      limit ? 'meets' : 'MISSES',
    ]);
  }
  const w = r.webhook;
  rows.push([
    'webhook throughput',
    `${w.requestsPerSecond.toFixed(0)} req/s, p99 ${w.p99Ms} ms, ${w.total} requests, ${w.non2xx} non-2xx`,
    '',
  ]);
  rows.push(...latencyRows(r.latency));
  const widths = [0, 1].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  console.log(
    rows.map((row) => `${row[0].padEnd(widths[0]!)}  ${row[1].padEnd(widths[1]!)}  ${row[2]}`).join('\n'),
  );
}

await main();
