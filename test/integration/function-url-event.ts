/** The event a Lambda Function URL delivers (payload format 2.0), and every item a table holds. */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import { dynamoClient } from './runner-harness.js';

export function functionUrlEvent(
  method: string,
  path: string,
  body: string,
  headers: Record<string, string> = {},
  base64 = false,
) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      host: 'abcdefg.lambda-url.us-east-1.on.aws',
      'user-agent': 'GitHub-Hookshot/abc',
      ...headers,
    },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefg',
      domainName: 'abcdefg.lambda-url.us-east-1.on.aws',
      domainPrefix: 'abcdefg',
      http: {
        method,
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '140.82.115.1',
        userAgent: 'GitHub-Hookshot/abc',
      },
      requestId: 'a1b2c3',
      routeKey: '$default',
      stage: '$default',
      time: '25/Nov/2026:22:00:00 +0000',
      timeEpoch: 1764108000000,
    },
    ...(body ? { body: base64 ? Buffer.from(body).toString('base64') : body } : {}),
    isBase64Encoded: base64,
  };
}

/** Every item of the store's table (Rollouts, commands, de-duplication keys), in a stable order. */
export async function tableItems(store: RolloutStore): Promise<string[]> {
  const items: string[] = [];
  let start: Record<string, any> | undefined;
  do {
    const page = await dynamoClient().send(
      new ScanCommand({ TableName: store.tableName, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    items.push(...(page.Items ?? []).map((item) => JSON.stringify(item)));
    start = page.LastEvaluatedKey;
  } while (start);
  return items.sort();
}
