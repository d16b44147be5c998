/**
 * Secure and operational defaults shared by the Palimpsest constructs, kept in one place so a
 * review (or cdk-nag) sees every default together. Constructs take these as their `@default`s;
 * callers override through props, never by editing a construct.
 */
import { fileURLToPath } from "node:url";
import { Duration, Size } from "aws-cdk-lib";
import { RetentionDays } from "aws-cdk-lib/aws-logs";
import { CAPTURE_MESSAGE_RETENTION_MS } from "../../shared/domain/sweep.ts";

/** Absolute path of the repository root: handler entries and the npm lock file are resolved from it. */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Key prefix of the content-addressed blobs in the archive bucket. The S3 grants are scoped to it,
 * so the blob-store adapter must write under this prefix.
 */
export const BLOB_KEY_PREFIX = "blobs/";

export const DEFAULTS = {
  /** Function and API access logs: long enough to investigate an incident, short enough to be cheap. */
  logRetention: RetentionDays.ONE_MONTH,
  logLevel: "info",

  /**
   * Object Lock default retention of each evidence version. The deny policy on `blobs/` protects
   * evidence past it; the lock is what still holds if that policy is edited away.
   */
  evidenceRetention: Duration.days(3650),
  /**
   * Blobs move to S3 Intelligent-Tiering after a month: by then a capture's artifacts are read
   * rarely (a diff, a Memento), and the tier moves them back on the first read at no fee.
   */
  intelligentTieringAfter: Duration.days(30),
  abortIncompleteMultipartUploadAfter: Duration.days(7),
  /** Recovery points of the optional AWS Backup copy: a year, enforced by the vault lock. */
  backupRetention: Duration.days(365),
  /** CloudTrail log files of the archive's data events: a year of who wrote what. */
  trailRetention: Duration.days(365),

  /** A capture loads a page, settles it, screenshots it and stores it: minutes, not seconds. */
  captureFunctionTimeout: Duration.minutes(3),
  captureMemoryMiB: 2048,
  /** Chromium inflates itself (~300 MB) into /tmp; screenshots and the profile need room too. */
  captureEphemeralStorage: Size.gibibytes(2),
  captureMaxConcurrency: 10,
  /**
   * Browsers kept for people's captures (the interactive queue's mapping), beside the scheduled
   * queue's: enough for a newsroom's "Capture now" at a few a minute each, small enough not to
   * matter against the account's quota.
   */
  captureInteractiveMaxConcurrency: 5,
  captureNavigationTimeout: Duration.seconds(30),
  captureIdleTimeout: Duration.seconds(5),
  /** Chromium's largest texture; taller full-page screenshots are cropped to it. */
  screenshotMaxHeightPx: 16_384,

  /**
   * AWS guidance for Lambda-triggered queues: visibility ≥ 6 × the function timeout, so a
   * throttled or retried batch is not redelivered while a worker still holds it.
   */
  visibilityTimeoutFactor: 6,
  /** Deliveries before a capture message is parked in the dead-letter queue. */
  maxReceiveCount: 3,
  /**
   * SQS's longest: a capture may wait behind a backlog for days and still run. A capture whose
   * message outlived it is failed `expired` by the sweep (`CAPTURE_MESSAGE_RETENTION_MS`).
   */
  queueRetentionPeriod: Duration.millis(CAPTURE_MESSAGE_RETENTION_MS),
  /** The DLQ keeps messages longer than the source queue (expiry counts from the first enqueue). */
  deadLetterRetentionPeriod: Duration.days(14),
  /**
   * How long a dead-lettered message the dead-letter function failed on stays hidden: the interval
   * at which that function retries it (≥ 6 × its timeout, the AWS guidance for SQS event sources).
   */
  deadLetterVisibilityTimeout: Duration.minutes(5),

  /** Dead letters are rare; a full batch is still only ten small DynamoDB round trips. */
  deadLetterBatchSize: 10,
  /** The fewest pollers Lambda allows: a burst of dead letters must not crowd out the live path. */
  deadLetterMaxConcurrency: 2,
  deadLetterFunctionTimeout: Duration.seconds(30),
  /** A dead letter is normally recorded within seconds; one still there after this raises the alarm. */
  deadLetterAlarmAfter: Duration.minutes(15),

  /**
   * How often EventBridge Scheduler starts a sweep. Five minutes is below the adaptive cadence's
   * shortest step (15 min) with room for jitter, and a sweep that stopped early continues soon.
   */
  sweepInterval: Duration.minutes(5),
  /**
   * A sweep stops itself 20 s before its timeout and the next one continues; with the timeout
   * equal to the interval, sweeps follow each other without overlapping.
   */
  sweeperTimeout: Duration.minutes(5),
  /** Scheduler retries an invocation that failed to be delivered (throttling, service errors). */
  sweepRetryAttempts: 2,
  /** An undelivered sweep older than one interval is pointless: the next one is already due. */
  sweepMaxEventAge: Duration.minutes(5),
  /** Undelivered sweeps are diagnostics, not work: they wait for a human for two weeks. */
  sweepDeadLetterRetention: Duration.days(14),
  /** Consecutive five-minute periods with a failed sweep before the sweeper alarm fires. */
  sweeperFailingPeriods: 3,

  /** Alarms look at their metrics in five-minute periods (Lambda and SQS publish every minute). */
  alarmPeriod: Duration.minutes(5),
  /** Periods in a row a condition must last before its alarm fires: 15 minutes rides out blips. */
  alarmSustainedPeriods: 3,
  /**
   * Share of capture invocations that crash (timeout, out of memory, Chromium taking the runtime
   * down) at which the capture alarm fires. Single heavy pages crash now and then and are retried;
   * one in ten for 15 minutes is a broken worker, not a heavy page.
   */
  captureCrashAlarmPercent: 10,
  /**
   * Age of the oldest waiting capture at which the backlog alarm fires. A message retried twice is
   * about 2 × the 18-minute visibility timeout old, so an hour means captures are falling behind.
   */
  captureBacklogAlarmAfter: Duration.hours(1),
  /**
   * Share of finished captures recorded as failed (15 minutes, at least 5 captures a period) at
   * which the failure-rate alarm fires. Captures of hostile or dead pages fail for good reasons;
   * one in five across the archive is the archive failing, not the pages.
   */
  captureFailureAlarmPercent: 20,
  /** Fewest finished captures in a period for its failure rate to count (one failure is not a rate). */
  captureFailureAlarmMinCaptures: 5,
  /**
   * p99 capture duration, as a share of the function timeout, at which the duration alarm fires:
   * past it Lambda is about to kill captures before they can record why they stopped.
   */
  captureDurationAlarmPercent: 80,
  /**
   * The account's Lambda concurrency quota the concurrency alarm measures against (AWS's default;
   * say what Service Quotas grants after an increase).
   */
  accountConcurrencyQuota: 1_000,
  /** Share of that quota claimed (reserved plus in use) at which the concurrency alarm fires. */
  accountConcurrencyAlarmPercent: 80,
  /** Consecutive sweeps that stopped before the end of the due list before that alarm fires. */
  incompleteSweepAlarmPeriods: 3,
  /**
   * Consecutive five-minute periods in which every sweep was held by back-pressure before the
   * held-sweeps alarm fires: an hour of no new recaptures, on top of the hour the queue's oldest
   * message took to reach the default hold age.
   */
  sweepHeldAlarmPeriods: 12,
  /** Share of API requests answered 5xx (for 15 minutes) at which the API alarm fires. */
  apiServerErrorAlarmPercent: 5,

  /**
   * Web ACL rate limits per client IP, over WAF's five-minute window. The capture form's key-less
   * POSTs share one 1 request/s method throttle (300 per 5 minutes) among all visitors; 30 lets a
   * person submit one URL every 10 s while no single address can take more than a tenth of it.
   */
  firewallFormRateLimit: 30,
  /**
   * Any request: 3,000 per 5 minutes is 10 requests/s, the per-key usage-plan rate, so a key holder
   * running at full speed from one address is never cut off by the firewall; a flood from one
   * address is, before it eats the stage's 50 requests/s.
   */
  firewallRateLimit: 3_000,
  firewallRateWindow: Duration.minutes(5),

  /** EventBridge archive of ArticleEdited events, so a subscriber can replay what it missed. */
  editEventArchiveRetention: Duration.days(30),

  /**
   * A poll fetches one document, or up to six for a sitemap index (each fetch capped at 30 s), and
   * records what it found (a few hundred small writes at most): one job an invocation.
   */
  pollFunctionTimeout: Duration.minutes(4),
  /** Polls at once across the account: plain fetches, far lighter than captures. */
  pollMaxConcurrency: 5,
  /** Dead-lettered poll jobs waiting this long raise the poll alarm. */
  pollDeadLetterAlarmAfter: Duration.minutes(15),

  /** Any function unless its construct says otherwise (the API function keeps these). */
  functionTimeout: Duration.seconds(20),
  /** Lambda CPU scales with memory; 1 GB keeps cold starts of the bundled SDK short. */
  functionMemoryMiB: 1024,
  /** Presigned artifact links are short-lived by design. */
  presignedUrlTtl: Duration.minutes(15),
  /**
   * The public replay function's reserved (and capped) concurrency: a flood of its URL cannot take
   * the concurrency captures run on, and a few milliseconds per file serve many readers.
   */
  replayReservedConcurrency: 5,

  apiStageName: "prod",
  /** Stage-wide ceiling (all keys together). */
  apiThrottle: { rateLimit: 50, burstLimit: 100 },
  /** Per API key, through the usage plan. */
  usagePlanThrottle: { rateLimit: 10, burstLimit: 20 },
  usagePlanQuotaPerDay: 10_000,
  /**
   * Each key-less read method (web UI pages, feeds, Memento): no usage plan applies to them, so
   * each gets its own ceiling below the stage's, leaving room for key holders.
   */
  publicReadThrottle: { rateLimit: 20, burstLimit: 40 },
  /**
   * The key-less web form that submits captures: every submission costs a browser run, so it gets
   * a far lower ceiling than reads.
   */
  publicSubmitThrottle: { rateLimit: 1, burstLimit: 5 },
} as const;

/** LOG_LEVEL values the shared logger understands. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
