/** A store on DynamoDB Local and a runner against the test control plane, for one test file. */
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localDynamoDbClient } from '../../lib/adapters/dynamodb/client.js';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RolloutStatus } from '../../lib/core/engine/types.js';
import { readWeights, type RouteWeights } from '../../lib/core/istio/weights.js';
import { ClusterConnections } from '../../lib/adapters/kube/clusters.js';
import { VirtualServiceClient } from '../../lib/adapters/kube/virtualservices.js';
import { MemoryPublisher } from '../../lib/adapters/aws/events.js';
import { runPass } from '../../lib/app/runner/pass.js';
import type { RunnerDeps } from '../../lib/app/runner/process-rollout.js';
import { createProviders } from '../../lib/adapters/metrics/registry.js';
import { MemorySecrets } from '../../lib/adapters/memory/analysis.js';
import type { WakeupScheduler } from '../../lib/adapters/aws/wakeups.js';
import { parseRollout, type Rollout } from '../../lib/core/model/rollout.js';
import { RolloutStore, keyOf } from '../../lib/adapters/dynamodb/repository.js';
import { createTableInput } from '../../lib/adapters/dynamodb/table.js';
import type { StoredRollout } from '../../lib/adapters/dynamodb/types.js';
import { readDocuments } from '../unit/fixtures.js';
import { admin, kubeconfig, testClusterTarget } from './sandbox.js';
import { sdkDocuments } from '../../lib/adapters/dynamodb/sdk-documents.js';
import { localDocuments } from '../../lib/adapters/dynamodb/local-documents.js';
import type { Documents } from '../../lib/adapters/dynamodb/documents.js';

export function dynamoClient(): DynamoDBClient {
  const endpoint = process.env.TEST_DYNAMODB_ENDPOINT;
  if (!endpoint) throw new Error('TEST_DYNAMODB_ENDPOINT is not set: run integration tests through jest');
  return localDynamoDbClient(endpoint);
}

/** The two Documents adapters, each on the test's DynamoDB Local. */
export const DOCUMENT_ADAPTERS = [
  ['the AWS SDK', () => sdkDocuments(dynamoClient())],
  ['plain HTTP to DynamoDB Local', () => localDocuments(process.env.TEST_DYNAMODB_ENDPOINT as string)],
] as const satisfies readonly (readonly [string, () => Documents])[];

/** A store on a fresh table, through the SDK unless another adapter is given. */
export async function createStore(
  documents: () => Documents = DOCUMENT_ADAPTERS[0][1],
): Promise<RolloutStore> {
  const tableName = `rollouts-${randomBytes(4).toString('hex')}`;
  await dynamoClient().send(new CreateTableCommand(createTableInput(tableName)));
  return new RolloutStore(documents(), tableName);
}

export function clusters(): ClusterConnections {
  return new ClusterConnections([testClusterTarget()]);
}

export const noWakeups: WakeupScheduler = { schedule: async () => undefined };

export function runnerDeps(
  store: RolloutStore,
  owner = 'runner-a',
  overrides: Partial<RunnerDeps> = {},
): RunnerDeps & { store: RolloutStore; events: MemoryPublisher } {
  return {
    store,
    clusters: clusters(),
    events: new MemoryPublisher(),
    wakeups: noWakeups,
    metrics: createProviders(),
    secrets: new MemorySecrets(),
    owner,
    clock: Date.now,
    engine: { pollSeconds: 0.2, resyncSeconds: 1 },
    ...overrides,
  } as RunnerDeps & { store: RolloutStore; events: MemoryPublisher };
}

/** The demo Rollout in `namespace`, with the timed pause shortened for tests. */
export function demoRolloutIn(namespace: string, change: (doc: any) => void = () => {}): Rollout {
  const doc = structuredClone(readDocuments('examples/istio-demo/rollout.yaml')[0]) as any;
  doc.metadata.namespace = namespace;
  doc.spec.strategy.canary.steps[3].pause.duration = '2s';
  doc.spec.strategy.canary.abortScaleDownDelaySeconds = 2;
  change(doc);
  const parsed = parseRollout(doc);
  if (!parsed.ok) throw new Error(parsed.error.join('\n'));
  return parsed.value;
}

export const YELLOW = 'argoproj/rollouts-demo:yellow';

/** Registers the Rollout and queues `set image` as a user would. */
export async function registerAndSetImage(
  store: RolloutStore,
  rollout: Rollout,
  image = YELLOW,
): Promise<void> {
  await store.apply(rollout, Date.now());
  await store.enqueueCommand(keyOf(rollout), { kind: 'setImage', image }, 'test', Date.now());
}

export const pausedAt = (weight: number) => (stored: StoredRollout) =>
  stored.status.phase === 'Paused' && stored.status.weight === weight;

/** Runs passes for one Rollout until `done` holds for its stored state. */
export async function passUntil(
  deps: RunnerDeps & { store: RolloutStore },
  rollout: Rollout,
  done: (stored: StoredRollout) => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<StoredRollout> {
  const key = keyOf(rollout);
  const deadline = Date.now() + timeoutMs;
  let last: StoredRollout | undefined;
  while (Date.now() < deadline) {
    await runPass(deps, { only: [key] });
    last = await deps.store.get(key);
    if (last && (await done(last))) return last;
    await sleep(150);
  }
  throw new Error(
    `timed out waiting for ${what}; last status ${JSON.stringify(last?.status)} error ${last?.lastError?.message ?? 'none'} (control plane logs: ${process.env.TEST_CLUSTER_LOG})`,
  );
}

export const phase = (expected: RolloutStatus['phase']) => (stored: StoredRollout) =>
  stored.status.phase === expected;

/** Every managed route's [stable, canary] weights, per VirtualService, read as the admin. */
export async function routeWeights(rollout: Rollout): Promise<Record<string, [string, number, number][]>> {
  const client = new VirtualServiceClient(admin());
  const result: Record<string, [string, number, number][]> = {};
  for (const ref of rollout.canary.virtualServices) {
    const read = readWeights(rollout, ref, await client.get(ref));
    if (!read.ok) throw new Error(JSON.stringify(read.error));
    result[ref.name] = read.value.map((route: RouteWeights) => [route.section, route.stable, route.canary]);
  }
  return result;
}

export function everyRoute(stable: number, canary: number): Record<string, [string, number, number][]> {
  const routes: [string, number, number][] = [
    ['http', stable, canary],
    ['tls', stable, canary],
    ['tcp', stable, canary],
  ];
  return { 'rollouts-demo-vsvc1': routes, 'rollouts-demo-vsvc2': routes };
}

export async function deployment(namespace: string, name: string) {
  const { body } = await admin().send<any>(
    'GET',
    `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`,
  );
  return {
    image: body.spec.template.spec.containers[0].image as string,
    replicas: body.spec.replicas as number,
    available: (body.status?.availableReplicas ?? 0) as number,
  };
}

export { kubeconfig };
