/** DynamoDB clients: the one place that knows how to reach AWS or DynamoDB Local. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LOCAL_ACCESS_KEY_ID, LOCAL_REGION } from './local-documents.js';

/**
 * DynamoDB Local accepts any credentials but the SDK insists on some, and on a region: these are
 * placeholders, so a developer's real AWS credentials are never sent to a local endpoint.
 */
export function localDynamoDbClient(
  endpoint: string,
  options: { maxAttempts?: number } = {},
): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: LOCAL_ACCESS_KEY_ID, secretAccessKey: 'local' },
    ...options,
  });
}

/** AWS, from the environment's region and credentials; `endpoint` overrides where it is (a VPC endpoint, a proxy). */
export function dynamoDbClient(endpoint?: string): DynamoDBClient {
  return new DynamoDBClient(endpoint ? { endpoint } : {});
}
