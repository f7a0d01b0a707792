/**
 * bench/latency.ts's idle measurement, in a process of its own as local mode's runner is: the
 * runner loop over an empty table, then its DynamoDB requests and this process's CPU while it sits
 * idle. Run in the benchmark's process instead, the figure would also carry what that process
 * serves (the sandbox's logs, the counting proxy, the heap of the scenarios run before).
 *
 *   node --import tsx bench/idle-runner.ts '{"endpoint","table","kubeconfig","seconds"}'
 * prints {"dynamoRequests","cpuSeconds"} over `seconds` on stdout.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { localDynamoDbClient } from '../lib/adapters/dynamodb/client.js';
import { RolloutStore } from '../lib/adapters/dynamodb/repository.js';
import { ClusterConnections } from '../lib/adapters/kube/clusters.js';
import { startRunnerLoop } from '../lib/local/mode.js';
import { sdkDocuments } from '../lib/adapters/dynamodb/sdk-documents.js';

const { endpoint, table, kubeconfig, seconds } = JSON.parse(process.argv[2] ?? '{}') as {
  endpoint: string;
  table: string;
  kubeconfig: string;
  seconds: number;
};
let dynamoRequests = 0;
const client = localDynamoDbClient(endpoint);
client.middlewareStack.add(
  (next) => async (args) => {
    dynamoRequests++;
    return next(args);
  },
  { step: 'initialize', name: 'countRequests' },
);
const loop = startRunnerLoop(
  new RolloutStore(sdkDocuments(client), table),
  new ClusterConnections([
    { name: 'default', namespaces: ['default'], kubeconfig: { path: kubeconfig, context: 'runner' } },
  ]),
);
await loop.settled();
dynamoRequests = 0;
const cpu = process.cpuUsage();
await sleep(seconds * 1000);
const used = process.cpuUsage(cpu);
const requests = dynamoRequests;
await loop.stop();
process.stdout.write(
  `${JSON.stringify({ dynamoRequests: requests, cpuSeconds: (used.user + used.system) / 1e6 })}\n`,
);
