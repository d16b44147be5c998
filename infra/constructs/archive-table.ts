import { RemovalPolicy } from "aws-cdk-lib";
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  Stats,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { AttributeType, BillingMode, ProjectionType, Table } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import {
  SOURCE_CLAIM_KEY_PREFIX,
  SOURCE_KEY_PREFIX,
  TABLE_INDEXES,
  TABLE_KEY,
} from "../../shared/adapters/table-schema.ts";
import { ENV } from "../../shared/env-names.ts";
import { DEFAULTS } from "./defaults.ts";

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

/** What one kind of function may do on the table: actions on the table, and the indexes it queries. */
export interface TableAccessGrant {
  readonly tableActions: readonly string[];
  readonly queriedIndexes: readonly string[];
  /**
   * DeleteItem only on items whose partition key starts with one of these (IAM's
   * `dynamodb:LeadingKeys`). @default - no delete
   */
  readonly deletableKeyPrefixes?: readonly string[];
}

/**
 * The API function's reads and the writes of a submission (the URL record, the queued capture, a
 * capture failed at once, a URL's re-capture policy) and of following sources; Query on the table
 * (a URL's versions) and on the per-URL captures (GSI2) and archive-wide listings (GSI3). Delete
 * only a source's own items (unfollowing), never an archive record; no batch write, no due index.
 * A test derives these from the handler's bundle: a new repository call fails it until it is
 * granted here.
 */
export const API_TABLE_ACCESS: TableAccessGrant = {
  tableActions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
  queriedIndexes: ["GSI2", "GSI3"],
  deletableKeyPrefixes: [SOURCE_KEY_PREFIX, SOURCE_CLAIM_KEY_PREFIX],
};

/**
 * The dead-letter function reads a capture and finishes it as failed: GetItem and UpdateItem on
 * the table, no index (derived from its bundle by the same test).
 */
export const DEAD_LETTER_TABLE_ACCESS: TableAccessGrant = {
  tableActions: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
  queriedIndexes: [],
};

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
  /**
   * In alarm when reads or writes have been throttled in each of the last 15 minutes: one per
   * target, the table (`"table"`) and each index by name. On-demand tables throttle when one
   * partition passes 1,000 writes or 3,000 reads a second, and a throttled index throttles the
   * table's writes too.
   */
  public readonly throttleAlarms: ReadonlyMap<string, Alarm>;

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
    const alarms = new Map<string, Alarm>();
    alarms.set("table", this.throttleAlarm("TableThrottledAlarm", "the table", {}));
    for (const { indexName } of TABLE_INDEXES) {
      alarms.set(
        indexName,
        this.throttleAlarm(`${indexName}ThrottledAlarm`, `index ${indexName}`, {
          GlobalSecondaryIndexName: indexName,
        }),
      );
    }
    this.throttleAlarms = alarms;
  }

  private throttleAlarm(id: string, what: string, dimensions: Record<string, string>): Alarm {
    const period = DEFAULTS.alarmPeriod;
    const periods = DEFAULTS.alarmSustainedPeriods;
    const events = (metricName: string) =>
      new Metric({
        namespace: "AWS/DynamoDB",
        metricName,
        dimensionsMap: { TableName: this.table.tableName, ...dimensions },
        statistic: Stats.SUM,
        period,
      });
    return new Alarm(this, id, {
      alarmDescription:
        `DynamoDB has throttled ${what} in each of the last ${periods * period.toMinutes()} minutes: one ` +
        "partition takes more than 1,000 writes or 3,000 reads a second (a hot key), or the account's " +
        "table throughput quota is reached. The SDK retries, so captures slow down before they fail. " +
        "Check CloudWatch Contributor Insights for the hot keys, and SCALING.md for the sharding of " +
        "the constant index keys.",
      metric: new MathExpression({
        expression: "reads + writes",
        usingMetrics: { reads: events("ReadThrottleEvents"), writes: events("WriteThrottleEvents") },
        label: `Throttle events on ${what}`,
        period,
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      // DynamoDB publishes throttle events only when there are some.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
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

  /** Sets `TABLE_NAME` on `fn` and grants what the API handler sends ({@link API_TABLE_ACCESS}). */
  public bindApi(fn: LambdaFunction): void {
    fn.addEnvironment(ENV.tableName, this.table.tableName);
    this.grant(fn, API_TABLE_ACCESS.tableActions, API_TABLE_ACCESS.queriedIndexes);
    const prefixes = API_TABLE_ACCESS.deletableKeyPrefixes ?? [];
    if (prefixes.length > 0) {
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ["dynamodb:DeleteItem"],
          resources: [this.table.tableArn],
          // Every leading (partition) key the request names must match: no archive record can go.
          conditions: {
            "ForAllValues:StringLike": { "dynamodb:LeadingKeys": prefixes.map((prefix) => `${prefix}*`) },
          },
        }),
      );
    }
  }

  /**
   * Sets `TABLE_NAME` on `fn` and grants what recording a dead-lettered capture as failed sends
   * ({@link DEAD_LETTER_TABLE_ACCESS}).
   */
  public bindDeadLetterRecorder(fn: LambdaFunction): void {
    fn.addEnvironment(ENV.tableName, this.table.tableName);
    this.grant(fn, DEAD_LETTER_TABLE_ACCESS.tableActions, DEAD_LETTER_TABLE_ACCESS.queriedIndexes);
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
    if (queriedIndexes.length === 0) return;
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ["dynamodb:Query"],
        resources: queriedIndexes.map((name) => `${this.table.tableArn}/index/${name}`),
      }),
    );
  }
}
