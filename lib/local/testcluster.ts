/**
 * A real Kubernetes control plane on loopback for tests and local mode: etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler and simulated nodes, all from tools/testcluster.
 */
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { applyObjects, waitForCrdsEstablished } from '../adapters/kube/apply.js';
import { RUNNER_GROUP, runnerAdmissionPolicy } from '../core/model/runner-access.js';
import { freePort, httpStatus } from './ports.js';
import { ProcessGroup, waitFor } from './processes.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TOOL_DIR = join(REPO_ROOT, 'tools/testcluster');
export const RUNNER_USER = 'serverless-rollouts-runner';

export interface TestCluster {
  server: string;
  /**
   * A kubeconfig with contexts `admin` (system:masters) and `runner` (the runners' group: only the
   * admission policy is installed at boot; RBAC is per namespace, installed with `runnerRbac`).
   */
  kubeconfigPath: string;
  adminToken: string;
  runnerToken: string;
  caData: string;
  /** The API server's own serving certificate and key (PEM), for a proxy that stands in for it in tests. */
  servingCert: { cert: string; key: string };
  logFile: string;
  admin(): KubeConfig;
  runner(): KubeConfig;
  stop(): Promise<void>;
}

export interface TestClusterOptions {
  logFile: string;
  nodes?: number;
  progress?: (message: string) => void;
}

/** Builds the control plane when its cache is missing and returns the binary's path. */
export function ensureBinary(): string {
  const built = spawnSync('bash', [join(TOOL_DIR, 'build.sh')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (built.status !== 0)
    throw new Error(`building the test control plane failed (exit ${built.status}); see the output above`);
  return built.stdout.trim().split('\n').at(-1) as string;
}

export async function startTestCluster(options: TestClusterOptions): Promise<TestCluster> {
  const progress = options.progress ?? (() => {});
  const binary = ensureBinary();
  const dir = mkdtempSync(join(tmpdir(), 'serverless-rollouts-cluster-'));
  mkdirSync(dirname(options.logFile), { recursive: true });
  writeFileSync(options.logFile, '');
  const group = new ProcessGroup(options.logFile);
  try {
    return await boot(binary, dir, group, options, progress);
  } catch (error) {
    await group.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function boot(
  binary: string,
  dir: string,
  group: ProcessGroup,
  options: TestClusterOptions,
  progress: (message: string) => void,
): Promise<TestCluster> {
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const adminToken = randomBytes(24).toString('hex');
  const runnerToken = randomBytes(24).toString('hex');
  writeFileSync(
    join(dir, 'tokens.csv'),
    `${adminToken},admin,admin,"system:masters"\n${runnerToken},${RUNNER_USER},${RUNNER_USER},"${RUNNER_GROUP}"\n`,
  );
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.key'), keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(dir, 'sa.pub'), keys.publicKey.export({ type: 'spki', format: 'pem' }));

  progress('starting etcd');
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  group.start('etcd', binary, [
    'etcd',
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-url=${etcdUrl}`,
    `--listen-peer-url=http://127.0.0.1:${peerPort}`,
  ]);
  await waitFor(
    'etcd health',
    async () => ((await httpStatus(`${etcdUrl}/health`)) === 200 ? true : undefined),
    {
      timeoutMs: 30_000,
      group,
    },
  );

  progress('starting kube-apiserver');
  const certDir = join(dir, 'pki');
  group.start('kube-apiserver', binary, [
    'kube-apiserver',
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${apiPort}`,
    `--cert-dir=${certDir}`,
    `--token-auth-file=${join(dir, 'tokens.csv')}`,
    '--authorization-mode=RBAC',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    '--service-cluster-ip-range=10.96.0.0/16',
    // Loopback cannot be the kubernetes Service's endpoint; nothing in the sandbox needs it.
    '--endpoint-reconciler-type=none',
    '--disable-admission-plugins=ServiceAccount',
    '--enable-priority-and-fairness=false',
    '--profiling=false',
  ]);
  const server = `https://127.0.0.1:${apiPort}`;
  const caData = await waitFor(
    'the API server certificate',
    async () => {
      const file = readdirSync(certDir).find((name) => name === 'apiserver.crt');
      return file ? readFileSync(join(certDir, file), 'utf8') : undefined;
    },
    { timeoutMs: 60_000, group },
  );
  await waitFor(
    'kube-apiserver /readyz',
    async () => ((await probe(server, '/readyz', adminToken, caData)) === 200 ? true : undefined),
    {
      timeoutMs: 90_000,
      intervalMs: 300,
      group,
    },
  );

  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, kubeconfigYaml(server, caData, adminToken, runnerToken));

  progress('starting controllers, scheduler and simulated nodes');
  group.start('kube-controller-manager', binary, [
    'kube-controller-manager',
    `--kubeconfig=${kubeconfigPath}`,
    '--controllers=deployment,replicaset,namespace,garbagecollector,serviceaccount',
    '--leader-elect=false',
    '--secure-port=0',
    '--use-service-account-credentials=false',
  ]);
  group.start('kube-scheduler', binary, [
    'kube-scheduler',
    `--kubeconfig=${kubeconfigPath}`,
    '--leader-elect=false',
    '--secure-port=0',
  ]);
  group.start('node-simulator', binary, [
    'node-simulator',
    `--kubeconfig=${kubeconfigPath}`,
    `--nodes=${options.nodes ?? 2}`,
  ]);

  const cluster: TestCluster = {
    server,
    kubeconfigPath,
    adminToken,
    runnerToken,
    caData,
    servingCert: { cert: caData, key: readFileSync(join(certDir, 'apiserver.key'), 'utf8') },
    logFile: options.logFile,
    admin: () => loadContext(kubeconfigPath, 'admin'),
    runner: () => loadContext(kubeconfigPath, 'runner'),
    stop: async () => {
      await group.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };

  progress('installing the Istio CRDs and the runner admission policy');
  const crds = readManifests(join(TOOL_DIR, 'istio-crds'));
  await applyObjects(cluster.admin(), crds);
  await waitForCrdsEstablished(
    cluster.admin(),
    crds.map((crd) => crd.metadata?.name as string),
  );
  await applyObjects(cluster.admin(), runnerAdmissionPolicy());
  return cluster;
}

export function readManifests(directory: string, only?: string): KubernetesObject[] {
  return readdirSync(directory)
    .filter((name) => (only ? name === only : /\.ya?ml$/.test(name)))
    .sort()
    .flatMap((name) =>
      parseAllDocuments(readFileSync(join(directory, name), 'utf8')).map((doc) => doc.toJS()),
    )
    .filter((object): object is KubernetesObject => Boolean(object?.kind));
}

function loadContext(path: string, context: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(path);
  config.setCurrentContext(context);
  return config;
}

function kubeconfigYaml(server: string, ca: string, adminToken: string, runnerToken: string): string {
  const cluster = { server, 'certificate-authority-data': Buffer.from(ca).toString('base64') };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'sandbox', cluster }],
    users: [
      { name: 'admin', user: { token: adminToken } },
      { name: 'runner', user: { token: runnerToken } },
    ],
    contexts: [
      { name: 'admin', context: { cluster: 'sandbox', user: 'admin' } },
      { name: 'runner', context: { cluster: 'sandbox', user: 'runner' } },
    ],
    'current-context': 'admin',
  });
}

function probe(server: string, path: string, token: string, ca: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const req = request(`${server}${path}`, { headers: { authorization: `Bearer ${token}` }, ca }, (res) => {
      res.resume();
      resolvePromise(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.setTimeout(2000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}
