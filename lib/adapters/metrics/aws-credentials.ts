/**
 * AWS credentials for the providers that call AWS (CloudWatch, Amazon Managed Prometheus): the
 * runner's own, a named profile (local mode), or a role assumed from them (cross-account). Each
 * provider object is kept, so assumed-role credentials are reused until they near expiry.
 */
import { fromIni, fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

export interface CredentialChoice {
  profile?: string | undefined;
  roleArn?: string | undefined;
}

export class AwsCredentials {
  private readonly cache = new Map<string, AwsCredentialIdentityProvider>();

  constructor(private readonly base: AwsCredentialIdentityProvider = fromNodeProviderChain()) {}

  for(choice: CredentialChoice): AwsCredentialIdentityProvider {
    const key = `${choice.profile ?? ''}\n${choice.roleArn ?? ''}`;
    let provider = this.cache.get(key);
    if (!provider) {
      const source = choice.profile ? fromIni({ profile: choice.profile }) : this.base;
      provider = choice.roleArn
        ? fromTemporaryCredentials({
            masterCredentials: source,
            params: { RoleArn: choice.roleArn, RoleSessionName: 'serverless-rollouts-analysis' },
          })
        : source;
      this.cache.set(key, provider);
    }
    return provider;
  }
}
