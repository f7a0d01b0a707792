/** `rollouts dev` (npm start): local mode in the foreground until Ctrl-C. */
import { parseArgs } from 'node:util';
import { relative } from 'node:path';
import { startLocalMode } from './mode.js';
import { REPO_ROOT } from './testcluster.js';

export async function runDev(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      port: { type: 'string' },
      namespaces: { type: 'string' },
      waves: { type: 'boolean' },
    },
    strict: true,
  });
  const started = Date.now();
  const local = await startLocalMode({
    ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
    ...(values.context ? { context: values.context } : {}),
    ...(values.port ? { port: Number(values.port) } : {}),
    ...(values.namespaces ? { namespaces: values.namespaces.split(',') } : {}),
    ...(values.waves ? { waves: true } : {}),
    progress: (message) => console.log(`… ${message}`),
    onEvent: ({ key, event }) =>
      console.log(
        `event: ${event.type} ${key.namespace}/${key.name} revision ${event.revision}${event.weight === undefined ? '' : ` weight ${event.weight}`}`,
      ),
  });
  const dashboard = await startLocalDashboard();
  const kubeconfig = relative(process.cwd(), local.kubeconfigPath) || local.kubeconfigPath;
  console.log(`
serverless-rollouts local mode is up (${((Date.now() - started) / 1000).toFixed(1)}s)

  Webhook          ${local.webhookUrl}/generic   (X-Signature-256: sha256=HMAC-SHA256(body, generic secret))
                   ${local.webhookUrl}/github, /harbor, /dockerhub/${local.secrets.dockerhubToken}
  Generic secret   ${local.secrets.generic}
  GitHub secret    ${local.secrets.github}
  Harbor secret    ${local.secrets.harbor}
  Cluster          ${local.sandbox ? 'sandbox (kube-apiserver, controllers, simulated nodes)' : 'your kubeconfig'}: KUBECONFIG=${kubeconfig} kubectl get virtualservices
  CLI              npx rollouts list | get rollouts-demo --watch | set image rollouts-demo rollouts-demo=argoproj/rollouts-demo:yellow | promote rollouts-demo
  Prometheus       ${local.metrics ? `${local.metrics.prometheusUrl}   (the mesh simulator's Istio metrics; examples/istio-demo/analysis's prometheus-address)` : 'not started (no Prometheus installed, or your own cluster)'}
  Dashboard        ${dashboard.line}
  Logs             ${relative(process.cwd(), REPO_ROOT) || '.'}/.rollouts/*.log

Ctrl-C stops everything.`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  console.log('\nstopping…');
  await dashboard.close();
  await local.stop();
  console.log('stopped; nothing left running');
  return 0;
}

/** The dashboard on local mode's store (through .rollouts/dev.json, as the CLI finds it). */
async function startLocalDashboard(): Promise<{ line: string; close: () => Promise<void> }> {
  const [{ connect }, { pageDir }, { startDashboard }] = await Promise.all([
    import('../app/cli/connection.js'),
    import('../app/dashboard/command.js'),
    import('../app/dashboard/server.js'),
  ]);
  const dir = pageDir();
  if (!dir) return { line: "not built: run 'npm run build'", close: async () => undefined };
  const dashboard = await startDashboard({ connection: await connect({}), pageDir: dir });
  return { line: dashboard.url, close: dashboard.close };
}
