/**
 * The port between the stores and DynamoDB: the five operations they use, on plain JavaScript
 * items (DynamoDB's document form). Two adapters implement it: the AWS SDK's document client
 * (`sdk-documents.ts`: AWS, and every long-running process) and a small JSON-over-HTTP client for
 * DynamoDB Local (`local-documents.ts`: the CLI in local mode, which must start in well under a
 * second and cannot afford the SDK's load time). Only types come from the SDK here, so the port
 * loads nothing.
 */
import type {
  GetCommandInput,
  QueryCommandInput,
  ScanCommandInput,
  TransactWriteCommandInput,
  UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';

export type Item = Record<string, unknown>;
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** One page of a query or scan; `next` is where the following page starts, absent on the last. */
export interface Page {
  items: Item[];
  next?: Item;
}

export interface Documents {
  get(input: GetCommandInput): Promise<Item | undefined>;
  query(input: QueryCommandInput): Promise<Page>;
  scan(input: ScanCommandInput): Promise<Page>;
  /** The item's attributes afterwards when `ReturnValues` asks for them. */
  update(input: UpdateCommandInput): Promise<Item | undefined>;
  transactWrite(items: TransactItem[]): Promise<void>;
}

/** Every item of a query or scan, page after page. */
export async function allItems(read: (start: Item | undefined) => Promise<Page>): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await read(start);
    items.push(...page.items);
    start = page.next;
  } while (start);
  return items;
}

/** A write's condition failed (DynamoDB's exception, known by name whichever adapter threw it). */
export function isConditionFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/**
 * A transaction was cancelled: the code of each of its items, in order ('None' for those that
 * passed), or undefined when `error` is anything else.
 */
export function cancellationCodes(error: unknown): (string | undefined)[] | undefined {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return undefined;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.map((reason) => reason.Code);
}
