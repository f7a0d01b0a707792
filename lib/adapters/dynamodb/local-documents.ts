/**
 * The Documents port for DynamoDB Local, as plain JSON over HTTP: DynamoDB's wire protocol, one
 * POST per operation. The CLI uses it in local mode, where it must answer in a few hundred
 * milliseconds and the AWS SDK alone takes longer than that to load. DynamoDB Local checks that a
 * request names credentials and a region (it keeps one database per pair) but not its signature,
 * so the request carries the same placeholders as `localDynamoDbClient` and no real signature:
 * nothing secret is ever sent, and this client cannot reach AWS at all. AWS itself is always
 * reached through the SDK (`sdk-documents.ts`).
 */
import { request } from 'node:http';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Documents, Item, Page } from './documents.js';

/** The placeholders every local client presents, so all of them see the same tables. */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCESS_KEY_ID = 'local';

type Wire = Record<string, unknown>;

/** An error DynamoDB Local returned, named as DynamoDB names it (ConditionalCheckFailedException, ...). */
export class DynamoDbLocalError extends Error {
  constructor(
    name: string,
    message: string,
    readonly statusCode: number,
    readonly CancellationReasons?: { Code?: string; Message?: string }[],
  ) {
    super(message);
    this.name = name;
  }
}

export function localDocuments(endpoint: string): Documents {
  const url = new URL(endpoint);
  if (url.protocol !== 'http:')
    throw new Error(`DynamoDB Local endpoint ${endpoint}: expected an http:// address on this machine`);
  const call = (operation: string, input: Wire) => send(url, operation, input);
  const page = (output: Wire): Page => ({
    items: ((output.Items as Wire[] | undefined) ?? []).map(toItem),
    ...(output.LastEvaluatedKey ? { next: toItem(output.LastEvaluatedKey as Wire) } : {}),
  });
  return {
    get: async (input) => {
      const { Item } = await call('GetItem', toWire(input));
      return Item ? toItem(Item as Wire) : undefined;
    },
    query: async (input) => page(await call('Query', toWire(input))),
    scan: async (input) => page(await call('Scan', toWire(input))),
    update: async (input) => {
      const { Attributes } = await call('UpdateItem', toWire(input));
      return Attributes ? toItem(Attributes as Wire) : undefined;
    },
    transactWrite: async (items) => {
      await call('TransactWriteItems', {
        TransactItems: items.map((item) =>
          Object.fromEntries(Object.entries(item).map(([kind, operation]) => [kind, toWire(operation)])),
        ),
      });
    },
  };
}

/** The attributes that hold items or values, in DynamoDB's typed form; the rest pass as they are. */
const ITEM_FIELDS = ['Key', 'Item', 'ExpressionAttributeValues', 'ExclusiveStartKey'];

function toWire(input: object): Wire {
  return Object.fromEntries(
    Object.entries(input)
      .filter(([, value]) => value !== undefined)
      .map(([field, value]) => [
        field,
        ITEM_FIELDS.includes(field) ? marshall(value, { removeUndefinedValues: true }) : value,
      ]),
  );
}

function toItem(wire: Wire): Item {
  return unmarshall(wire as Parameters<typeof unmarshall>[0]);
}

function send(url: URL, operation: string, input: Wire): Promise<Wire> {
  const body = JSON.stringify(input);
  const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'content-length': Buffer.byteLength(body),
          'x-amz-target': `DynamoDB_20120810.${operation}`,
          'x-amz-date': date,
          authorization: `AWS4-HMAC-SHA256 Credential=${LOCAL_ACCESS_KEY_ID}/${date.slice(0, 8)}/${LOCAL_REGION}/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=${'0'.repeat(64)}`,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let output: Wire;
          try {
            output = text ? (JSON.parse(text) as Wire) : {};
          } catch {
            reject(
              new Error(
                `DynamoDB Local at ${url.origin}: ${operation} answered ${res.statusCode} with ${text.slice(0, 200)}`,
              ),
            );
            return;
          }
          if (res.statusCode === 200) resolve(output);
          else reject(localError(url, operation, res.statusCode ?? 0, output));
        });
      },
    );
    req.on('error', (error) =>
      reject(new Error(`DynamoDB Local at ${url.origin}: ${operation}: ${error.message}`, { cause: error })),
    );
    req.end(body);
  });
}

function localError(url: URL, operation: string, status: number, output: Wire): DynamoDbLocalError {
  const name = String(output.__type ?? 'DynamoDbLocalError')
    .split('#')
    .pop() as string;
  const message = String(output.message ?? output.Message ?? `${operation} answered ${status}`);
  return new DynamoDbLocalError(
    name,
    `DynamoDB Local at ${url.origin}: ${operation}: ${message}`,
    status,
    output.CancellationReasons as DynamoDbLocalError['CancellationReasons'],
  );
}
