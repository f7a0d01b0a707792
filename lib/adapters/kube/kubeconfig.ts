/**
 * A kubeconfig context read into a `KubeAuth` without @kubernetes/client-node: the library is a
 * 4 MB bundle that costs a CLI command (`rollouts get`) about half a second to load, and static
 * credentials (a token, a client certificate, a CA) need only a YAML read. Credentials computed at
 * request time (an `exec` plugin such as `aws eks get-token`, an `auth-provider`) or a proxy are
 * left to the library, loaded only then.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { z } from '../../core/model/zod-mini.js';
import { formatIssues } from '../../core/model/issues.js';
import { err, ok, type Result } from '../../core/result.js';
import { kubeconfigAuth as clientLibraryAuth, type KubeAuth } from './http.js';

/** zod's small API: `get` reads a kubeconfig on every run, and the full API alone takes longer to load than the read. */
const optionalString = () => z.optional(z.string());
const kubeconfigSchema = z.object({
  'current-context': optionalString(),
  contexts: z.optional(
    z.array(
      z.object({ name: z.string(), context: z.object({ cluster: z.string(), user: optionalString() }) }),
    ),
  ),
  clusters: z.optional(
    z.array(
      z.object({
        name: z.string(),
        cluster: z.object({
          server: z.url(),
          'certificate-authority-data': optionalString(),
          'certificate-authority': optionalString(),
          'insecure-skip-tls-verify': z.optional(z.boolean()),
          'tls-server-name': optionalString(),
          'proxy-url': optionalString(),
        }),
      }),
    ),
  ),
  users: z.optional(
    z.array(
      z.object({
        name: z.string(),
        user: z.nullable(
          z.object({
            token: optionalString(),
            tokenFile: optionalString(),
            'client-certificate-data': optionalString(),
            'client-certificate': optionalString(),
            'client-key-data': optionalString(),
            'client-key': optionalString(),
            username: optionalString(),
            password: optionalString(),
            as: optionalString(),
            exec: z.optional(z.unknown()),
            'auth-provider': z.optional(z.unknown()),
          }),
        ),
      }),
    ),
  ),
});

type Source = { data: string } | { file: string };

/** What a context's static credentials are made of; files are read when a request is prepared. */
export interface StaticCredentials {
  server: string;
  ca?: Source;
  cert?: Source;
  key?: Source;
  token?: Source;
  basic?: string;
  impersonate?: string;
  rejectUnauthorized?: false;
  servername?: string;
}

/**
 * The credentials of `context` (default: the current context) in a parsed kubeconfig, or
 * `dynamic` when only the client library can produce them. Pure: relative paths resolve against `dir`.
 */
export function resolveContext(
  document: unknown,
  dir: string,
  context: string | undefined,
): Result<StaticCredentials | 'dynamic', string> {
  const parsed = kubeconfigSchema.safeParse(document);
  if (!parsed.success) return err(`not a kubeconfig: ${formatIssues(parsed.error)}`);
  const config = parsed.data;
  const name = context ?? config['current-context'];
  if (!name) return err('no context given and no current-context set');
  const found = config.contexts?.find((c) => c.name === name)?.context;
  if (!found) {
    const known = (config.contexts ?? []).map((c) => c.name).join(', ') || 'none';
    return err(`context '${name}' not found (contexts: ${known})`);
  }
  const cluster = config.clusters?.find((c) => c.name === found.cluster)?.cluster;
  if (!cluster) return err(`context '${name}' names cluster '${found.cluster}', which is not defined`);
  const user = (found.user && config.users?.find((u) => u.name === found.user)?.user) || {};
  if (user.exec !== undefined || user['auth-provider'] !== undefined || cluster['proxy-url'])
    return ok('dynamic');
  const path = (file: string) => (isAbsolute(file) ? file : join(dir, file));
  const source = (data: string | undefined, file: string | undefined): Source | undefined =>
    data !== undefined ? { data } : file !== undefined ? { file: path(file) } : undefined;
  const credentials: StaticCredentials = { server: cluster.server };
  const ca = source(cluster['certificate-authority-data'], cluster['certificate-authority']);
  const cert = source(user['client-certificate-data'], user['client-certificate']);
  const key = source(user['client-key-data'], user['client-key']);
  const token = user.token !== undefined ? { data: user.token } : source(undefined, user.tokenFile);
  if (ca) credentials.ca = ca;
  if (cert) credentials.cert = cert;
  if (key) credentials.key = key;
  if (token) credentials.token = token;
  if (user.username !== undefined) credentials.basic = `${user.username}:${user.password ?? ''}`;
  if (user.as !== undefined) credentials.impersonate = user.as;
  if (cluster['insecure-skip-tls-verify']) credentials.rejectUnauthorized = false;
  if (cluster['tls-server-name']) credentials.servername = cluster['tls-server-name'];
  return ok(credentials);
}

/** Certificates and keys are base64 in `*-data` fields and PEM in files; tokens are text in both. */
const pem = (source: Source) =>
  'data' in source ? Buffer.from(source.data, 'base64') : readFileSync(source.file);
const text = (source: Source) => ('data' in source ? source.data : readFileSync(source.file, 'utf8').trim());

export function staticAuth(credentials: StaticCredentials): KubeAuth {
  return {
    server: credentials.server,
    apply: async (options) => {
      const headers: Record<string, string> = { ...(options.headers as Record<string, string>) };
      if (credentials.ca) options.ca = pem(credentials.ca);
      if (credentials.cert) options.cert = pem(credentials.cert);
      if (credentials.key) options.key = pem(credentials.key);
      if (credentials.rejectUnauthorized === false) options.rejectUnauthorized = false;
      if (credentials.servername) options.servername = credentials.servername;
      if (credentials.basic) options.auth = credentials.basic;
      if (credentials.impersonate) headers['Impersonate-User'] = credentials.impersonate;
      // Read at each request: a projected token file is rotated under a running process.
      if (credentials.token) headers.authorization = `Bearer ${text(credentials.token)}`;
      options.headers = headers;
    },
  };
}

/** The kubeconfig at `path`, context `context` (default: its current context). */
export async function kubeconfigFileAuth(path: string, context?: string): Promise<KubeAuth> {
  // The YAML reader loads with the first cluster reached: a command that never reaches one skips it.
  const { parseYamlDocuments } = await import('../../core/model/yaml.js');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`kubeconfig ${path}: ${(error as Error).message}`);
  }
  const parsed = parseYamlDocuments(text, `kubeconfig ${path}`);
  if (!parsed.ok) throw new Error(parsed.error.join('; '));
  const document = parsed.value[0];
  const resolved = resolveContext(document, dirname(path), context);
  if (!resolved.ok) throw new Error(`kubeconfig ${path}: ${resolved.error}`);
  if (resolved.value !== 'dynamic') return staticAuth(resolved.value);
  const { KubeConfig } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  config.loadFromFile(path);
  if (context) config.setCurrentContext(context);
  return clientLibraryAuth(config);
}
