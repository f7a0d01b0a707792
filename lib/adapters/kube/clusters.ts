/**
 * Which Kubernetes API a Rollout's `spec.cluster` means: a kubeconfig context (local mode, any
 * cluster) or an EKS cluster found by DescribeCluster and reached with a fresh IAM token.
 */
import type { EKSClient } from '@aws-sdk/client-eks';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { UnknownClusterError, type ClusterPort, type ClusterResolver } from '../../app/runner/ports.js';
import type { ClusterTarget } from '../../core/model/clusters.js';
import { DeploymentClient } from './deployments.js';
import { bearerAuth, KubeHttp, type KubeAuth } from './http.js';
import { kubeconfigFileAuth } from './kubeconfig.js';
import { VirtualServiceClient } from './virtualservices.js';

export type { ClusterTarget };

export interface ClusterClient extends ClusterPort {
  deployments: DeploymentClient;
  virtualServices: VirtualServiceClient;
}

/** Loaded when an EKS cluster is first reached: a CLI on a kubeconfig context never pays for them. */
const awsClients = () =>
  Promise.all([
    import('@aws-sdk/client-eks'),
    import('@aws-sdk/credential-providers'),
    import('./eks-token.js'),
  ]);

export class ClusterConnections implements ClusterResolver {
  private readonly cache = new Map<string, { client: ClusterClient; expiresAt: number }>();

  constructor(
    private readonly targets: ClusterTarget[],
    private readonly eks: (region: string) => EKSClient | Promise<EKSClient> = async (region) =>
      new (await import('@aws-sdk/client-eks')).EKSClient({ region }),
    private readonly clock: () => number = Date.now,
    private readonly requestTimeoutMs = 10_000,
  ) {}

  async get(name: string): Promise<ClusterClient> {
    const cached = this.cache.get(name);
    if (cached && cached.expiresAt > this.clock()) return cached.client;
    const target = this.targets.find((t) => t.name === name);
    if (!target)
      throw new UnknownClusterError(
        name,
        this.targets.map((t) => t.name),
      );
    const { auth, refreshMs } =
      'kubeconfig' in target
        ? {
            auth: await kubeconfigFileAuth(target.kubeconfig.path, target.kubeconfig.context),
            refreshMs: Number.POSITIVE_INFINITY,
          }
        : await this.fromEks(target.eks);
    const http = new KubeHttp(auth, this.requestTimeoutMs);
    const client = {
      scope: { name: target.name, namespaces: target.namespaces },
      deployments: new DeploymentClient(http),
      virtualServices: new VirtualServiceClient(http),
    };
    this.cache.set(name, {
      client,
      expiresAt: this.clock() + refreshMs,
    });
    return client;
  }

  /** A 401 means the token or the role no longer works: connect afresh next time. */
  forget(name: string): void {
    this.cache.delete(name);
  }

  private async fromEks(target: {
    clusterName: string;
    region: string;
    roleArn?: string;
  }): Promise<{ auth: KubeAuth; refreshMs: number }> {
    const [
      { DescribeClusterCommand },
      { fromTemporaryCredentials, fromNodeProviderChain },
      { eksToken, TOKEN_REFRESH_MS },
    ] = await awsClients();
    const { cluster } = await (
      await this.eks(target.region)
    ).send(new DescribeClusterCommand({ name: target.clusterName }));
    if (!cluster?.endpoint || !cluster.certificateAuthority?.data) {
      throw new Error(
        `EKS cluster ${target.clusterName} in ${target.region} has no endpoint or CA yet (status ${cluster?.status ?? 'unknown'})`,
      );
    }
    const credentials: AwsCredentialIdentityProvider = target.roleArn
      ? fromTemporaryCredentials({
          params: { RoleArn: target.roleArn, RoleSessionName: 'serverless-rollouts' },
        })
      : fromNodeProviderChain();
    const token = await eksToken({ clusterName: target.clusterName, region: target.region, credentials });
    return {
      auth: bearerAuth(
        cluster.endpoint,
        Buffer.from(cluster.certificateAuthority.data, 'base64').toString('utf8'),
        token,
      ),
      refreshMs: TOKEN_REFRESH_MS,
    };
  }
}
