import { RemovalPolicy } from "aws-cdk-lib";
import { AttributeType, BillingMode, ProjectionType, Table } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import { TABLE_INDEXES, TABLE_KEY } from "../../shared/adapters/table-schema.ts";
import { ENV } from "../../shared/env-names.ts";

/**
 * What the repository adapter (`shared/adapters/dynamo-*.ts`) sends: Get/Query to read,
 * Put/Update/Delete/BatchWrite to write. A test maps every command those files send onto these
 * lists, so a new kind of call cannot ship without its permission. No Scan: the archive is never
 * scanned, and the grant makes sure of it.
 */
export const TABLE_READ_ACTIONS = ["dynamodb:GetItem", "dynamodb:Query"] as const;
export const TABLE_WRITE_ACTIONS = [
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
] as const;

/** The sparse index of URLs due for re-capture (GSI1 in `table-schema.ts`): all the sweeper reads. */
export const DUE_INDEX_NAME = "GSI1";

/** Props of {@link ArchiveTable}. */
export interface ArchiveTableProps {
  /**
   * Continuous backups with point-in-time restore for the last 35 days.
   * @default true
   */
  readonly pointInTimeRecovery?: boolean;
  /**
   * Refuse DeleteTable, whoever asks (CloudFormation included).
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * What happens to the table when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The single DynamoDB table of the archive (URLs, versions, captures) with the three sparse GSIs.
 * Keys and index names come from `shared/adapters/table-schema.ts`, which the repository adapter
 * and the local runner also use, so the three cannot drift.
 *
 * Access goes through the bind methods, which set `TABLE_NAME` and grant on the table and its
 * indexes in one call.
 */
export class ArchiveTable extends Construct {
  /** The underlying table. */
  public readonly table: Table;

  constructor(scope: Construct, id: string, props: ArchiveTableProps = {}) {
    super(scope, id);
    const deletionProtection = props.deletionProtection ?? true;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    if (deletionProtection && removalPolicy === RemovalPolicy.DESTROY) {
      throw new Error(
        "ArchiveTable: removalPolicy DESTROY contradicts deletionProtection: true (the delete would fail).",
      );
    }

    this.table = new Table(this, "Table", {
      partitionKey: { name: TABLE_KEY.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEY.sortKey, type: AttributeType.STRING },
      // Capture traffic is bursty (submissions, sweeps); on-demand needs no capacity planning.
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: props.pointInTimeRecovery ?? true },
      deletionProtection,
      removalPolicy,
    });
    for (const index of TABLE_INDEXES) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        // Listings (captures of a URL, recent edits) render whole records; the due index carries
        // only what the sweeps read, so each claim rewrites a small entry (table-schema.ts).
        ...("include" in index
          ? { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: [...index.include] }
          : { projectionType: ProjectionType.ALL }),
      });
    }
  }

  /**
   * Sets `TABLE_NAME` on `fn` and grants the repository's reads and writes on the table, and Query
   * on each of its indexes (named one by one: no `index/*`).
   */
  public bindReadWrite(fn: LambdaFunction): void {
    fn.addEnvironment(ENV.tableName, this.table.tableName);
    this.grant(
      fn,
      [...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS],
      TABLE_INDEXES.map((i) => i.indexName),
    );
  }

  /** Sets `TABLE_NAME` on `fn` and grants the repository's reads on the table and its indexes. */
  public bindReadOnly(fn: LambdaFunction): void {
    fn.addEnvironment(ENV.tableName, this.table.tableName);
    this.grant(
      fn,
      [...TABLE_READ_ACTIONS],
      TABLE_INDEXES.map((i) => i.indexName),
    );
  }

  /**
   * Lets `fn` sweep due URLs: sets `TABLE_NAME` and grants Query on the due index only, UpdateItem
   * (the conditional claim that moves a URL's next time forward, and the host schedules),
   * PutItem/BatchWriteItem (the queued capture records) and GetItem (a pending capture whose lease
   * ended, and a host's schedule). No DeleteItem, no other index.
   */
  public bindSweeper(fn: LambdaFunction): void {
    fn.addEnvironment(ENV.tableName, this.table.tableName);
    this.grant(
      fn,
      ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:BatchWriteItem"],
      [DUE_INDEX_NAME],
    );
  }

  private grant(
    fn: LambdaFunction,
    tableActions: readonly string[],
    queriedIndexes: readonly string[],
  ): void {
    fn.addToRolePolicy(new PolicyStatement({ actions: [...tableActions], resources: [this.table.tableArn] }));
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ["dynamodb:Query"],
        resources: queriedIndexes.map((name) => `${this.table.tableArn}/index/${name}`),
      }),
    );
  }
}
