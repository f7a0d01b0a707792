import { describe, expect, it } from '@jest/globals';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { ClusterConnections } from '../../lib/adapters/kube/clusters.js';
import { bearerAuth } from '../../lib/adapters/kube/http.js';
import { eksToken, TOKEN_PREFIX } from '../../lib/adapters/kube/eks-token.js';

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const now = new Date('2026-11-25T12:00:00Z');

function decode(token: string): URL {
  expect(token.startsWith(TOKEN_PREFIX)).toBe(true);
  const encoded = token.slice(TOKEN_PREFIX.length);
  expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
  return new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
}

describe('EKS tokens', () => {
  it('are k8s-aws-v1. plus an unpadded base64url presigned STS GetCallerIdentity URL', async () => {
    const url = decode(await eksToken({ clusterName: 'prod-eks', region: 'eu-west-1', credentials, now }));
    expect(url.origin).toBe('https://sts.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    const query = Object.fromEntries(url.searchParams);
    expect(query).toMatchObject({
      Action: 'GetCallerIdentity',
      Version: '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIDEXAMPLE/20261125/eu-west-1/sts/aws4_request',
      'X-Amz-Date': '20261125T120000Z',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
    });
    expect(query['X-Amz-Signature']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('sign the cluster name: another cluster gives another signature', async () => {
    const a = decode(await eksToken({ clusterName: 'a', region: 'us-east-1', credentials, now }));
    const again = decode(await eksToken({ clusterName: 'a', region: 'us-east-1', credentials, now }));
    const b = decode(await eksToken({ clusterName: 'b', region: 'us-east-1', credentials, now }));
    expect(a.searchParams.get('X-Amz-Signature')).toBe(again.searchParams.get('X-Amz-Signature'));
    expect(a.searchParams.get('X-Amz-Signature')).not.toBe(b.searchParams.get('X-Amz-Signature'));
  });

  it('carry a session token when the credentials have one', async () => {
    const url = decode(
      await eksToken({
        clusterName: 'a',
        region: 'us-east-1',
        credentials: { ...credentials, sessionToken: 'SESSION' },
        now,
      }),
    );
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('SESSION');
  });
});

describe('EKS clusters', () => {
  it('are reached at the endpoint and CA that DescribeCluster returns, with a bearer token', async () => {
    const eks = mockClient(EKSClient);
    eks.on(DescribeClusterCommand, { name: 'prod-eks' }).resolves({
      cluster: {
        name: 'prod-eks',
        endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
        certificateAuthority: { data: 'Q0EK' },
        status: 'ACTIVE',
      },
    });
    process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
    const connections = new ClusterConnections(
      [{ name: 'prod', namespaces: ['shop'], eks: { clusterName: 'prod-eks', region: 'eu-west-1' } }],
      () => new EKSClient({ region: 'eu-west-1' }),
    );
    await connections.get('prod');
    expect(eks.commandCalls(DescribeClusterCommand).map((call) => call.args[0].input)).toEqual([
      { name: 'prod-eks' },
    ]);
    await connections.get('prod');
    expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(1);
    eks.restore();
  });

  it('are connected afresh (a new token) after 10 minutes, well before the 15-minute expiry, and after a 401', async () => {
    const eks = mockClient(EKSClient);
    eks.on(DescribeClusterCommand).resolves({
      cluster: {
        endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
        certificateAuthority: { data: 'Q0EK' },
      },
    });
    process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
    let now = Date.parse('2026-11-26T10:00:00Z');
    const connections = new ClusterConnections(
      [{ name: 'prod', namespaces: ['shop'], eks: { clusterName: 'prod-eks', region: 'eu-west-1' } }],
      () => new EKSClient({ region: 'eu-west-1' }),
      () => now,
    );
    const first = await connections.get('prod');
    now += 9 * 60_000 + 59_000;
    expect(await connections.get('prod')).toBe(first);
    now += 1_000;
    const second = await connections.get('prod');
    expect(second).not.toBe(first);
    expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(2);
    connections.forget('prod');
    expect(await connections.get('prod')).not.toBe(second);
    expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(3);
    eks.restore();
  });

  it('fail clearly when the cluster is not registered', async () => {
    await expect(new ClusterConnections([]).get('nope')).rejects.toThrow(
      "cluster 'nope' is not registered (known: none)",
    );
  });

  it('authenticate with the token as a bearer and trust the cluster CA', async () => {
    const auth = bearerAuth('https://x', 'CA PEM', 'k8s-aws-v1.abc');
    const options: { ca?: string; headers?: Record<string, string> } = {
      headers: { accept: 'application/json' },
    };
    await auth.apply(options);
    expect(auth.server).toBe('https://x');
    expect(options).toEqual({
      ca: 'CA PEM',
      headers: { accept: 'application/json', authorization: 'Bearer k8s-aws-v1.abc' },
    });
  });
});
