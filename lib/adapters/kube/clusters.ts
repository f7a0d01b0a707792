/**
 * Which Kubernetes API a Rollout's `spec.cluster` means: a kubeconfig context (local mode, any
 * cluster) or an EKS cluster found by DescribeCluster and reached with a fresh IAM token.
 */
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { fromTemporaryCredentials, fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { UnknownClusterError, type ClusterPort, type ClusterResolver } from '../../app/runner/ports.js';
import type { ClusterTarget } from '../../core/model/clusters.js';
import { DeploymentClient } from './deployments.js';
import { eksToken, TOKEN_REFRESH_MS } from './eks-token.js';
import { bearerAuth, KubeHttp, kubeconfigAuth, type KubeAuth } from './http.js';
import { VirtualServiceClient } from './virtualservices.js';

export type { ClusterTarget };

export interface ClusterClient extends ClusterPort {
  deployments: DeploymentClient;
  virtualServices: VirtualServiceClient;
}

export class ClusterConnections implements ClusterResolver {
  private readonly cache = new Map<string, { client: ClusterClient; expiresAt: number }>();

  constructor(
    private readonly targets: ClusterTarget[],
    private readonly eks: (region: string) => EKSClient = (region) => new EKSClient({ region }),
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
    const auth =
      'kubeconfig' in target
        ? await fromKubeconfig(target.kubeconfig.path, target.kubeconfig.context)
        : await this.fromEks(target.eks);
    const http = new KubeHttp(auth, this.requestTimeoutMs);
    const client = {
      scope: { name: target.name, namespaces: target.namespaces },
      deployments: new DeploymentClient(http),
      virtualServices: new VirtualServiceClient(http),
    };
    this.cache.set(name, {
      client,
      expiresAt: 'kubeconfig' in target ? Number.POSITIVE_INFINITY : this.clock() + TOKEN_REFRESH_MS,
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
  }): Promise<KubeAuth> {
    const { cluster } = await this.eks(target.region).send(
      new DescribeClusterCommand({ name: target.clusterName }),
    );
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
    return bearerAuth(
      cluster.endpoint,
      Buffer.from(cluster.certificateAuthority.data, 'base64').toString('utf8'),
      token,
    );
  }
}

/** Loaded on demand: Lambda reaches EKS with tokens and never needs the client library. */
async function fromKubeconfig(path: string, context: string | undefined): Promise<KubeAuth> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  config.loadFromFile(path);
  if (context) config.setCurrentContext(context);
  return kubeconfigAuth(config);
}
