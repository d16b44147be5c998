import { Duration } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, Metric, Stats, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import { FilterPattern, type RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { loadSweepBackPressureConfig, loadSweepSpreadMs } from "../../shared/config.ts";
import { ENV } from "../../shared/env-names.ts";
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE } from "../../shared/metric-names.ts";
import type { ArchiveTable } from "./archive-table.ts";
import type { CaptureQueue } from "./capture-queue.ts";
import { DEFAULTS, type LogLevel } from "./defaults.ts";
import type { HostShaping } from "./host-shaping.ts";
import { PalimpsestFunction } from "./palimpsest-function.ts";
import type { PollQueue } from "./poll-queue.ts";

/**
 * The handler stops claiming this long before its deadline (`SAFETY_MARGIN_MS` in
 * `functions/sweeper/handler.ts`); a shorter timeout would leave it no time to sweep at all.
 */
const SWEEPER_SAFETY_MARGIN = Duration.seconds(20);
/** Below this, a sweep barely starts before it has to stop. */
const SWEEPER_MIN_TIMEOUT = Duration.minutes(1);
/** Lambda's error metrics are per minute; the alarm looks at them in five-minute periods. */
const ALARM_PERIOD = Duration.minutes(5);

/** Props of {@link SweeperFunction}. */
export interface SweeperFunctionProps {
  /** Query on the due index, conditional claims and queued capture records (nothing else). */
  readonly table: ArchiveTable;
  /** Send only: the claimed URLs are enqueued in batches. */
  readonly queue: CaptureQueue;
  /** Send only: one poll job per claimed source. */
  readonly pollQueue: PollQueue;
  /**
   * Per-host politeness: each re-capture it sends gets its host's start slot.
   * @default - the handlers' defaults
   */
  readonly hostShaping?: HostShaping;
  /**
   * How long each sweep spreads the captures already due over (`SWEEP_SPREAD_MS`, whole
   * milliseconds up to 15 minutes), so a sweep's batch reaches the queue evenly; zero sends each at
   * its host's slot. Keep it near the schedule's interval.
   * @default - the handler's default (5 minutes, one sweep interval)
   */
  readonly sweepSpread?: Duration;
  /**
   * Back-pressure: while the capture queue's oldest message (CloudWatch's
   * `ApproximateAgeOfOldestMessage`) is this old, sweeps claim no recaptures and leave them due
   * (`MAX_QUEUE_AGE_SECONDS`, whole seconds from 1 minute to 14 days). The age counts delayed and
   * in-flight messages, so it must be above the age an ordinarily retried capture reaches: 15
   * minutes of delay to its host's slot plus (maxReceiveCount − 1) × the queue's visibility timeout
   * (51 minutes with the queue's defaults); synth refuses less.
   * @default - the handler's default (1 hour, the capture backlog alarm's threshold)
   */
  readonly maxQueueAge?: Duration;
  /**
   * The back-pressure's fallback while the age is unknown (no datapoint yet, CloudWatch
   * unreachable): messages waiting or in flight (`MAX_QUEUE_DEPTH`).
   * @default - the handler's default (10,000)
   */
  readonly maxQueueDepth?: number;
  /**
   * At least a minute; the sweep stops itself 20 s before the end and the next one continues.
   * Keep it at most the schedule's interval so sweeps do not overlap (they would be safe, only
   * wasteful).
   * @default Duration.minutes(5)
   */
  readonly timeout?: Duration;
  /** @default 1024 */
  readonly memorySize?: number;
  /**
   * Reserve this many concurrent executions (and cap the sweeper at it). Off by default: overlaps
   * are safe (claims are conditional writes), and reserving takes from the account's unreserved
   * pool, which new accounts with a concurrency quota of 10 cannot give (the deploy would fail).
   * @default - unreserved
   */
  readonly reservedConcurrency?: number;
  /** @default true — see {@link PalimpsestFunctionProps.bundling} */
  readonly bundling?: boolean;
  /** @default "info" */
  readonly logLevel?: LogLevel;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/**
 * The sweeper (`functions/sweeper/handler.ts`), started by {@link SweepSchedule}: finds the sources
 * and URLs that are due through the sparse, sharded due index, claims each with a conditional
 * write, enqueues a poll job per source and records and enqueues a capture per URL. DynamoDB Query
 * on the due index, UpdateItem/PutItem/BatchWriteItem on the table, sqs:SendMessage on the
 * capture and poll queues and cloudwatch:GetMetricData (the capture queue's age, for
 * back-pressure); no S3, no events, no receive.
 */
export class SweeperFunction extends PalimpsestFunction {
  /**
   * In alarm when sweeps have failed in {@link DEFAULTS.sweeperFailingPeriods} consecutive
   * five-minute periods: due URLs are not being re-captured. (The service stack sends it to the
   * alarm topic.)
   */
  public readonly failingAlarm: Alarm;
  /**
   * In alarm when {@link DEFAULTS.incompleteSweepAlarmPeriods} sweeps in a row stopped before the
   * end of the due list (out of time): more is due each interval than one sweep can enqueue.
   */
  public readonly incompleteAlarm: Alarm;
  /**
   * In alarm when every sweep for {@link DEFAULTS.sweepHeldAlarmPeriods} five-minute periods was
   * held by back-pressure (`SweepHeld`, written by the handler): no new recaptures for that long.
   */
  public readonly heldAlarm: Alarm;

