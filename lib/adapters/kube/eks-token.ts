/**
 * EKS bearer tokens, as `aws eks get-token` makes them: a presigned STS GetCallerIdentity URL with
 * the cluster name signed in the `x-k8s-aws-id` header, base64url-encoded behind `k8s-aws-v1.`.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export const TOKEN_PREFIX = 'k8s-aws-v1.';
/**
 * Tokens are valid for 15 minutes; a connection is reused for 10, so a token is never presented
 * near its expiry, even by a pass that started just before the cache would have dropped it.
 */
export const TOKEN_REFRESH_MS = 10 * 60 * 1000;

export interface EksTokenInput {
  clusterName: string;
  region: string;
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  now?: Date;
}

export async function eksToken({ clusterName, region, credentials, now }: EksTokenInput): Promise<string> {
  const hostname = `sts.${region}.amazonaws.com`;
  const signer = new SignatureV4({ credentials, region, service: 'sts', sha256: Sha256 });
  const request = new HttpRequest({
    method: 'GET',
    protocol: 'https:',
    hostname,
    path: '/',
    headers: { host: hostname, 'x-k8s-aws-id': clusterName },
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
  });
  const signed = await signer.presign(request, {
    expiresIn: 60,
    signingDate: now ?? new Date(),
    signableHeaders: new Set(['host', 'x-k8s-aws-id']),
  });
  const query = Object.entries(signed.query ?? {})
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
    .join('&');
  const url = `https://${hostname}/?${query}`;
  return `${TOKEN_PREFIX}${Buffer.from(url).toString('base64url')}`;
}
