/** The Documents port on the AWS SDK's document client (marshalling, retries, signing as AWS does them). */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Documents, Item } from './documents.js';

export function sdkDocuments(client: DynamoDBClient): Documents {
  const documents = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const page = ({ Items, LastEvaluatedKey }: { Items?: Item[]; LastEvaluatedKey?: Item }) => ({
    items: Items ?? [],
    ...(LastEvaluatedKey ? { next: LastEvaluatedKey } : {}),
  });
  return {
    get: async (input) => (await documents.send(new GetCommand(input))).Item,
    query: async (input) => page(await documents.send(new QueryCommand(input))),
    scan: async (input) => page(await documents.send(new ScanCommand(input))),
    update: async (input) => (await documents.send(new UpdateCommand(input))).Attributes,
    transactWrite: async (items) => {
      await documents.send(new TransactWriteCommand({ TransactItems: items }));
    },
  };
}
