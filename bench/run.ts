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
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
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
import { renderBenchmarks, renderLatency, updateReadme, type BenchResults, type PassCost } from './readme.js';
import { signGeneric } from '../lib/core/triggers/signatures.js';
import { createWebhookHandler } from '../lib/app/triggers/webhook-handler.js';
import { KubeProxy } from '../lib/local/kube-proxy.js';
import { startAwsStub } from '../lib/local/aws-stub.js';
import { fleetObjects, fleetRolloutDocument } from '../lib/local/fleet.js';
import { functionUrlEvent, scheduledEvent } from '../lib/local/lambda-events.js';
import { latency } from './latency.js';
import { analysisBench } from './analysis.js';
import { sdkDocuments } from '../lib/adapters/dynamodb/sdk-documents.js';

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
  if (!parsed.ok) throw new Error(parsed.error.join('; '));
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

/** `GET VirtualService`, `PATCH Deployment`, …: what one proxied request was. */
function requestKind(method: string, path: string): string {
  const kind = /\/(virtualservices|deployments)\//.exec(path)?.[1];
  return `${method} ${kind === 'virtualservices' ? 'VirtualService' : kind === 'deployments' ? 'Deployment' : 'other'}`;
}

function medianCost(passes: PassCost[]): PassCost {
  const kinds = [...new Set(passes.flatMap((p) => Object.keys(p.kubernetes.byKind)))].sort();
  return {
    dynamodbRequests: median(passes.map((p) => p.dynamodbRequests)),
    readUnits: median(passes.map((p) => p.readUnits)),
    writeUnits: median(passes.map((p) => p.writeUnits)),
    wallMs: median(passes.map((p) => p.wallMs)),
    kubernetes: {
      total: median(passes.map((p) => p.kubernetes.total)),
      byKind: Object.fromEntries(
        kinds.map((k) => [k, median(passes.map((p) => p.kubernetes.byKind[k] ?? 0))]),
      ),
    },
  };
}

/** 10%, 20%, … with a one-second pause after each: a measured pass ends a pause and takes the next setWeight. */
const STEPPING_STEPS = Array.from({ length: 9 }, (_, i) => [
  { setWeight: (i + 1) * 10 },
  { pause: { duration: 1 } },
]).flat();

/**
 * 1. Runner pass cost against fleet size, for 10 due Rollouts in two situations: idle (Healthy,
 * nothing to do: what the one-minute schedule mostly finds) and stepping (each takes a real step:
 * VirtualService weights patched, status saved). Only what is due is read, so the fleet's size
 * should not show.
 */
