/**
 * The `rollouts` CLI. Each command parses its flags here and calls lib; the commands that need
 * no store (lint, preview) read files only. Each command loads the modules it needs when it runs,
 * so none pays at start for another's (the AWS SDK, the YAML parser, local mode).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { SourceFile } from '../lib/app/cli/manifests.js';
import type { OutputFormat } from '../lib/app/cli/preview.js';
import type { Connection } from '../lib/app/cli/connection.js';
import type { CommandOutput } from '../lib/app/cli/store-commands.js';
import type { Command } from '../lib/core/engine/types.js';
import type { RolloutKey } from '../lib/adapters/dynamodb/types.js';

const USAGE = `usage: rollouts <command> [flags]

Commands that read files only:
  lint -f rollout.yaml [-f analysistemplates.yaml ...] [--virtualservice vs.yaml ...] [--config cdk.json]
                                   --config: also check clusters and namespaces against its registry
  preview -f rollout.yaml --virtualservice vs.yaml [...] (--weight N | --step N) [-o yaml|json]
                                   without --virtualservice, the VirtualServices are read from -f
  analyze -f template.yaml [...] [--arg NAME=VALUE ...]   each metric measured once, now, against its
                                           provider, with the phase it gives (nothing stored, no rollout moves)

Commands on the store (local mode from 'npm start', or a deployed stack: --stack NAME or ROLLOUTS_STACK):
  apply -f rollout.yaml
  list
  get NAME [--watch [--until-done]]   --until-done: exit 0 once Healthy, 1 once Degraded or InvalidSpec
  set image NAME CONTAINER=IMAGE
  promote NAME [--full]
  abort NAME
  retry NAME
  A fleet (spec.clusters): get NAME shows waves x clusters; promote NAME promotes every member in
  flight one step, --cluster C only C's, --wave ends the current wave's bake; abort/retry NAME act on
  the whole fleet (with --cluster C, on that member alone)
  history NAME
  dashboard [--port N]               a web page on 127.0.0.1 with every rollout, live, and its actions
  Flags: -n/--namespace NS (default "default"), --cluster NAME (default "default"), --stack NAME, --table T, --endpoint URL

Cluster setup:
  rbac --cluster NAME [--config cdk.json]   the RBAC and admission policy for one cluster (kubectl apply -f -)

Local mode:
  dev [--kubeconfig FILE --context NAME --namespaces a,b] [--waves]   run everything on this machine (npm start); --waves: three sandbox clusters and examples/waves
  demo                                     the seed's scenario, unattended (npm run demo)
`;

class UsageError extends Error {}

function readSource(path: string): SourceFile {
  try {
    return { path, text: readFileSync(path, 'utf8') };
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

function fileFlags(args: string[], extra: Record<string, { type: 'string'; short?: string }> = {}) {
  const parsed = parseArgs({
    args,
    options: {
      filename: { type: 'string', short: 'f', multiple: true },
      virtualservice: { type: 'string', multiple: true },
      ...extra,
    },
    strict: true,
    allowPositionals: false,
  });
  const values = parsed.values as Record<string, string | string[] | undefined>;
  const filenames = (values.filename as string[] | undefined) ?? [];
  if (filenames.length === 0) throw new UsageError('-f rollout.yaml is required');
  return {
    values,
    rollouts: filenames.map(readSource),
    virtualServices: ((values.virtualservice as string[] | undefined) ?? []).map(readSource),
  };
}

const storeCommands = () => import('../lib/app/cli/store-commands.js');

async function runLint(args: string[]): Promise<number> {
  const { lint } = await import('../lib/app/cli/lint.js');
  const { values, rollouts, virtualServices } = fileFlags(args, { config: { type: 'string' } });
  let registry;
  if (values.config !== undefined) {
    const { readRegistry } = await import('../lib/app/cli/rbac.js');
    try {
      registry = readRegistry(values.config as string).clusters;
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  const report = lint(rollouts, virtualServices, registry);
  (report.ok ? process.stdout : process.stderr).write(`${report.lines.join('\n')}\n`);
  return report.ok ? 0 : 1;
}

async function runPreview(args: string[]): Promise<number> {
  const { preview } = await import('../lib/app/cli/preview.js');
  const { values, rollouts, virtualServices } = fileFlags(args, {
    weight: { type: 'string' },
    step: { type: 'string' },
    output: { type: 'string', short: 'o' },
  });
  if (rollouts.length !== 1) throw new UsageError('preview takes exactly one -f rollout.yaml');
  const weightText = values.weight as string | undefined;
  const stepText = values.step as string | undefined;
  if ((weightText === undefined) === (stepText === undefined))
    throw new UsageError('give exactly one of --weight N and --step N');
  if (stepText !== undefined && !/^[1-9]\d*$/.test(stepText))
    throw new UsageError(`--step must be a step number from 1, found ${stepText}`);
  if (weightText !== undefined && (!/^\d+$/.test(weightText) || Number(weightText) > 100)) {
    throw new UsageError(`--weight must be a whole number from 0 to 100, found ${weightText}`);
  }
  const format = (values.output as string | undefined) ?? 'yaml';
  if (format !== 'yaml' && format !== 'json')
    throw new UsageError(`-o must be yaml or json, found ${format}`);
  const result = preview(
    rollouts[0] as SourceFile,
    virtualServices,
    stepText === undefined ? { weight: Number(weightText) } : { step: Number(stepText) },
    format as OutputFormat,
  );
  if (!result.ok) {
    process.stderr.write(`${result.error.join('\n')}\n`);
    return 1;
  }
  process.stdout.write(result.value);
  return 0;
}

const STORE_FLAGS = {
  namespace: { type: 'string', short: 'n' },
  cluster: { type: 'string' },
  table: { type: 'string' },
  endpoint: { type: 'string' },
  stack: { type: 'string' },
  watch: { type: 'boolean', short: 'w' },
  'until-done': { type: 'boolean' },
  full: { type: 'boolean' },
  wave: { type: 'boolean' },
  port: { type: 'string' },
  filename: { type: 'string', short: 'f', multiple: true },
} as const;

function storeArgs(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    options: STORE_FLAGS,
    allowPositionals: true,
    strict: true,
  });
  const key = (name: string | undefined): RolloutKey => {
    if (!name) throw new UsageError('the rollout NAME is required');
    return { cluster: values.cluster ?? 'default', namespace: values.namespace ?? 'default', name };
  };
  return { values, positionals, key };
}

function emit(output: CommandOutput): number {
  if (output.ok) process.stdout.write(output.stdout);
  else process.stderr.write(output.stderr);
  return output.ok ? 0 : 1;
}

async function withStore(
  args: string[],
  run: (connection: Connection, parsed: ReturnType<typeof storeArgs>) => Promise<CommandOutput>,
): Promise<number> {
  const parsed = storeArgs(args);
  const { connect } = await import('../lib/app/cli/connection.js');
  let connection: Connection;
  try {
    connection = await connect({
      table: parsed.values.table,
      endpoint: parsed.values.endpoint,
      stack: parsed.values.stack,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return emit(await run(connection, parsed));
}

async function runGet(args: string[]): Promise<number> {
  const parsed = storeArgs(args);
  const key = parsed.key(parsed.positionals[0]);
  if (parsed.values['until-done'] && !parsed.values.watch)
    throw new UsageError('--until-done goes with --watch');
  const { get, watch } = await storeCommands();
  if (!parsed.values.watch) return withStore(args, (connection) => get(connection, key));
  return withStore(args, (connection) =>
    watch(connection, key, {
      untilDone: parsed.values['until-done'] ?? false,
      terminal: process.stdout.isTTY === true,
      write: (text) => process.stdout.write(text),
      intervalMs: 1000,
    }),
  );
}

type FleetRequest = Command | { kind: 'setImageAssignment'; assignment: string };

/** A command for the fleet of that name, when there is one and it is meant (see store-commands sendToFleet). */
async function toFleet(
  connection: Connection,
  { values }: ReturnType<typeof storeArgs>,
  name: string | undefined,
  command: FleetRequest,
): Promise<CommandOutput | undefined> {
  const promoting = command.kind === 'promote' || command.kind === 'promoteFull';
  if (!name || (values.cluster && !promoting)) return undefined;
  const { findFleet, sendToFleet } = await storeCommands();
  const fleet = await findFleet(connection, { namespace: values.namespace ?? 'default', name });
  if (!fleet && values.wave) throw new UsageError(`--wave goes with promote of a fleet; ${name} is not one`);
  return (
    fleet &&
    sendToFleet(connection, fleet, command, {
      now: Date.now(),
      ...(values.cluster ? { cluster: values.cluster } : {}),
      ...(values.wave ? { wave: true } : {}),
    })
  );
}

