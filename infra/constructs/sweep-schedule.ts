import { Annotations, type Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, Stats, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import {
  ContextAttribute,
  type IScheduleTarget,
  Schedule,
  ScheduleExpression,
  ScheduleTargetInput,
  TimeWindow,
} from "aws-cdk-lib/aws-scheduler";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { DEFAULTS } from "./defaults.ts";

/** Scheduler's limits on a target's retry policy. */
const MAX_RETRY_ATTEMPTS = 185;
const MIN_EVENT_AGE_SECONDS = 60;
const MAX_EVENT_AGE_SECONDS = 86_400;
/** Lambda's bounds on how long an asynchronous invocation may wait in its internal queue. */
const LAMBDA_MAX_EVENT_AGE_SECONDS = 6 * 3600;

/** Props of {@link SweepSchedule}. */
export interface SweepScheduleProps {
  /** The function each run invokes (asynchronously) with `{"time": <scheduled time>}`. */
  readonly sweeper: LambdaFunction;
  /**
   * Time between runs, in whole minutes.
   * @default Duration.minutes(5)
   */
  readonly interval?: Duration;
  /**
   * How often Scheduler retries a run it could not deliver (throttling, service errors), 0–185.
   * @default 2
   */
  readonly retryAttempts?: number;
  /**
   * How long Scheduler keeps trying to deliver a run, 1 minute to 1 day.
   * @default Duration.minutes(5)
   */
  readonly maxEventAge?: Duration;
  /**
   * How long the dead-letter queue keeps runs Scheduler gave up on.
   * @default Duration.days(14)
   */
  readonly deadLetterRetention?: Duration;
  /**
   * Create the schedule enabled. A disabled schedule sweeps nothing until enabled (console, CLI).
   * @default true
   */
  readonly enabled?: boolean;
}

/**
 * The EventBridge Scheduler schedule that starts a sweep every few minutes: a fixed rate with no
 * flexible window, the scheduled time as the sweep's clock (`{"time":"<aws.scheduler.scheduled-time>"}`),
 * a retry policy and a dead-letter queue for runs that could not be delivered, and an execution
 * role that may invoke the sweeper and write to that queue, nothing else.
 *
 * Scheduler invokes Lambda asynchronously, so its retry policy covers delivery only. What happens
 * after delivery is set on the sweeper's asynchronous invocation config here: no Lambda retries
 * and events dropped after one interval, because the next run is the retry (a failed or missed
 * sweep leaves its URLs due, and claims are conditional, so nothing is lost or doubled). A failing
 * sweeper shows in the sweeper's own alarm; undelivered runs in {@link undeliveredAlarm}.
 */
export class SweepSchedule extends Construct {
  /** The schedule. */
  public readonly schedule: Schedule;
  /** Runs that Scheduler could not deliver after its retries. */
  public readonly deadLetterQueue: Queue;
  /** The role Scheduler assumes to invoke the sweeper (and to write to the dead-letter queue). */
  public readonly role: Role;
  /** In alarm when a run was dead-lettered (the service stack sends it to the alarm topic). */
  public readonly undeliveredAlarm: Alarm;

  constructor(scope: Construct, id: string, props: SweepScheduleProps) {
    super(scope, id);
    const interval = props.interval ?? DEFAULTS.sweepInterval;
    const retryAttempts = props.retryAttempts ?? DEFAULTS.sweepRetryAttempts;
    const maxEventAge = props.maxEventAge ?? DEFAULTS.sweepMaxEventAge;
    const intervalMinutes = interval.toMinutes({ integral: false });
    if (!Number.isInteger(intervalMinutes) || intervalMinutes < 1) {
      throw new Error(
        `SweepSchedule: interval must be a whole number of minutes, got ${interval.toHumanString()}.`,
      );
    }
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > MAX_RETRY_ATTEMPTS) {
      throw new Error(
        `SweepSchedule: retryAttempts must be an integer in 0..${MAX_RETRY_ATTEMPTS}, got ${retryAttempts}.`,
      );
    }
    const maxEventAgeSeconds = maxEventAge.toSeconds();
    if (maxEventAgeSeconds < MIN_EVENT_AGE_SECONDS || maxEventAgeSeconds > MAX_EVENT_AGE_SECONDS) {
      throw new Error(
        `SweepSchedule: maxEventAge must be between 1 minute and 1 day, got ${maxEventAge.toHumanString()}.`,
      );
    }
    const sweeperTimeout = props.sweeper.timeout;
    if (sweeperTimeout && sweeperTimeout.toSeconds() > interval.toSeconds()) {
      Annotations.of(this).addWarningV2(
        "palimpsest:sweep-overlap",
        `The sweeper's timeout (${sweeperTimeout.toHumanString()}) is longer than the interval (${interval.toHumanString()}): long sweeps will overlap. That is safe (claims are conditional) but wasteful.`,
      );
    }

    this.deadLetterQueue = new Queue(this, "DeadLetterQueue", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: props.deadLetterRetention ?? DEFAULTS.sweepDeadLetterRetention,
      // Undelivered runs are diagnostics; the work itself stays due in the table.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: "AwsSolutions-SQS3",
      reason: "This queue is itself a dead-letter queue (of the sweep schedule).",
    });

    const stack = Stack.of(this);
    this.role = new Role(this, "InvokeRole", {
      description: "EventBridge Scheduler: invoke the Palimpsest sweeper",
      // Only schedules of this account's default group may assume it (confused-deputy guard).
      assumedBy: new ServicePrincipal("scheduler.amazonaws.com", {
        conditions: {
          StringEquals: {
            "aws:SourceAccount": stack.account,
            "aws:SourceArn": stack.formatArn({
              service: "scheduler",
              resource: "schedule-group",
              resourceName: "default",
            }),
          },
        },
      }),
    });
    this.role.addToPolicy(
      new PolicyStatement({ actions: ["lambda:InvokeFunction"], resources: [props.sweeper.functionArn] }),
    );
    this.role.addToPolicy(
      new PolicyStatement({ actions: ["sqs:SendMessage"], resources: [this.deadLetterQueue.queueArn] }),
    );

    const target: IScheduleTarget = {
      bind: () => ({
        arn: props.sweeper.functionArn,
        role: this.role,
        input: ScheduleTargetInput.fromObject({ time: ContextAttribute.scheduledTime }),
        retryPolicy: { maximumRetryAttempts: retryAttempts, maximumEventAgeInSeconds: maxEventAgeSeconds },
        deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
      }),
    };
    this.schedule = new Schedule(this, "Schedule", {
      description: "Palimpsest: sweep the URLs due for re-capture",
      schedule: ScheduleExpression.rate(interval),
      // Sweeps should start on the beat: a flexible window only spreads load, and there is one schedule.
      timeWindow: TimeWindow.off(),
      target,
      enabled: props.enabled ?? true,
    });

    props.sweeper.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: interval.toSeconds() > LAMBDA_MAX_EVENT_AGE_SECONDS ? undefined : interval,
    });

    this.undeliveredAlarm = new Alarm(this, "UndeliveredSweepsAlarm", {
      alarmDescription:
        "EventBridge Scheduler could not invoke the Palimpsest sweeper and dead-lettered a run. " +
        "Check the messages in the schedule's dead-letter queue: their attributes carry the error " +
        "(permissions, throttling, a deleted function). Nothing is lost, due URLs stay due, but none " +
        "is re-captured until runs are delivered again.",
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: Stats.MAXIMUM }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
