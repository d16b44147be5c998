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
import { loadPollConfig } from "../../shared/config.ts";
import { ENV } from "../../shared/env-names.ts";
import type { ArchiveTable } from "./archive-table.ts";
import type { CaptureQueue } from "./capture-queue.ts";
import { DEFAULTS, type LogLevel } from "./defaults.ts";
import type { HostShaping } from "./host-shaping.ts";
import { PalimpsestFunction } from "./palimpsest-function.ts";
import type { PollQueue } from "./poll-queue.ts";

/** Props of {@link PollFunction}. */
export interface PollFunctionProps {
  /** Read/write: sources, the URLs they find, captures, and the per-host politeness items. */
  readonly table: ArchiveTable;
  /** Send only: each new article is submitted as a capture (and the queue's depth read for back-pressure). */
  readonly captureQueue: CaptureQueue;
  /**
   * The function consumes this queue and never sends to it: a poll whose host is busy goes back on
   * its source's schedule (the sweeper sends it), so there is no loop through its own trigger.
   */
  readonly pollQueue: PollQueue;
  /**
   * Most polls at once, 2–1000.
   * @default 5
   */
  readonly maxConcurrency?: number;
  /**
   * Captures waiting in the capture queue at which a poll submits no more (it records
   * `queue_full`); the service stack gives it the API's value.
   * @default - the handler's default (10,000)
   */
  readonly maxQueueDepth?: number;
  /** @default Duration.minutes(4); at most the poll queue's visibility timeout */
  readonly timeout?: Duration;
  /** @default 1024 */
  readonly memorySize?: number;
  /**
   * Per-host politeness, shared with the API and the sweeper: the shaping of the captures a poll
   * submits, and the gate that spaces polls of one host (HOST_MAX_CONCURRENCY, HOST_MIN_GAP_MS).
   * @default - the handlers' defaults
   */
  readonly hostShaping?: HostShaping;
  /** @default true — see {@link PalimpsestFunctionProps.bundling} */
  readonly bundling?: boolean;
  /** @default "info" */
  readonly logLevel?: LogLevel;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/** SQS publishes queue metrics once a minute; the alarm looks at them in five-minute periods. */
const ALARM_PERIOD = Duration.minutes(5);

/**
 * The poll worker (`functions/poll/handler.ts`): one source's poll per invocation, a plain guarded
 * HTTP fetch with no Chromium, so a small function. DynamoDB read/write, send to the capture queue
 * (new articles), consume the poll queue (never send to it); no S3, no events. Its egress follows the capture's URL guard: no private address, ALLOW_PRIVATE_HOSTS
 * empty.
 */
export class PollFunction extends PalimpsestFunction {
  /**
   * In alarm when poll jobs have sat in the dead-letter queue for
   * {@link DEFAULTS.pollDeadLetterAlarmAfter}: polls crash (a bug, throttling, permissions), so new
   * articles are found late. Sources lose nothing: each comes due again and is polled.
   */
  public readonly deadLetteredAlarm: Alarm;

  constructor(scope: Construct, id: string, props: PollFunctionProps) {
    const timeout = props.timeout ?? DEFAULTS.pollFunctionTimeout;
    const environment = {
      [ENV.allowPrivateHosts]: "",
      ...(props.maxQueueDepth === undefined ? {} : { [ENV.maxQueueDepth]: String(props.maxQueueDepth) }),
    };
    // The handler parses these at cold start; parsing them here makes a bad value a synth error.
    try {
      loadPollConfig({ ...environment, ...props.hostShaping?.environment });
    } catch (err) {
      throw new Error(`PollFunction: ${(err as Error).message}`, { cause: err });
    }
    super(scope, id, {
      entry: "functions/poll/handler.ts",
      description: "Palimpsest poll worker: reads a followed source and submits its new articles",
      bundling: props.bundling,
      memorySize: props.memorySize ?? DEFAULTS.functionMemoryMiB,
      timeout,
      logLevel: props.logLevel,
      logRetention: props.logRetention,
      environment,
    });
    props.table.bindReadWrite(this);
    props.captureQueue.bindProducer(this);
    props.pollQueue.bindConsumer(this, {
      maxConcurrency: props.maxConcurrency ?? DEFAULTS.pollMaxConcurrency,
    });
    props.hostShaping?.bindShaper(this);

    const periods = DEFAULTS.pollDeadLetterAlarmAfter.toMinutes() / ALARM_PERIOD.toMinutes();
    const dlq = props.pollQueue.deadLetterQueue;
    this.deadLetteredAlarm = new Alarm(this, "PollsDeadLetteredAlarm", {
      alarmDescription:
        `Poll jobs have waited in the poll dead-letter queue for ${DEFAULTS.pollDeadLetterAlarmAfter.toMinutes()} minutes: ` +
        "polls of followed sources crash (check the poll function's logs for errors, throttling or " +
        "permissions). Sources lose nothing: each comes due again. Purge the dead-letter queue once fixed.",
      metric: new MathExpression({
        expression: "visible + hidden",
        usingMetrics: {
          visible: dlq.metricApproximateNumberOfMessagesVisible({
            period: ALARM_PERIOD,
            statistic: Stats.MAXIMUM,
          }),
          hidden: dlq.metricApproximateNumberOfMessagesNotVisible({
            period: ALARM_PERIOD,
            statistic: Stats.MAXIMUM,
          }),
        },
        label: "Dead-lettered poll jobs",
        period: ALARM_PERIOD,
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