async function fleet(sandbox: Sandbox) {
  const sizes = smoke ? [100, 1000] : [100, 1000, 10_000];
  const due = 10;
  await demoNamespace(sandbox, 'bench-fleet');
  const stepping = Array.from({ length: due }, (_, i) => `step-${i}`);
  await applyObjects(
    sandbox.cluster.admin(),
    stepping.flatMap((name) => fleetObjects('bench-fleet', name)),
  );
  const results: {
    size: number;
    due: number;
    idle: PassCost;
    stepping: PassCost & { stepsPerPass: number };
  }[] = [];
  for (const size of sizes) {
    log(`fleet: ${size} Rollouts, ${due} due`);
    const tableName = `fleet-${size}`;
    const setup = dynamo(sandbox.dynamoEndpoint);
    await setup.send(new CreateTableCommand(createTableInput(tableName)));
    const idleKeys: string[] = [];
    for (let start = 0; start < size - due; start += 25) {
      const items = Array.from({ length: Math.min(25, size - due - start) }, (_, offset) => {
        const name = `app-${start + offset}`;
        const rollout = demoRollout('bench-fleet', name);
        const pk = rolloutPartition('default', 'bench-fleet', name);
        if (start + offset < due) idleKeys.push(pk);
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
    const store = new RolloutStore(sdkDocuments(dynamo(sandbox.dynamoEndpoint, counters)), tableName);
    const observer = new RolloutStore(sdkDocuments(setup), tableName);
    const steppingRollouts = stepping.map((name) => {
      const parsed = parseRollout(fleetRolloutDocument('bench-fleet', name, STEPPING_STEPS));
      if (!parsed.ok) throw new Error(parsed.error.join('; '));
      return parsed.value;
    });
    const deps: RunnerDeps = {
      store,
      clusters: new ClusterConnections([
        {
          name: 'default',
          namespaces: BENCH_NAMESPACES,
          kubeconfig: { path: sandbox.proxiedKubeconfig, context: 'runner' },
        },
      ]),
      events: new MemoryPublisher(),
      wakeups: { schedule: async () => undefined },
      metrics: createProviders(),
      secrets: new MemorySecrets(),
      owner: 'bench',
      clock: Date.now,
    };
    const makeDue = async (pks: string[]) => {
      for (const pk of pks)
        await setup.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: marshall({ pk, sk: SORT_KEYS.state }),
            UpdateExpression: 'SET dueShard = :d, dueAt = :t',
            ExpressionAttributeValues: marshall({ ':d': DUE_SHARD, ':t': 0 }),
          }),
        );
    };
    const measure = async (): Promise<PassCost & { due: number }> => {
      Object.assign(counters, { requests: 0, read: 0, write: 0 });
      sandbox.proxy.reset();
      const started = performance.now();
      const report = await runPass(deps);
      const wallMs = performance.now() - started;
      const byKind: Record<string, number> = {};
      for (const r of sandbox.proxy.requests)
        byKind[requestKind(r.method, r.path)] = (byKind[requestKind(r.method, r.path)] ?? 0) + 1;
      return {
        due: report.due,
        dynamodbRequests: counters.requests,
        readUnits: counters.read,
        writeUnits: counters.write,
        wallMs,
        kubernetes: { total: sandbox.proxy.requests.length, byKind },
      };
    };
    // Idle first, before the stepping Rollouts are registered: only the 10 Healthy ones are due.
    const idle = [];
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      await makeDue(idleKeys);
      const cost = await measure();
      if (cost.due !== due) throw new Error(`expected ${due} due Rollouts, the idle pass found ${cost.due}`);
      idle.push(cost);
    }
    for (const rollout of steppingRollouts) {
      await observer.apply(rollout, Date.now());
      await observer.enqueueCommand(
        keyOf(rollout),
        { kind: 'setImage', image: `app:v${size}` },
        'bench',
        Date.now(),
      );
    }
    const steppingKeys = steppingRollouts.map((r) => rolloutPartition('default', 'bench-fleet', r.name));
    const weights = async () =>
      Promise.all(steppingRollouts.map(async (r) => (await observer.get(keyOf(r)))?.status.weight ?? -1));

    const statuses = async () =>
      Promise.all(steppingRollouts.map(async (r) => (await observer.get(keyOf(r)))?.status));
    /** Unmeasured passes until every stepping canary sits in its timed pause. */
    const settle = async () => {
      for (let i = 0; i < 400 && (await statuses()).some((s) => s?.phase !== 'Paused'); i++) {
        await runPass(deps, { only: steppingRollouts.map(keyOf) });
        await sleep(100);
      }
      const phases = (await statuses()).map((s) => `${s?.phase} ${s?.weight}`);
      if (phases.some((p) => !p.startsWith('Paused')))
        throw new Error(`stepping canaries did not pause: ${phases}`);
    };
    // Stepping: start the canaries (not measured), then measure passes in which each of the 10
    // finds its pause over and moves on to the next setWeight.
    const steps = [];
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      await settle();
      await sleep(1100);
      const before = await weights();
      await makeDue(steppingKeys);
      const cost = await measure();
      const after = await weights();
      const moved = after.filter((w, i) => w > (before[i] as number)).length;
      if (cost.due !== due || moved !== due)
        throw new Error(`stepping pass: ${cost.due} due, ${moved} stepped (weights ${before} -> ${after})`);
      steps.push(cost);
    }
    results.push({
      size,
      due,
      idle: medianCost(idle),
      stepping: { ...medianCost(steps), stepsPerPass: due },
    });
  }
  const first = results[0]!;
  const last = results.at(-1)!;
  const ratio = (pick: (r: (typeof results)[number]) => PassCost) => ({
    dynamodbRequests: pick(last).dynamodbRequests / pick(first).dynamodbRequests,
    readUnits: pick(last).readUnits / pick(first).readUnits,
    wallMs: pick(last).wallMs / pick(first).wallMs,
  });
  return {
    results,
    costRatio: { idle: ratio((r) => r.idle), stepping: ratio((r) => r.stepping) },
    target: 'largest pass costs at most 1.5x the 100 pass (DynamoDB requests and read units)',
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
  const store = new RolloutStore(sdkDocuments(client), 'timing');
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

/**
 * 4. Cold start of each bundle as CDK deploys it (infra/bundle.ts), in a fresh `node` per sample
 * (infra/invoke-bundle.ts): the import (Lambda's init phase) and the first invocation, which
 * builds the clients and opens the first connections, measured apart.
 */
/** A child process run to its end without blocking this one: exit status and stderr. */
function spawnAsync(
  file: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeout: number },
): Promise<{ status: number | null; stderr: string }> {
  return new Promise((done) => {
    execFile(file, args, { ...options, encoding: 'utf8' }, (error, _stdout, stderr) =>
      done({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr }),
    );
  });
}

