/**
 * The one DynamoDB table, defined once for the CDK stack and the tests: a Rollout's state item,
 * its pending commands, its history and its push de-duplication markers share a partition.
 */
export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  /** Sparse: only Rollouts with something pending carry `dueShard`, so a pass reads only what is due. */
  dueIndex: { name: 'due', partitionKey: 'dueShard', sortKey: 'dueAt' },
  /** Sparse: Rollouts with a trigger, by normalised repository, for matching image pushes. */
  repositoryIndex: { name: 'repository', partitionKey: 'triggerRepository', sortKey: 'pk' },
} as const;

export const DUE_SHARD = 'DUE';

/** Sort keys: the state item sorts before its commands, which sort before history. */
export const SORT_KEYS = {
  state: '#STATE',
  commandPrefix: 'CMD#',
  historyPrefix: 'HIST#',
  dedupePrefix: 'PUSH#',
  /** An AnalysisTemplate's only item, in its own partition (templatePartition). */
  template: '#TEMPLATE',
} as const;

export function rolloutPartition(cluster: string, namespace: string, name: string): string {
  return `ROLLOUT#${cluster}/${namespace}/${name}`;
}

/** `kind/namespace/name` from templateKey: templates live beside Rollouts in the same table. */
export function templatePartition(templateKey: string): string {
  return `TEMPLATE#${templateKey}`;
}

/** CreateTable input for DynamoDB Local and scripts; the CDK stack builds the same shape. */
export function createTableInput(tableName: string) {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [
      { AttributeName: TABLE.partitionKey, AttributeType: 'S' as const },
      { AttributeName: TABLE.sortKey, AttributeType: 'S' as const },
      { AttributeName: TABLE.dueIndex.partitionKey, AttributeType: 'S' as const },
      { AttributeName: TABLE.dueIndex.sortKey, AttributeType: 'N' as const },
      { AttributeName: TABLE.repositoryIndex.partitionKey, AttributeType: 'S' as const },
    ],
    KeySchema: [
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: TABLE.dueIndex.name,
        KeySchema: [
          { AttributeName: TABLE.dueIndex.partitionKey, KeyType: 'HASH' as const },
          { AttributeName: TABLE.dueIndex.sortKey, KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' as const },
      },
      {
        IndexName: TABLE.repositoryIndex.name,
        KeySchema: [
          { AttributeName: TABLE.repositoryIndex.partitionKey, KeyType: 'HASH' as const },
          { AttributeName: TABLE.repositoryIndex.sortKey, KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' as const },
      },
    ],
  };
}
