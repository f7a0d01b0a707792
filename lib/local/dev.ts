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
    },
    strict: true,
  });
  const started = Date.now();
  const local = await startLocalMode({
    ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
    ...(values.context ? { context: values.context } : {}),
    ...(values.port ? { port: Number(values.port) } : {}),
    ...(values.namespaces ? { namespaces: values.namespaces.split(',') } : {}),
    progress: (message) => console.log(`… ${message}`),
    onEvent: ({ key, event }) =>
      console.log(
        `event: ${event.type} ${key.namespace}/${key.name} revision ${event.revision}${event.weight === undefined ? '' : ` weight ${event.weight}`}`,
      ),
  });
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
  Logs             ${relative(process.cwd(), REPO_ROOT) || '.'}/.rollouts/*.log

Ctrl-C stops everything.`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  console.log('\nstopping…');
  await local.stop();
  console.log('stopped; nothing left running');
  return 0;
}