async function coldStart(sandbox: Sandbox) {
  const samples = smoke ? 3 : 10;
  log(`cold start: bundling each function, then ${samples} fresh processes each`);
  const client = dynamo(sandbox.dynamoEndpoint);
  await client.send(new CreateTableCommand(createTableInput('cold')));
  const aws = await startAwsStub(JSON.stringify({ generic: 'bench-secret' }));
  const body = JSON.stringify({ image: 'ghcr.io/acme/nothing:v1' });
  const invocations: Record<string, { event: unknown; env: Record<string, string> }> = {
    'step-runner': {
      event: scheduledEvent,
      env: {
        EVENT_BUS_NAME: 'rollouts-events',
        WAKEUP_QUEUE_URL: `${aws.endpoint}/123456789012/wakeups`,
        CLUSTERS: '[]',
      },
    },
    'registry-webhook': {
      event: functionUrlEvent('POST', '/generic', body, {
        ...signGeneric('bench-secret', Buffer.from(body), Date.now() / 1000),
      }),
      env: { WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:webhooks' },
    },
    'ecr-push': {
      event: {
        version: '0',
        id: 'bench',
        'detail-type': 'ECR Image Action',
        source: 'aws.ecr',
        account: '123456789012',
        time: '2026-11-26T10:00:00Z',
        region: 'eu-west-1',
        resources: [],
        detail: { result: 'SUCCESS', 'repository-name': 'nothing', 'action-type': 'PUSH', 'image-tag': 'v1' },
      },
      env: {},
    },
  };
  const results = [];
  try {
    for (const [name, { event, env }] of Object.entries(invocations)) {
      const outdir = join(REPO_ROOT, '.tmp/bench-bundles', name);
      const { file, bytes } = await bundleFunction(join(REPO_ROOT, 'functions', `${name}.ts`), outdir);
      writeFileSync(join(outdir, 'event.json'), JSON.stringify(event));
      const runs = [];
      for (let i = 0; i < samples; i++) {
        const resultFile = join(outdir, 'result.json');
        // Asynchronous: the AWS stand-in the bundle calls lives in this process and must keep answering.
        const run = await spawnAsync(
          process.execPath,
          [join(REPO_ROOT, 'infra/invoke-bundle.ts'), file, join(outdir, 'event.json'), resultFile],
          {
            cwd: outdir,
            env: {
              PATH: process.env.PATH,
              AWS_REGION: 'us-east-1',
              AWS_ACCESS_KEY_ID: 'local',
              AWS_SECRET_ACCESS_KEY: 'local',
              AWS_LAMBDA_FUNCTION_NAME: name,
              AWS_ENDPOINT_URL_DYNAMODB: sandbox.dynamoEndpoint,
              AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.endpoint,
              AWS_ENDPOINT_URL_EVENTBRIDGE: aws.endpoint,
              TABLE_NAME: 'cold',
              POWERTOOLS_LOG_LEVEL: 'SILENT',
              POWERTOOLS_METRICS_DISABLED: 'true',
              ...env,
            },
            timeout: 120_000,
          },
        );
        if (run.status !== 0) throw new Error(`${name}: the bundle's process failed: ${run.stderr}`);
        const result = JSON.parse(readFileSync(resultFile, 'utf8'));
        if (!result.ok) throw new Error(`${name}: ${result.errorMessage}`);
        runs.push(result as { importMs: number; invokeMs: number });
      }
      results.push({
        name,
        bytes,
        samples,
        importMs: median(runs.map((r) => r.importMs)),
        firstInvocationMs: median(runs.map((r) => r.invokeMs)),
      });
    }
  } finally {
    await aws.close();
  }
  return {
    results,
    targets: { 'step-runner': 'under 1.5 MB, import under 300 ms', 'registry-webhook': 'under 700 KB' },
  };
}

/**
 * 5. Webhook throughput through the local server, signatures checked, from a second process: a
 * push that matches a Rollout (each request a new tag, so each queues a command: writes) and one
 * that matches none (reads only).
 */
async function webhookThroughput(sandbox: Sandbox) {
  const client = dynamo(sandbox.dynamoEndpoint);
  await client.send(new CreateTableCommand(createTableInput('webhook')));
  const store = new RolloutStore(sdkDocuments(client), 'webhook');
  const rollout = demoRollout('bench-webhook', 'matched');
  await store.apply({ ...rollout, trigger: { repository: 'ghcr.io/acme/matched' } } as Rollout, Date.now());
  const secret = 'bench-secret';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const handler = createWebhookHandler({
    store: new RolloutStore(sdkDocuments(client), 'webhook'),
    secrets: async () => ({ generic: secret }),
    bindings: { harborHosts: [] },
    clock: Date.now,
  });
  const server = await serveFunctionUrl(handler as FunctionUrlHandler, 0, {
    awsRequestId: 'bench',
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const seconds = smoke ? 2 : 10;
  const run = async (repository: string) => {
    log(`webhook throughput, pushes of ${repository}`);
    // `duration` alone: autocannon's `amount` would end the run early and override it.
    const script = `
      import autocannon from 'autocannon';
      import { createHmac } from 'node:crypto';
      let n = 0;
      const result = await autocannon({
        url: 'http://127.0.0.1:${port}/generic', method: 'POST', connections: 10, duration: ${seconds},
        requests: [{ setupRequest: (request) => {
          const body = JSON.stringify({ image: '${repository}:v' + (n++) });
          // signGeneric's scheme (lib/core/triggers/signatures.ts): the timestamp and the body, signed together.
          const timestamp = String(Math.floor(Date.now() / 1000));
          const signature = 'sha256=' + createHmac('sha256', '${secret}').update(timestamp + '.' + body).digest('hex');
          return { ...request, body, headers: { 'content-type': 'application/json', 'x-signature-timestamp': timestamp, 'x-signature-256': signature } };
        } }],
      });
      console.log(JSON.stringify({ requestsPerSecond: result.requests.average, p99Ms: result.latency.p99, non2xx: result.non2xx, errors: result.errors, total: result.requests.total, seconds: result.duration }));`;
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('exit', (code) =>
        code === 0 ? resolve(out) : reject(new Error(`autocannon exited ${code}`)),
      );
    });
    return { ...JSON.parse(output.trim().split('\n').at(-1) as string), connections: 10 };
  };
  try {
    const matching = await run('ghcr.io/acme/matched');
    const commands = (await store.pendingCommands(keyOf(rollout))).length;
    return {
      matching: {
        ...matching,
        request: 'signed generic push matching one Rollout: queues a setImage command (202)',
        commandsQueued: commands,
      },
      unmatched: {
        ...(await run('ghcr.io/acme/nothing')),
        request: 'signed generic push matching no Rollout (202)',
      },
    };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * `--only analysis`: runs issue 13's figures alone (DynamoDB Local and Prometheus, no cluster) and
 * replaces that key of the results file, the other figures kept as they were measured.
 */
async function onlyAnalysis() {
  const dynamoLocal = await startDynamoDbLocal({
    logFile: join(REPO_ROOT, '.tmp/bench-dynamodb.log'),
    readyTimeoutMs: 240_000,
  });
  try {
    const analysis = await analysisBench(dynamoLocal.endpoint, smoke, log);
    const path = join(REPO_ROOT, smoke ? '.tmp/bench-smoke.json' : 'bench/results.json');
    // A smoke run may have no full results beside it: then the analysis figures stand alone.
    const results = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as BenchResults) : undefined;
    writeFileSync(path, `${JSON.stringify({ ...results, analysis }, null, 2)}\n`);
    console.log(
      results?.fleet ? renderBenchmarks({ ...results, analysis }) : JSON.stringify(analysis, null, 2),
    );
    console.log(`\nanalysis written to ${path}`);
    if (!smoke) console.log((await updateReadme()) ? 'README.md regenerated' : 'README.md unchanged');
  } finally {
    await dynamoLocal.stop();
  }
}

/**
 * The latency figures on a DynamoDB Local of their own, as a user's local mode has it: the fleet and
 * webhook benchmarks leave tens of thousands of items and a busy JVM behind, which no user's
 * `rollouts list` meets.
 */
async function latencyOnFreshStore(sandbox: Sandbox, smoke: boolean) {
  const fresh = await startDynamoDbLocal({
    logFile: join(REPO_ROOT, '.tmp/bench-latency-dynamodb.log'),
    readyTimeoutMs: 240_000,
  });
  try {
    return await latency({ ...sandbox, dynamoEndpoint: fresh.endpoint }, smoke);
  } finally {
    await fresh.stop();
  }
}

async function main() {
  clientNode = await import('@kubernetes/client-node');
  const started = Date.now();
  log('starting the test control plane and DynamoDB Local');
  const cluster = await startTestCluster({ logFile: join(REPO_ROOT, '.tmp/bench-cluster.log') });
  const dynamoLocal = await startDynamoDbLocal({
    logFile: join(REPO_ROOT, '.tmp/bench-dynamodb.log'),
    // The machine may be shared: give the JVM time to start.
    readyTimeoutMs: 240_000,
  });
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
      // The machine is shared: the load average says how contended the run was.
      machine: { cores: cpus().length, node: process.version, loadAverage: loadavg() },
      fleet: await fleet(sandbox),
      kubernetesRequests: await kubeRequests(sandbox),
      stepTiming: await stepTiming(sandbox),
      coldStart: await coldStart(sandbox),
      webhook: await webhookThroughput(sandbox),
      latency: await latencyOnFreshStore(sandbox, smoke),
      analysis: await analysisBench(sandbox.dynamoEndpoint, smoke, log),
      seconds: Math.round((Date.now() - started) / 1000),
    };
    const path = join(REPO_ROOT, smoke ? '.tmp/bench-smoke.json' : 'bench/results.json');
    writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
    console.log(renderBenchmarks(results as unknown as BenchResults));
    console.log(renderLatency(results as unknown as BenchResults));
    console.log(`\nwritten to ${path}`);
    // The README's Benchmarks table is generated from the committed results, never from a smoke run.
    if (!smoke) console.log((await updateReadme()) ? 'README.md regenerated' : 'README.md unchanged');
  } finally {
    await proxy.stop();
    await dynamoLocal.stop();
    await cluster.stop();
  }
}

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
if (only !== undefined && only !== 'analysis') throw new Error(`--only ${only}: only 'analysis' runs alone`);
await (only === 'analysis' ? onlyAnalysis() : main());