const simple = (command: Command) => (args: string[]) =>
  withStore(
    args,
    async (connection, parsed) =>
      (await toFleet(connection, parsed, parsed.positionals[0], command)) ??
      (await storeCommands()).sendCommand(connection, parsed.key(parsed.positionals[0]), command, Date.now()),
  );

const COMMANDS: Record<string, (args: string[]) => number | Promise<number>> = {
  lint: runLint,
  preview: runPreview,
  apply: (args) =>
    withStore(args, async (connection, { values }) => {
      const files = (values.filename ?? []).map(readSource);
      if (files.length === 0) throw new UsageError('-f rollout.yaml is required');
      return (await storeCommands()).applyFiles(connection, files, Date.now());
    }),
  list: (args) => withStore(args, async (connection) => (await storeCommands()).list(connection)),
  get: runGet,
  history: (args) =>
    withStore(args, async (connection, { positionals, key }) =>
      (await storeCommands()).history(connection, key(positionals[0])),
    ),
  promote: (args) =>
    withStore(args, async (connection, parsed) => {
      const command: Command = parsed.values.full ? { kind: 'promoteFull' } : { kind: 'promote' };
      return (
        (await toFleet(connection, parsed, parsed.positionals[0], command)) ??
        (await storeCommands()).sendCommand(
          connection,
          parsed.key(parsed.positionals[0]),
          command,
          Date.now(),
        )
      );
    }),
  abort: simple({ kind: 'abort' }),
  retry: simple({ kind: 'retry' }),
  set: (args) =>
    withStore(args, async (connection, parsed) => {
      const { positionals, key } = parsed;
      const { sendCommand, setImageCommand } = await storeCommands();
      const [what, name, assignment] = positionals;
      if (what !== 'image' || !assignment)
        throw new UsageError('usage: rollouts set image NAME CONTAINER=IMAGE');
      const fleet = await toFleet(connection, parsed, name, { kind: 'setImageAssignment', assignment });
      if (fleet) return fleet;
      const stored = await connection.store.get(key(name));
      if (!stored) return { ok: false, stderr: `rollout ${key(name).namespace}/${name} not found\n` };
      const command = setImageCommand(stored, assignment);
      if (!command.ok) throw new UsageError(command.error);
      return sendCommand(connection, key(name), command.value, Date.now());
    }),
  rbac: async (args) => {
    const { rbac, readRegistry } = await import('../lib/app/cli/rbac.js');
    const { values } = parseArgs({
      args,
      options: { cluster: { type: 'string' }, config: { type: 'string' } },
      strict: true,
    });
    if (!values.cluster) throw new UsageError('--cluster NAME is required');
    let registry: ReturnType<typeof readRegistry>;
    try {
      registry = readRegistry(values.config);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    return emit(rbac(registry, values.cluster));
  },
  dashboard: async (args) => {
    const parsed = storeArgs(args);
    const portText = parsed.values.port;
    if (portText !== undefined && (!/^\d+$/.test(portText) || Number(portText) > 65535))
      throw new UsageError(`--port must be a port number, found ${portText}`);
    const { connect } = await import('../lib/app/cli/connection.js');
    const { serveDashboard } = await import('../lib/app/dashboard/command.js');
    let connection: Connection;
    try {
      connection = await connect(parsed.values);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    return serveDashboard(connection, portText === undefined ? undefined : Number(portText));
  },
  analyze: async (args) => {
    const { values } = parseArgs({
      args,
      options: {
        filename: { type: 'string', short: 'f', multiple: true },
        arg: { type: 'string', multiple: true },
      },
      strict: true,
    });
    if (!values.filename?.length) throw new UsageError('-f template.yaml is required');
    const [{ analyze }, { createProviders }] = await Promise.all([
      import('../lib/app/cli/analyze.js'),
      import('../lib/adapters/metrics/registry.js'),
    ]);
    return emit(
      await analyze(values.filename.map(readSource), values.arg ?? [], {
        metrics: createProviders(),
        // Loaded only when a template's arg comes from Secrets Manager and no --arg overrides it.
        secrets: {
          read: async (secretId) => {
            const [{ SecretsManagerClient }, { SecretsManagerReader }] = await Promise.all([
              import('@aws-sdk/client-secrets-manager'),
              import('../lib/adapters/aws/secrets.js'),
            ]);
            return new SecretsManagerReader(new SecretsManagerClient({})).read(secretId);
          },
        },
        clock: Date.now,
      }),
    );
  },
  dev: async (args) => (await import('../lib/local/dev.js')).runDev(args),
  demo: async (args) => (await import('../lib/local/demo.js')).runDemo(args),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`unknown command '${name}'\n${USAGE}`);
    return 2;
  }
  try {
    return await command(args);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`rollouts ${name}: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
