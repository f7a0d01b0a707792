/** The Secrets Manager adapter behind analysis args with valueFrom.secretsManager. */
import { describe, expect, it } from '@jest/globals';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { SecretsManagerReader } from '../../lib/adapters/aws/secrets.js';

describe('SecretsManagerReader', () => {
  it('reads the SecretString with exactly one GetSecretValue for the secret id', async () => {
    const client = new SecretsManagerClient({ region: 'eu-west-1' });
    const mock = mockClient(client);
    mock.on(GetSecretValueCommand).resolves({ SecretString: '{"token":"abc"}' });
    const reader = new SecretsManagerReader(client, 'rollouts/');
    await expect(reader.read('rollouts/metrics')).resolves.toBe('{"token":"abc"}');
    expect(mock.calls().map((call) => call.args[0].input)).toEqual([{ SecretId: 'rollouts/metrics' }]);
  });

  it('accepts an ARN whose secret name is under the prefix', async () => {
    const client = new SecretsManagerClient({ region: 'eu-west-1' });
    const mock = mockClient(client);
    mock.on(GetSecretValueCommand).resolves({ SecretString: 'x' });
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rollouts/metrics-AbCdEf';
    await expect(new SecretsManagerReader(client, 'rollouts/').read(arn)).resolves.toBe('x');
    expect(mock.calls().map((call) => call.args[0].input)).toEqual([{ SecretId: arn }]);
  });

  it('refuses a secret outside the prefix without calling AWS, naming both', async () => {
    const client = new SecretsManagerClient({ region: 'eu-west-1' });
    const mock = mockClient(client);
    await expect(new SecretsManagerReader(client, 'rollouts/').read('prod/db')).rejects.toThrow(
      "secret prod/db is outside the runner's secret prefix 'rollouts/'",
    );
    expect(mock.calls()).toHaveLength(0);
  });

  it('says a binary secret cannot fill an argument', async () => {
    const client = new SecretsManagerClient({ region: 'eu-west-1' });
    mockClient(client)
      .on(GetSecretValueCommand)
      .resolves({ SecretBinary: new Uint8Array([1]) });
    await expect(new SecretsManagerReader(client).read('rollouts/bin')).rejects.toThrow(
      'secret rollouts/bin has no SecretString (binary secrets are not supported)',
    );
  });
});
