/**
 * Where the CLI finds the store (and, in local mode, the cluster): flags, then environment, then
 * the state file `rollouts dev` writes. What only some commands need (CloudFormation, the cluster
 * clients) is loaded when reached, so a command starts with the store client alone.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { localDocuments } from '../../adapters/dynamodb/local-documents.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z as zm } from '../../core/model/zod-mini.js';
import type { ClusterClient, ClusterConnections } from '../../adapters/kube/clusters.js';
import type { ClusterScope, ClusterTarget } from '../../core/model/clusters.js';
import { RolloutStore } from '../../adapters/dynamodb/repository.js';

export const DEV_STATE_FILE = '.rollouts/dev.json';

/**
 * The state file local mode writes, read with zod's small API: its cluster registry is checked by
 * the registry's own schema (zod's full API, loaded then) once a command needs the clusters, which
 * `list`, `promote` and the others on the store alone never do.
 */
const devStateSchema = zm.object({
  dynamodbEndpoint: zm.url(),
  tableName: zm.string(),
  webhookUrl: zm.url(),
  /** Where local mode's runner takes nudges (lib/local/nudges.ts). */
  runnerUrl: zm.optional(zm.url()),
  kubeconfig: zm.string(),
  clusters: zm.array(zm.unknown()),
  pid: zm.number(),
});
export type DevState = Omit<zm.infer<typeof devStateSchema>, 'clusters'> & { clusters: ClusterTarget[] };
/** As read: the clusters not yet checked. */
export type StoredDevState = zm.infer<typeof devStateSchema>;

/** The clusters of local mode's state, checked. */
export async function devRegistry(dev: StoredDevState): Promise<ClusterTarget[]> {
  const { parseClusterRegistry } = await import('../../core/model/clusters.js');
  return parseClusterRegistry(dev.clusters, DEV_STATE_FILE);
}

export interface Connection {
  store: RolloutStore;
  /** A cluster's clients, connected (and their modules loaded) when a command first needs one. */
  clusters?: { get(name: string): Promise<ClusterClient> };
  /** The namespaces each cluster serves, when this CLI can know them (local mode, a stack). */
  registry?: () => Promise<readonly ClusterScope[]>;
  /** Tells the runner a command is waiting (AWS mode: an event on the bus). */
  nudge?: (key: { cluster: string; namespace: string; name: string }) => Promise<void>;
}

export interface ConnectionFlags {
  table?: string;
  endpoint?: string;
  stack?: string;
}

/** The deployed stack's outputs the CLI needs: the table, the event bus for nudges, the cluster scopes. */
export async function stackOutputs(
  stackName: string,
  client?: CloudFormationClient,
): Promise<{ table: string; bus?: string; registry?: ClusterScope[] }> {
  const [{ CloudFormationClient, DescribeStacksCommand }, { z }, { dnsLabel }, { formatIssues }] =
    await Promise.all([
      import('@aws-sdk/client-cloudformation'),
      import('zod'),
      import('../../core/model/names.js'),
      import('../../core/model/issues.js'),
    ]);
  /** The output `ClusterNamespaces`: each registered cluster's name and namespaces. */
  const scopesSchema = z.array(z.object({ name: dnsLabel, namespaces: z.array(dnsLabel) }));
  const { Stacks } = await (client ?? new CloudFormationClient({})).send(
    new DescribeStacksCommand({ StackName: stackName }),
  );
  const outputs = Object.fromEntries(
    (Stacks?.[0]?.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]),
  );
  const table = outputs.TableName;
  if (!table)
    throw new Error(`stack ${stackName} has no TableName output: is it a serverless-rollouts stack?`);
  const scopes = outputs.ClusterNamespaces;
  const registry = scopes === undefined ? undefined : scopesSchema.safeParse(JSON.parse(scopes));
  if (registry && !registry.success)
    throw new Error(`stack ${stackName}: output ClusterNamespaces: ${formatIssues(registry.error)}`);
  return {
    table,
    ...(outputs.EventBusName ? { bus: outputs.EventBusName } : {}),
    ...(registry ? { registry: registry.data } : {}),
  };
}

export function readDevState(directory = process.cwd()): StoredDevState | undefined {
  const path = join(directory, DEV_STATE_FILE);
  if (!existsSync(path)) return undefined;
  const parsed = devStateSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  return parsed.success ? parsed.data : undefined;
}

export async function connect(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Connection> {
  const stack = flags.stack ?? env.ROLLOUTS_STACK;
  const fromStack = stack && !flags.table && !env.ROLLOUTS_TABLE ? await stackOutputs(stack) : undefined;
  const table = flags.table ?? env.ROLLOUTS_TABLE ?? fromStack?.table;
  if (table) {
    const endpoint = flags.endpoint ?? env.ROLLOUTS_DYNAMODB_ENDPOINT;
    const [{ dynamoDbClient }, { sdkDocuments }] = await Promise.all([
      import('../../adapters/dynamodb/client.js'),
      import('../../adapters/dynamodb/sdk-documents.js'),
    ]);
    const bus = env.ROLLOUTS_EVENT_BUS ?? fromStack?.bus;
    const registry = fromStack?.registry;
    return {
      store: new RolloutStore(sdkDocuments(dynamoDbClient(endpoint)), table),
      ...(bus ? { nudge: await busNudge(bus) } : {}),
      ...(registry ? { registry: async () => registry } : {}),
    };
  }
  const dev = readDevState();
  if (dev) {
    const { runnerUrl } = dev;
    // Checked once, when a command first needs the clusters or their namespaces.
    let checked: Promise<ClusterTarget[]> | undefined;
    const registry = () => (checked ??= devRegistry(dev));
    let connections: Promise<ClusterConnections> | undefined;
    return {
      // DynamoDB Local over plain HTTP: the CLI answers without loading the AWS SDK.
      store: new RolloutStore(localDocuments(dev.dynamodbEndpoint), dev.tableName),
      clusters: {
        get: async (name) => {
          connections ??= import('../../adapters/kube/clusters.js').then(
            async ({ ClusterConnections }) => new ClusterConnections(await registry()),
          );
          return (await connections).get(name);
        },
      },
      ...(runnerUrl ? { nudge: (key) => localNudge(runnerUrl, key) } : {}),
      registry,
    };
  }
  throw new Error(
    `no store configured: start local mode with 'npm start' (it writes ${DEV_STATE_FILE}), or name a deployed stack with --stack or ROLLOUTS_STACK (or set ROLLOUTS_TABLE), with AWS credentials`,
  );
}

/** Loaded on demand: only commands against a deployed stack need the EventBridge client. */
async function busNudge(eventBusName: string) {
  const [{ EventBridgeClient }, { eventBusNudge, CLI_COMMAND_SOURCE }] = await Promise.all([
    import('@aws-sdk/client-eventbridge'),
    import('../../adapters/aws/nudge.js'),
  ]);
  return eventBusNudge(new EventBridgeClient({}), eventBusName, CLI_COMMAND_SOURCE);
}

/** Local mode runs a pass when nudged; a runner that does not answer leaves the work queued. */
async function localNudge(runnerUrl: string, key: { cluster: string; namespace: string; name: string }) {
  const { sendNudge } = await import('../../local/nudges.js');
  await sendNudge(runnerUrl, key).catch((error: Error) =>
    process.stderr.write(
      `warning: queued, but local mode's runner was not told (${error.message}); is 'npm start' still running?\n`,
    ),
  );
}
