import { Duration } from "aws-cdk-lib";
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Stats,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import type { ArchiveTable } from "./archive-table.ts";
import type { CaptureQueue } from "./capture-queue.ts";
import { DEFAULTS, type LogLevel } from "./defaults.ts";
import { PalimpsestFunction } from "./palimpsest-function.ts";

/** SQS publishes queue metrics once a minute; the alarm looks at them in five-minute periods. */
const ALARM_PERIOD_MINUTES = 5;

/** Props of {@link DeadLetterFunction}. */
export interface DeadLetterFunctionProps {
  /** GetItem and UpdateItem only: reads each dead-lettered capture and finishes it as failed. */
  readonly table: ArchiveTable;
  /**
   * The function consumes the dead-letter queue both capture queues (scheduled and interactive)
   * share, and may send to no queue.
   */
  readonly queue: CaptureQueue;
  /**
   * Messages per invocation, 1–10.
   * @default 10
   */
  readonly batchSize?: number;
  /**
   * Most concurrent invocations the dead-letter queue drives, 2–1000.
   * @default 2
   */
  readonly maxConcurrency?: number;
  /**
   * Must fit within the dead-letter queue's visibility timeout.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /** @default 1024 */
  readonly memorySize?: number;
  /**
   * How long a dead letter may stay in the queue before {@link DeadLetterFunction.backlogAlarm}
   * fires: a multiple of 5 minutes, at most one day.
   * @default Duration.minutes(15)
   */
  readonly alarmAfter?: Duration;
  /** @default true — see {@link PalimpsestFunctionProps.bundling} */
  readonly bundling?: boolean;
  /** @default "info" */
  readonly logLevel?: LogLevel;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/**
 * The dead-letter consumer (`functions/dead-letter/handler.ts`): when SQS gives up on a capture
 * message, records that capture as failed with a reason, so no accepted capture stays `queued` or
 * `running` forever. DynamoDB GetItem and UpdateItem on the table only — no index, no S3, and no send to either queue, so it cannot
 * feed a message back into the capture path. A message it fails on stays in the dead-letter queue
 * (retried every few minutes, kept for its retention period) and raises {@link backlogAlarm}.
 */
export class DeadLetterFunction extends PalimpsestFunction {
  /**
   * In alarm when the dead-letter queue has not been empty for `alarmAfter`: this function is
   * failing or not running, so those captures are not yet recorded as failed (or captures keep
   * being dead-lettered). The service stack sends it to the alarm topic.
   */
  public readonly backlogAlarm: Alarm;

  constructor(scope: Construct, id: string, props: DeadLetterFunctionProps) {
    const alarmAfter = props.alarmAfter ?? DEFAULTS.deadLetterAlarmAfter;
    const alarmPeriods = alarmAfter.toSeconds({ integral: false }) / (ALARM_PERIOD_MINUTES * 60);
    // CloudWatch evaluates at most one day of data.
    if (
      !Number.isInteger(alarmPeriods) ||
      alarmPeriods < 1 ||
      alarmPeriods * ALARM_PERIOD_MINUTES > 24 * 60
    ) {
      throw new Error(
        `DeadLetterFunction: alarmAfter must be a multiple of ${ALARM_PERIOD_MINUTES} minutes up to one day, got ${alarmAfter.toHumanString()}.`,
      );
    }
    super(scope, id, {
      entry: "functions/dead-letter/handler.ts",
      description: "Palimpsest dead-letter consumer: records given-up captures as failed",
      bundling: props.bundling,
      memorySize: props.memorySize ?? DEFAULTS.functionMemoryMiB,
      timeout: props.timeout ?? DEFAULTS.deadLetterFunctionTimeout,
      logLevel: props.logLevel,
      logRetention: props.logRetention,
    });
    props.table.bindDeadLetterRecorder(this);
    props.queue.bindDeadLetterConsumer(this, {
      ...(props.batchSize === undefined ? {} : { batchSize: props.batchSize }),
      ...(props.maxConcurrency === undefined ? {} : { maxConcurrency: props.maxConcurrency }),
    });

    // Visible plus in flight: a message this function keeps failing on is hidden (in flight) most
    // of the time, so NumberOfMessagesVisible alone would miss it; ApproximateAgeOfOldestMessage
    // skips messages received three times or more, which is exactly the stuck kind.
    const dlq = props.queue.deadLetterQueue;
    const period = { period: Duration.minutes(ALARM_PERIOD_MINUTES), statistic: Stats.MAXIMUM };
    this.backlogAlarm = new Alarm(this, "DeadLettersNotDrainedAlarm", {
      alarmDescription:
        `The capture dead-letter queue has not been empty for ${alarmAfter.toHumanString()} (it takes the dead letters of both capture queues): the ` +
        "dead-letter function is failing or not running (those captures still show queued or running), " +
        "or captures keep being dead-lettered. Check the dead-letter and capture functions' logs; the " +
        "queue keeps its messages for its retention period and the function retries them.",
      metric: new MathExpression({
        expression: "visible + inFlight",
        usingMetrics: {
          visible: dlq.metricApproximateNumberOfMessagesVisible(period),
          inFlight: dlq.metricApproximateNumberOfMessagesNotVisible(period),
        },
        label: "Dead letters not yet recorded",
        period: period.period,
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: alarmPeriods,
      datapointsToAlarm: alarmPeriods,
      // SQS stops publishing for a queue that has been empty for hours: no data means no dead letters.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
