import { Annotations, Duration, type Size } from "aws-cdk-lib";
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  Stats,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { Architecture } from "aws-cdk-lib/aws-lambda";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Queue } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { loadCaptureConfig, loadProbeConfig } from "../../shared/config.ts";
import { parseCadence } from "../../shared/domain/schedule.ts";
import { ENV } from "../../shared/env-names.ts";
import { METRICS_NAMESPACE } from "../../shared/metric-names.ts";
import type { ArchiveBucket } from "./archive-bucket.ts";
import type { ArchiveTable } from "./archive-table.ts";
import type { CaptureQueue } from "./capture-queue.ts";
import { DEFAULTS, type LogLevel } from "./defaults.ts";
import type { EditEvents } from "./edit-events.ts";
import { PalimpsestFunction, type PalimpsestFunctionProps } from "./palimpsest-function.ts";

/**
 * Shipped in the asset's node_modules, not bundled: `@sparticuz/chromium` inflates the browser from
 * the brotli archives in its own `bin/`, and `playwright-core` loads its own files (package.json,
 * protocol definitions) by path at run time, which a bundle breaks.
 */
const UNBUNDLED_PACKAGES = ["@sparticuz/chromium", "playwright-core"] as const;

/**
 * How the capture function is bundled (exported for the test that builds this bundle and checks
 * it). Not minified: the capturer hands functions to Chromium as source text (`page.evaluate`,
 * `addInitScript`). Minifying needs `keepNames` to keep error classes' names, and keepNames wraps
 * functions in `__name()` calls, a bundle helper the page does not have, so those functions would
 * throw there. Unminified, names survive without it; the extra size is nothing beside Chromium.
 */
export const CAPTURE_BUNDLING = {
  minify: false,
  nodeModules: UNBUNDLED_PACKAGES,
  // Imported by the worker itself: the role's credentials from a container endpoint.
  bundledCredentialProviders: ["@aws-sdk/credential-provider-http"],
} as const satisfies Pick<PalimpsestFunctionProps, "minify" | "nodeModules" | "bundledCredentialProviders">;

/** Below this, Chromium on Lambda starts slowly and crashes on heavy pages. */
const CHROMIUM_MIN_MEMORY_MIB = 1536;
/** Chromium and its libraries inflate to ~300 MB in /tmp. */
const CHROMIUM_MIN_EPHEMERAL_MIB = 1024;
/**
 * What the function timeout must leave beyond the capture's own cap: a cold start's browser launch
 * (outside the cap), extraction, storing the artifacts and recording the outcome.
 */
const AFTER_CAPTURE_MS = 30_000;

