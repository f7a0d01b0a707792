/** Analysis args from AWS Secrets Manager (valueFrom.secretsManager), read when a measurement is taken. */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretReader } from '../../app/runner/ports.js';

export class SecretsManagerReader implements SecretReader {
  /**
   * `namePrefix`: the only secrets templates may name (the runner's IAM policy allows no others);
   * checked here too, so a template naming another secret gets a clear error, not AccessDenied.
   */
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly namePrefix?: string,
  ) {}

  async read(secretId: string): Promise<string> {
    if (this.namePrefix !== undefined && !secretName(secretId).startsWith(this.namePrefix))
      throw new Error(`secret ${secretId} is outside the runner's secret prefix '${this.namePrefix}'`);
    const { SecretString } = await this.client.send(new GetSecretValueCommand({ SecretId: secretId }));
    // A binary secret cannot fill a text argument: say so instead of substituting nothing.
    if (SecretString === undefined)
      throw new Error(`secret ${secretId} has no SecretString (binary secrets are not supported)`);
    return SecretString;
  }
}

/** The secret's name from a name or an ARN (`arn:aws:secretsmanager:region:account:secret:name-suffix`). */
function secretName(secretId: string): string {
  const marker = ':secret:';
  return secretId.startsWith('arn:') && secretId.includes(marker)
    ? secretId.slice(secretId.indexOf(marker) + marker.length)
    : secretId;
}
