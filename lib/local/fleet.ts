/**
 * Many small canaries in one namespace, for the fault run and the fleet benchmark: each app has a
 * stable and a canary Deployment, their Services and one VirtualService with a single HTTP route.
 */
import type { KubernetesObject } from '@kubernetes/client-node';

export function fleetObjects(
  namespace: string,
  name: string,
  image = 'app:v1',
): (KubernetesObject & { spec: unknown })[] {
  const deploymentOf = (track: string, replicas: number) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `${name}-${track}`, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name, track } },
      template: {
        metadata: { labels: { app: name, track } },
        spec: { containers: [{ name: 'app', image }] },
      },
    },
  });
  const serviceOf = (track: string) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `${name}-${track}`, namespace },
    spec: { selector: { app: name, track }, ports: [{ port: 80 }] },
  });
  return [
    deploymentOf('stable', 1),
    deploymentOf('canary', 0),
    serviceOf('stable'),
    serviceOf('canary'),
    {
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'VirtualService',
      metadata: { name, namespace },
      spec: {
        hosts: [`${name}.local`],
        http: [
          {
            route: [
              { destination: { host: `${name}-stable` }, weight: 100 },
              { destination: { host: `${name}-canary` }, weight: 0 },
            ],
          },
        ],
      },
    },
  ];
}

/** The Rollout document for one fleet app (parse it with parseRollout), with the given steps. */
export function fleetRolloutDocument(
  namespace: string,
  name: string,
  steps: unknown[],
): Record<string, unknown> {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace },
    spec: {
      workload: { stableDeployment: `${name}-stable`, canaryDeployment: `${name}-canary` },
      strategy: {
        canary: {
          canaryService: `${name}-canary`,
          stableService: `${name}-stable`,
          abortScaleDownDelaySeconds: 1,
          trafficRouting: { istio: { virtualService: { name } } },
          steps,
        },
      },
    },
  };
}