/** Props of {@link CaptureFunction}. */
export interface CaptureFunctionProps {
  /** Read/write: claims captures, commits versions. */
  readonly table: ArchiveTable;
  /** Blob writer: stores artifacts under `blobs/`. */
  readonly bucket: ArchiveBucket;
  /**
   * The function consumes both of its queues (scheduled and interactive) and sends to neither:
   * politeness is decided before a message is queued (`shared/domain/host-shaping.ts`), so no
   * capture is re-sent to wait for its host.
   */
  readonly queue: CaptureQueue;
  /**
   * Where flagged edits are announced (`ArticleEdited` events).
   * @default - no events are published
   */
  readonly editEvents?: EditEvents;
  /**
   * Most concurrent captures (browsers) the queue drives, 2–1000: the archive's capture throughput.
   * Planned at 10 s a capture (the scale simulation's figure, BENCHMARKS.md *Scale*;
   * `TYPICAL_CAPTURE_MS`), 10 sustain about 1 capture a second; ten million a day (116 a second)
   * need about 1,160 on average and 3,500 at peak, past this mapping's 1,000 (SCALING.md). Each
   * is a concurrent Lambda execution out of the account's quota (1,000 by default, 10 on some new
   * accounts): raise the quota in Service Quotas first, keeping room for the API, the sweeper and
   * the poll function, then this (and the account concurrency alarm's quota). This is the
   * scheduled queue's mapping; people's captures have `interactiveMaxConcurrency` on top.
   * @default 10
   */
  readonly maxConcurrency?: number;
  /**
   * Most concurrent captures the interactive queue (people's captures: `POST /v1/captures`, the
   * form, "Capture now") drives, 2–1000, on top of `maxConcurrency`: a person's capture starts as
   * soon as its host's slot comes, however long the scheduled backlog. The function's peak is the
   * sum of the two; count both against the account's quota.
   * @default 5
   */
  readonly interactiveMaxConcurrency?: number;
  /** @default 2048 */
  readonly memorySize?: number;
  /**
   * Must fit within the queue's visibility timeout.
   * @default Duration.minutes(3)
   */
  readonly timeout?: Duration;
  /** @default Size.gibibytes(2) */
  readonly ephemeralStorageSize?: Size;
  /** Cap on the page navigation. @default Duration.seconds(30) */
  readonly navigationTimeout?: Duration;
  /** Cap on waiting for network idle after load. @default Duration.seconds(5) */
  readonly idleTimeout?: Duration;
  /**
   * Cap on one whole capture in the browser (`CAPTURE_TOTAL_TIMEOUT_MS`): longer than
   * `navigationTimeout`, and at least 30 s shorter than `timeout`.
   * @default - the handler's default (90 s)
   */
  readonly captureTimeout?: Duration;
  /** Full-page screenshot height cap in CSS pixels. @default 16384 */
  readonly screenshotMaxHeightPx?: number;
  /**
   * The adaptive re-capture curve, `RECAPTURE_CADENCE` syntax (`"3h:15m,1d:1h,…"`); the worker uses
   * it to schedule a URL's next capture. Give the API function the same value.
   * @default - the handler's default curve
   */
  readonly recaptureCadence?: string;
  /**
   * Age of the oldest capture waiting in a capture queue at which {@link CaptureFunction.backlogAlarm}
   * (scheduled) or {@link CaptureFunction.interactiveBacklogAlarm} fires: whole minutes, from 5
   * minutes to 14 days.
   * @default Duration.hours(1)
   */
  readonly backlogAlarmAfter?: Duration;
  /**
   * HTTP probes of scheduled recaptures (README "Recaptures without a browser"): `PROBE`,
   * `PROBE_BROWSER_EVERY`, `PROBE_BROWSER_MAX_AGE_MS`, `PROBE_TIMEOUT_MS`, each set only when given.
   * @default - the handler's defaults: on, the browser every 10th recapture or after 24 h, 10 s cap
   */
  readonly probe?: CaptureProbeProps;
  /** @default true — see {@link PalimpsestFunctionProps.bundling} */
  readonly bundling?: boolean;
  /** @default "info" */
  readonly logLevel?: LogLevel;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/** Props of {@link CaptureFunctionProps.probe}; ranges are `loadProbeConfig`'s, checked at synth. */
export interface CaptureProbeProps {
  /** Whether scheduled recaptures start with an HTTP probe. @default true */
  readonly enabled?: boolean;
  /** Every this many recaptures of a URL, one uses the browser (1–1000). @default 10 */
  readonly browserEvery?: number;
  /** A recapture whose URL's last browser capture is this old uses the browser. @default Duration.hours(24) */
  readonly browserMaxAge?: Duration;
  /** Cap on the probe's GET, redirects included; past it, the browser captures. @default Duration.seconds(10) */
  readonly timeout?: Duration;
}

/** The probe's variables, only those the props give (the handler's defaults are the rest). */
function probeEnvironment(probe: CaptureProbeProps | undefined): Record<string, string> {
  if (!probe) return {};
  return {
    ...(probe.enabled === undefined ? {} : { [ENV.probe]: probe.enabled ? "on" : "off" }),
    ...(probe.browserEvery === undefined ? {} : { [ENV.probeBrowserEvery]: String(probe.browserEvery) }),
    ...(probe.browserMaxAge === undefined
      ? {}
      : { [ENV.probeBrowserMaxAgeMs]: String(probe.browserMaxAge.toMilliseconds()) }),
    ...(probe.timeout === undefined ? {} : { [ENV.probeTimeoutMs]: String(probe.timeout.toMilliseconds()) }),
  };
}

/**
 * The capture handler's outcome metric, as `shared/metrics.ts` writes it: one `Captures` datum per
 * handled message, dimensions `service` and `outcome`. The outcomes that end a capture.
 */
export const CAPTURE_OUTCOME_METRIC = {
  metricName: "Captures",
  service: "palimpsest",
  failed: "failed",
  finished: ["changed", "unchanged", "failed"],
} as const;

/** SQS keeps a message at most 14 days; an older backlog cannot exist. */
const MAX_BACKLOG_ALARM_AFTER = Duration.days(14);

/**
 * The capture worker (`functions/capture/handler.ts`): Chromium via `@sparticuz/chromium` and
 * `playwright-core`, triggered by both capture queues (scheduled and interactive, a mapping and a
 * concurrency cap each) one message at a time with partial batch failure reporting. DynamoDB read/write (captures, versions, URLs), blob writes and PutEvents on
 * the edits bus; it cannot send to any queue, so it cannot loop through its own.
 */
export class CaptureFunction extends PalimpsestFunction {
  /**
   * In alarm when, for 15 minutes, at least {@link DEFAULTS.captureCrashAlarmPercent} % of the
   * invocations crashed (timed out, ran out of memory, lost the runtime with Chromium, failed to
   * start). A capture that merely fails is an outcome the worker records, not a crash.
   */
  public readonly crashingAlarm: Alarm;
  /**
   * In alarm when the oldest capture in the queue has waited `backlogAlarmAfter`: captures are not
   * keeping up with submissions and sweeps (the worker is failing, throttled or capped too low).
   */
  public readonly backlogAlarm: Alarm;
  /**
   * In alarm when the oldest capture in the interactive queue has waited `backlogAlarmAfter`:
   * people's captures are not being taken (the worker is failing or throttled, or
   * `interactiveMaxConcurrency` is too low for the people using the archive).
   */
  public readonly interactiveBacklogAlarm: Alarm;
  /**
   * In alarm when, for 15 minutes, at least {@link DEFAULTS.captureFailureAlarmPercent} % of the
   * captures that ended were recorded as failed (from the handler's `Captures` metric).
   */
  public readonly failureRateAlarm: Alarm;
  /**
   * In alarm when, for 15 minutes, the slowest 1% of invocations ran past
   * {@link DEFAULTS.captureDurationAlarmPercent} % of the timeout: Lambda is about to kill captures
   * before they record why they stopped.
   */
  public readonly durationAlarm: Alarm;

