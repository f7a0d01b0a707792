/** Every item a table holds, to assert that a refused request changed nothing. */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { RolloutStore } from '../../lib/adapters/dynamodb/repository.js';
import { dynamoClient } from './runner-harness.js';

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