  constructor(scope: Construct, id: string, props: SweeperFunctionProps) {
    const timeout = props.timeout ?? DEFAULTS.sweeperTimeout;
    if (timeout.toSeconds() < SWEEPER_MIN_TIMEOUT.toSeconds()) {
      throw new Error(
        `SweeperFunction: timeout ${timeout.toHumanString()} is below ${SWEEPER_MIN_TIMEOUT.toHumanString()}; the sweep stops ${SWEEPER_SAFETY_MARGIN.toHumanString()} before its end.`,
      );
    }
    const reserved = props.reservedConcurrency;
    if (reserved !== undefined && (!Number.isInteger(reserved) || reserved < 1)) {
      throw new Error(`SweeperFunction: reservedConcurrency must be a positive integer, got ${reserved}.`);
    }
    const environment: Record<string, string> = {
      ...(props.sweepSpread === undefined
        ? {}
        : { [ENV.sweepSpreadMs]: String(props.sweepSpread.toMilliseconds()) }),
      ...(props.maxQueueAge === undefined
        ? {}
        : { [ENV.maxQueueAgeSeconds]: String(props.maxQueueAge.toSeconds({ integral: false })) }),
      ...(props.maxQueueDepth === undefined ? {} : { [ENV.maxQueueDepth]: String(props.maxQueueDepth) }),
    };
    // The handler parses them at cold start; parsing them here makes a bad value a synth error, and
    // so is a back-pressure age the queue's ordinary retries reach (sweeps would never claim).
    const redelivery = {
      maxReceiveCount: props.queue.maxReceiveCount,
      visibilityTimeoutMs: props.queue.visibilityTimeout.toMilliseconds(),
    };
    try {
      loadSweepSpreadMs(environment);
      loadSweepBackPressureConfig(environment, redelivery);
    } catch (err) {
      throw new Error(`SweeperFunction: ${(err as Error).message}`, { cause: err });
    }
    super(scope, id, {
      entry: "functions/sweeper/handler.ts",
      description: "Palimpsest sweeper: enqueues the URLs due for re-capture",
      bundling: props.bundling,
      memorySize: props.memorySize ?? DEFAULTS.functionMemoryMiB,
      timeout,
      logLevel: props.logLevel,
      logRetention: props.logRetention,
      reservedConcurrentExecutions: reserved,
      environment,
    });
    props.table.bindSweeper(this);
    props.queue.bindProducer(this);
    props.queue.bindExpirySweeper(this);
    props.pollQueue.bindProducer(this);
    // The queue's age for back-pressure. GetMetricData has no resource-level permissions.
    this.addToRolePolicy(new PolicyStatement({ actions: ["cloudwatch:GetMetricData"], resources: ["*"] }));
    props.hostShaping?.bindShaper(this);

    this.failingAlarm = new Alarm(this, "SweepsFailingAlarm", {
      alarmDescription:
        `Sweeps have failed for ${DEFAULTS.sweeperFailingPeriods * ALARM_PERIOD.toMinutes()} minutes: URLs ` +
        "due for re-capture are not being enqueued. Check the sweeper's logs (throttling, permissions, " +
        "configuration). Nothing is lost: due URLs stay due until a sweep succeeds.",
      metric: this.metricErrors({ period: ALARM_PERIOD, statistic: Stats.SUM }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: DEFAULTS.sweeperFailingPeriods,
      datapointsToAlarm: DEFAULTS.sweeperFailingPeriods,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    // The sweep logs one "sweep finished" line with its result (shared/domain/sweep.ts); the key of
    // the message is `msg` in the hand-written logger and `message` in Powertools'.
    const incomplete = this.logs.addMetricFilter("IncompleteSweepsFilter", {
      filterPattern: FilterPattern.literal(INCOMPLETE_SWEEP_PATTERN),
      // Beside the functions' own metrics, where the dashboard looks.
      metricNamespace: METRICS_NAMESPACE,
      metricName: "IncompleteSweeps",
      metricValue: "1",
    });
    const sweeps = DEFAULTS.incompleteSweepAlarmPeriods;
    this.incompleteAlarm = new Alarm(this, "SweepsIncompleteAlarm", {
      alarmDescription:
        `${sweeps} sweeps in a row ran out of time before the end of the due list: more URLs come due ` +
        "each interval than one sweep can claim and enqueue, so re-captures fall behind their schedule. " +
        "Check the sweeper's duration and the capture queue's back-pressure; raise the sweeper's " +
        "timeout or memory, or see SCALING.md.",
      metric: incomplete.metric({ period: ALARM_PERIOD, statistic: Stats.SUM }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: sweeps,
      datapointsToAlarm: sweeps,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    const heldPeriods = DEFAULTS.sweepHeldAlarmPeriods;
    this.heldAlarm = new Alarm(this, "SweepsHeldAlarm", {
      alarmDescription:
        `Back-pressure has held every sweep for ${heldPeriods * ALARM_PERIOD.toMinutes()} minutes: the capture ` +
        "queue's oldest message is past maxQueueAge (or, its age unknown, the queue past maxQueueDepth), so " +
        "no new re-captures are claimed and URLs fall behind their schedule (parked and pending captures " +
        "still go out). Check the capture backlog alarm, the capture function's errors and concurrency.",
      // Each sweep writes 0 or 1: a period's minimum of 1 means every sweep in it was held.
      metric: new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: METRIC.sweepHeld,
        dimensionsMap: { service: METRICS_SERVICE },
        statistic: Stats.MINIMUM,
        period: ALARM_PERIOD,
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: heldPeriods,
      datapointsToAlarm: heldPeriods,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}

/** CloudWatch Logs filter for a sweep that stopped before the end of the due list. */
export const INCOMPLETE_SWEEP_PATTERN =
  '{ ($.msg = "sweep finished" || $.message = "sweep finished") && $.complete IS FALSE }';