  constructor(scope: Construct, id: string, props: CaptureFunctionProps) {
    const timeout = props.timeout ?? DEFAULTS.captureFunctionTimeout;
    const navigationTimeout = props.navigationTimeout ?? DEFAULTS.captureNavigationTimeout;
    const idleTimeout = props.idleTimeout ?? DEFAULTS.captureIdleTimeout;
    const screenshotMaxHeightPx = props.screenshotMaxHeightPx ?? DEFAULTS.screenshotMaxHeightPx;
    // The page budget must leave time to screenshot, extract, store and record the outcome;
    // otherwise Lambda kills the worker and the capture never ends with a reason.
    if (navigationTimeout.toMilliseconds() + idleTimeout.toMilliseconds() >= timeout.toMilliseconds()) {
      throw new Error(
        `CaptureFunction: navigationTimeout + idleTimeout must be shorter than the function timeout (${timeout.toHumanString()}).`,
      );
    }
    const environment = {
      // The egress proxy's exemptions exist for local test sites only; on AWS there are none.
      [ENV.allowPrivateHosts]: "",
      [ENV.navigationTimeoutMs]: String(navigationTimeout.toMilliseconds()),
      [ENV.idleTimeoutMs]: String(idleTimeout.toMilliseconds()),
      [ENV.screenshotMaxHeightPx]: String(screenshotMaxHeightPx),
      ...(props.captureTimeout === undefined
        ? {}
        : { [ENV.captureTotalTimeoutMs]: String(props.captureTimeout.toMilliseconds()) }),
      ...(props.recaptureCadence === undefined ? {} : { [ENV.recaptureCadence]: props.recaptureCadence }),
      ...probeEnvironment(props.probe),
    };
    // The handler parses these at cold start (with CAPTURE_MAX_ATTEMPTS, which the queue's
    // bindConsumer sets); parsing them here makes a bad value a synth error, with no second copy
    // of the ranges.
    let totalTimeoutMs: number;
    try {
      ({ totalTimeoutMs } = loadCaptureConfig({
        ...environment,
        [ENV.captureMaxAttempts]: String(props.queue.maxReceiveCount),
      }));
      parseCadence(environment[ENV.recaptureCadence]);
      loadProbeConfig(environment);
    } catch (err) {
      throw new Error(`CaptureFunction: ${(err as Error).message}`, { cause: err });
    }
    // Past its own cap a capture fails with `timeout` and says so; were Lambda to kill the worker
    // first, the attempt would end with no reason recorded.
    if (totalTimeoutMs + AFTER_CAPTURE_MS > timeout.toMilliseconds()) {
      throw new Error(
        `CaptureFunction: the capture cap (${totalTimeoutMs / 1000} s) must be at least ${AFTER_CAPTURE_MS / 1000} s shorter than the function timeout (${timeout.toHumanString()}).`,
      );
    }
    const backlogAlarmAfter = props.backlogAlarmAfter ?? DEFAULTS.captureBacklogAlarmAfter;
    const backlogMinutes = backlogAlarmAfter.toMinutes({ integral: false });
    if (
      !Number.isInteger(backlogMinutes) ||
      backlogMinutes < 5 ||
      backlogAlarmAfter.toSeconds() > MAX_BACKLOG_ALARM_AFTER.toSeconds()
    ) {
      throw new Error(
        `CaptureFunction: backlogAlarmAfter must be whole minutes from 5 minutes to 14 days, got ${backlogAlarmAfter.toHumanString()}.`,
      );
    }
    const memorySize = props.memorySize ?? DEFAULTS.captureMemoryMiB;
    const ephemeralStorageSize = props.ephemeralStorageSize ?? DEFAULTS.captureEphemeralStorage;
    super(scope, id, {
      entry: "functions/capture/handler.ts",
      description: "Palimpsest capture worker (Chromium)",
      bundling: props.bundling,
      ...CAPTURE_BUNDLING,
      // @sparticuz/chromium ships one Chromium build, for x86_64.
      architecture: Architecture.X86_64,
      memorySize,
      timeout,
      ephemeralStorageSize,
      logLevel: props.logLevel,
      logRetention: props.logRetention,
      environment,
    });
    if (memorySize < CHROMIUM_MIN_MEMORY_MIB) {
      Annotations.of(this).addWarningV2(
        "palimpsest:capture-memory",
        `memorySize ${memorySize} MB is below ${CHROMIUM_MIN_MEMORY_MIB} MB; Chromium may crash on heavy pages.`,
      );
    }
    if (ephemeralStorageSize.toMebibytes() < CHROMIUM_MIN_EPHEMERAL_MIB) {
      Annotations.of(this).addWarningV2(
        "palimpsest:capture-ephemeral-storage",
        `ephemeralStorageSize is below ${CHROMIUM_MIN_EPHEMERAL_MIB} MiB; Chromium inflates into /tmp.`,
      );
    }
    props.table.bindReadWrite(this);
    props.bucket.bindBlobWriter(this);
    props.queue.bindConsumer(this, {
      maxConcurrency: props.maxConcurrency ?? DEFAULTS.captureMaxConcurrency,
      interactiveMaxConcurrency: props.interactiveMaxConcurrency ?? DEFAULTS.captureInteractiveMaxConcurrency,
    });
    props.editEvents?.bindPublisher(this);

    const period = DEFAULTS.alarmPeriod;
    const periods = DEFAULTS.alarmSustainedPeriods;
    const crashPercent = DEFAULTS.captureCrashAlarmPercent;
    this.crashingAlarm = new Alarm(this, "CapturesCrashingAlarm", {
      alarmDescription:
        `At least ${crashPercent}% of the capture worker's invocations have crashed for ${periods * period.toMinutes()} ` +
        "minutes: timeouts, out-of-memory kills, Chromium taking the runtime down, or a cold start " +
        "that fails (configuration, a broken bundle). Those captures are retried and then dead-lettered " +
        "as failed. Check the capture function's logs and its Duration and memory against its limits.",
      metric: new MathExpression({
        // Lambda publishes Errors (0 included) for every minute with invocations.
        expression: "IF(invocations > 0, 100 * errors / invocations, 0)",
        usingMetrics: {
          errors: this.metricErrors({ period, statistic: Stats.SUM }),
          invocations: this.metricInvocations({ period, statistic: Stats.SUM }),
        },
        label: "Crashed invocations (%)",
        period,
      }),
      threshold: crashPercent,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    // A message that fails is redelivered after the visibility timeout; before its last delivery it
    // has legitimately waited that long for every earlier one.
    const retriedAge = (props.queue.maxReceiveCount - 1) * props.queue.visibilityTimeout.toSeconds();
    if (backlogAlarmAfter.toSeconds() <= retriedAge) {
      Annotations.of(this).addWarningV2(
        "palimpsest:capture-backlog-alarm",
        `backlogAlarmAfter (${backlogAlarmAfter.toHumanString()}) is not above the age a retried capture reaches (${Duration.seconds(retriedAge).toHumanString()}): the backlog alarm will fire on ordinary retries.`,
      );
    }
    const outcome = (name: string) =>
      new Metric({
        // Where the capture handler writes it (shared/metrics.ts); the dashboard reads the same.
        namespace: METRICS_NAMESPACE,
        metricName: CAPTURE_OUTCOME_METRIC.metricName,
        dimensionsMap: { service: CAPTURE_OUTCOME_METRIC.service, outcome: name },
        statistic: Stats.SUM,
        period,
      });
    const failurePercent = DEFAULTS.captureFailureAlarmPercent;
    const minCaptures = DEFAULTS.captureFailureAlarmMinCaptures;
    const finished = Object.fromEntries(CAPTURE_OUTCOME_METRIC.finished.map((name) => [name, outcome(name)]));
    this.failureRateAlarm = new Alarm(this, "CaptureFailureRateAlarm", {
      alarmDescription:
        `At least ${failurePercent}% of the captures that ended in each of the last ${periods * period.toMinutes()} ` +
        `minutes were recorded as failed (periods with at least ${minCaptures} captures). Pages fail one ` +
        "by one for their own reasons; this many means the archive is failing: egress blocked, a storage " +
        "or table fault, a bad deploy, or outlets refusing the browser. Check the CaptureFailures metric " +
        "by code and the capture function's logs.",
      metric: new MathExpression({
        expression: `IF((${CAPTURE_OUTCOME_METRIC.finished.join(" + ")}) >= ${minCaptures}, 100 * ${CAPTURE_OUTCOME_METRIC.failed} / (${CAPTURE_OUTCOME_METRIC.finished.join(" + ")}), 0)`,
        usingMetrics: finished,
        label: "Captures recorded as failed (%)",
        period,
      }),
      threshold: failurePercent,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      // The handler writes the metric only when it handles a message: no data, no captures.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const durationPercent = DEFAULTS.captureDurationAlarmPercent;
    this.durationAlarm = new Alarm(this, "CaptureDurationNearTimeoutAlarm", {
      alarmDescription:
        `The slowest 1% of capture invocations ran longer than ${durationPercent}% of the function's ` +
        `${timeout.toHumanString()} timeout in each of the last ${periods * period.toMinutes()} minutes: Lambda will ` +
        "soon kill captures before they record why they stopped (they are retried, then dead-lettered). " +
        "Check which step is slow in the captures' timings (navigation, settling, storing), and the " +
        "capture cap (captureTimeout) against the timeout.",
      metric: this.metricDuration({ period, statistic: "p99" }),
      threshold: Math.round((timeout.toMilliseconds() * durationPercent) / 100),
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    const backlogAlarm = (alarmId: string, queue: Queue, description: string) =>
      new Alarm(this, alarmId, {
        alarmDescription: description,
        metric: queue.metricApproximateAgeOfOldestMessage({ period, statistic: Stats.MAXIMUM }),
        threshold: backlogAlarmAfter.toSeconds(),
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        // SQS stops publishing for a queue that has been empty for hours: no data means no backlog.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    this.backlogAlarm = backlogAlarm(
      "CaptureBacklogAlarm",
      props.queue.queue,
      `A capture has waited in the scheduled capture queue for ${backlogAlarmAfter.toHumanString()}: ` +
        "captures are falling behind sweeps and polls. The capture worker is failing, throttled, or its " +
        "maxConcurrency is too low for the load. Check the capture function's errors and " +
        "throttles, and the queue's depth.",
    );
    this.interactiveBacklogAlarm = backlogAlarm(
      "InteractiveCaptureBacklogAlarm",
      props.queue.interactiveQueue,
      `A capture a person asked for has waited in the interactive capture queue for ${backlogAlarmAfter.toHumanString()}: ` +
        "people's captures are not being taken. The capture worker is failing, throttled, or its " +
        "interactiveMaxConcurrency is too low for the people using the archive. Check the capture " +
        "function's errors and throttles, and the interactive queue's depth.",
    );
  }
}
