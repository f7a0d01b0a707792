/** The DynamoDB table every function shares: Rollout state, commands and history, with the store's indexes. */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLE } from '../../lib/adapters/dynamodb/table.js';

export interface StateTableOptions {
  /** RETAIN unless said otherwise: deleting the stack must not delete in-flight rollouts' state. */
  removalPolicy?: RemovalPolicy;
}

export class StateTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, options: StateTableOptions = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: TABLE.ttlAttribute,
      removalPolicy: options.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    // The logical ID the table had before the stack was split into constructs: a new one would
    // make CloudFormation create a second, empty table and orphan the retained one.
    (this.table.node.defaultChild as dynamodb.CfnTable).overrideLogicalId('TableCD117FA1');
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE.dueIndex.name,
      partitionKey: { name: TABLE.dueIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE.dueIndex.sortKey, type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE.repositoryIndex.name,
      partitionKey: { name: TABLE.repositoryIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE.repositoryIndex.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
  }

  get tableName(): string {
    return this.table.tableName;
  }

  /** The table and the named indexes: what a function that queries them needs in its policy. */
  arns(...indexes: string[]): string[] {
    return [this.table.tableArn, ...indexes.map((name) => `${this.table.tableArn}/index/${name}`)];
  }
}
