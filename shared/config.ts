/**
 * Configuration, parsed once at cold start. Resource names have no defaults: a missing one is a
 * deployment bug and fails fast with a message that names the variable.
 */

import { type RedeliveryLimits, retriedMessageAgeMs } from "./domain/back-pressure.ts";
import { CAPTURE_MESSAGE_RETENTION_MS } from "./domain/queue-retention.ts";
import { type CadenceStep, parseCadence } from "./domain/schedule.ts";
import { ENV, METRICS_NAMESPACE } from "./env-names.ts";
import { ConfigError } from "./errors.ts";

type Env = Record<string, string | undefined>;

export function requireString(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === "") {
    throw new ConfigError(`Environment variable ${name} must be set.`);
  }
  return value.trim();
}

export function optionalInt(
  env: Env,
  name: string,
  fallback: number,
  range: { min: number; max: number },
): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw new ConfigError(
      `Environment variable ${name} must be an integer from ${range.min} to ${range.max}, not "${raw}".`,
    );
  }
  return value;
}

function optionalString(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

export interface StorageConfig {
  tableName: string;
  bucketName: string;
  /** Set only when talking to S3-compatible servers other than AWS (the local runner). */
  s3Endpoint?: string;
  dynamodbEndpoint?: string;
}

export function loadStorageConfig(env: Env = process.env): StorageConfig {
  return {
    tableName: requireString(env, ENV.tableName),
    bucketName: requireString(env, ENV.bucketName),
    s3Endpoint: optionalString(env, ENV.s3Endpoint),
    dynamodbEndpoint: optionalString(env, ENV.dynamodbEndpoint),
  };
}

/** Only the table: for functions that never touch the bucket (sweeper, dead-letter). */
export function loadTableConfig(
  env: Env = process.env,
): Pick<StorageConfig, "tableName" | "dynamodbEndpoint"> {
  return {
    tableName: requireString(env, ENV.tableName),
    dynamodbEndpoint: optionalString(env, ENV.dynamodbEndpoint),
  };
}

export interface ApiConfig {
  presignedUrlTtlSeconds: number;
  /** New captures are refused with 429 while this many wait. */
  maxQueueDepth: number;
  allowPrivateHosts: string | undefined;
  /** Locally, auth is off unless API_KEY is set; on AWS, API Gateway checks keys. */
  apiKey: string | undefined;
  /** Browser origins allowed to call the API (`["*"]` for any); undefined turns CORS off. */
  corsAllowOrigins: readonly string[] | undefined;
  /**
   * Whether the web UI's forms may follow, pause and remove sources and set noise rules. Off where the API function
   * cannot check the key a browser would have to give (on AWS, API Gateway holds the keys).
   */
  sourceForms: boolean;
  /**
   * Where readers reach the API (`https://archive.example.org`, or with a path prefix), without a
   * trailing slash: the base of the absolute links in feeds and Memento headers. Undefined: on
   * AWS the domain API Gateway was reached at; locally the runner's own address.
   */
  publicBaseUrl: string | undefined;
  /**
   * The replay origin (`https://replay.example.org`): where the version pages embed ReplayWeb.page
   * to replay a WACZ. It must be another origin than the API's, since replays run archived scripts.
   * Undefined: the pages offer the WACZ download but no replay (the local runner sets its own).
   */
  publicReplayUrl: string | undefined;
}

export function loadApiConfig(env: Env = process.env): ApiConfig {
  return {
    presignedUrlTtlSeconds: optionalInt(env, ENV.presignedUrlTtlSeconds, 900, { min: 1, max: 3600 }),
    maxQueueDepth: optionalInt(env, ENV.maxQueueDepth, 10_000, { min: 1, max: 10_000_000 }),
    allowPrivateHosts: optionalString(env, ENV.allowPrivateHosts),
    apiKey: optionalString(env, ENV.apiKey),
    corsAllowOrigins: parseCorsOrigins(optionalString(env, ENV.corsAllowOrigins)),
    sourceForms: parseOnOff(env, ENV.sourceForms, true),
    publicBaseUrl: parsePublicBaseUrl(optionalString(env, ENV.publicBaseUrl)),
    publicReplayUrl: parseReplayUrl(optionalString(env, ENV.publicReplayUrl)),
  };
}

/** An http(s) origin with no path, query or credentials: ReplayWeb.page's files sit at its root. */
export function parseReplayUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    // reported below
  }
  if (
    !url ||
    !/^https?:$/.test(url.protocol) ||
    url.pathname !== "/" ||
    url.search ||
    url.hash ||
    url.username ||
    url.password
  ) {
    throw new ConfigError(
      `${ENV.publicReplayUrl} must be an http(s) origin like https://replay.example.org (no path, query or fragment), not "${raw}".`,
    );
  }
  return url.origin;
}

/** An http(s) URL with no query, fragment or credentials; the trailing slash is dropped. */
export function parsePublicBaseUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    // reported below
  }
  if (!url || !/^https?:$/.test(url.protocol) || url.search || url.hash || url.username || url.password) {
    throw new ConfigError(
      `${ENV.publicBaseUrl} must be an http(s) URL like https://archive.example.org (no query or fragment), not "${raw}".`,
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

function parseOnOff(env: Env, name: string, fallback: boolean): boolean {
  const raw = optionalString(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === "on") return true;
  if (raw === "off") return false;
  throw new ConfigError(`Environment variable ${name} must be "on" or "off", not "${raw}".`);
}

/** `*` alone, or a comma-separated list of exact origins (`https://news.example`, no path). */
function parseCorsOrigins(raw: string | undefined): readonly string[] | undefined {
  if (raw === undefined) return undefined;
  const origins = raw
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "");
  if (origins.includes("*")) {
    if (origins.length > 1) throw new ConfigError(`${ENV.corsAllowOrigins}: "*" must stand alone.`);
    return origins;
  }
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      // reported below
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      throw new ConfigError(
        `${ENV.corsAllowOrigins}: "${origin}" is not an origin like https://news.example (scheme, host, optional port).`,
      );
    }
  }
  return origins.length > 0 ? origins : undefined;
}

export interface PublishConfig {
  eventBusName: string | undefined;
  webhook: { url: string; secret: string } | undefined;
}

/** Where flagged edits go. A webhook without a secret is refused: receivers could not verify it. */
export function loadPublishConfig(env: Env = process.env): PublishConfig {
  const url = optionalString(env, ENV.webhookUrl);
  const secret = optionalString(env, ENV.webhookSecret);
  if (url !== undefined) {
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new Error("scheme");
    } catch {
      throw new ConfigError(`${ENV.webhookUrl} must be an http(s) URL, not "${url}".`);
    }
    if (secret === undefined)
      throw new ConfigError(`${ENV.webhookSecret} must be set when ${ENV.webhookUrl} is.`);
  }
  return {
    eventBusName: optionalString(env, ENV.eventBusName),
    webhook: url !== undefined && secret !== undefined ? { url, secret } : undefined,
  };
}

/** Body bytes one capture's evidence records (EVIDENCE_MAX_BYTES); past it, headers only. */
export const DEFAULT_EVIDENCE_MAX_BYTES = 50 * 1024 * 1024;

export interface CaptureConfig {
  chromiumPath: string | undefined;
  /** ALLOW_PRIVATE_HOSTS: the browser's egress proxy lets the same hosts through as the API. */
  allowPrivateHosts: string | undefined;
  /** Bytes one capture may download (and upload) through the egress proxy; past it, `too_large`. */
  maxBytes: number;
  /**
   * Body bytes one capture's evidence package (WACZ) keeps; exchanges past it keep their headers
   * and are marked truncated.
   */
  evidenceMaxBytes: number;
  navigationTimeoutMs: number;
  idleTimeoutMs: number;
  screenshotMaxHeight: number;
  inlineResourceMaxBytes: number;
  inlineTotalMaxBytes: number;
  /** Cap on one whole capture in the browser; longer than `navigationTimeoutMs`. */
  totalTimeoutMs: number;
  /** Main-frame redirects (HTTP, script or meta refresh) one capture follows; past it, `too_many_redirects`. */
  maxRedirects: number;
  /** Elements a page may have when it is taken; past it, `too_large`. */
  maxDomElements: number;
  /** The page's HTML must have arrived whole this long after its headers; past it, `slow_response`. */
  documentDeadlineMs: number;
  /** The page's HTML may pause this long between two bytes; past it, `slow_response`. */
  stallMs: number;
  /** Memory one renderer (the page's JavaScript heap and buffers) may use; past it, `too_large`. */
  rendererMaxBytes: number;
  /** After this many attempts a failing capture is recorded as failed instead of retried. */
  maxAttempts: number;
  /** HTTP probes of scheduled recaptures (README "Recaptures without a browser"). */
  probe: ProbeConfig;
}

/** When scheduled recaptures start with an HTTP probe, and when they use the browser all the same. */
export interface ProbeConfig {
  /** PROBE=on|off. @default true */
  enabled: boolean;
  /** Every this many recaptures of a URL, one uses the browser (1: every one, as with PROBE=off). @default 10 */
  browserEvery: number;
  /** A recapture whose URL's last browser capture is this old uses the browser. @default 24 h */
  browserMaxAgeMs: number;
  /** Cap on the probe's GET (every redirect included); past it, the browser captures the page. @default 10000 */
  timeoutMs: number;
}

/** PROBE and its settings. */
export function loadProbeConfig(env: Env = process.env): ProbeConfig {
  const raw = optionalString(env, ENV.probe)?.toLowerCase() ?? "on";
  if (raw !== "on" && raw !== "off") {
    throw new ConfigError(
      `Environment variable ${ENV.probe} must be "on" or "off", not "${env[ENV.probe]}".`,
    );
  }
  return {
    enabled: raw === "on",
    browserEvery: optionalInt(env, ENV.probeBrowserEvery, 10, { min: 1, max: 1000 }),
    browserMaxAgeMs: optionalInt(env, ENV.probeBrowserMaxAgeMs, 86_400_000, {
      min: 60_000,
      max: 90 * 86_400_000,
    }),
    timeoutMs: optionalInt(env, ENV.probeTimeoutMs, 10_000, { min: 500, max: 60_000 }),
  };
}

export function loadCaptureConfig(env: Env = process.env): CaptureConfig {
  const navigationTimeoutMs = optionalInt(env, ENV.navigationTimeoutMs, 30_000, { min: 1000, max: 120_000 });
  // Up to Lambda's own 15 minutes; the capture function's timeout must leave room beyond it.
  const totalTimeoutMs = optionalInt(env, ENV.captureTotalTimeoutMs, 90_000, { min: 2_000, max: 900_000 });
  if (totalTimeoutMs <= navigationTimeoutMs) {
    throw new ConfigError(
      `Environment variable ${ENV.captureTotalTimeoutMs} (${totalTimeoutMs} ms) must be longer than ${ENV.navigationTimeoutMs} (${navigationTimeoutMs} ms): the navigation is part of the capture.`,
    );
  }
  return {
    chromiumPath: optionalString(env, ENV.chromiumPath),
    allowPrivateHosts: optionalString(env, ENV.allowPrivateHosts),
    maxBytes: optionalInt(env, ENV.captureMaxBytes, 100 * 1024 * 1024, { min: 1024 * 1024, max: 1024 ** 3 }),
    evidenceMaxBytes: optionalInt(env, ENV.evidenceMaxBytes, DEFAULT_EVIDENCE_MAX_BYTES, {
      min: 1024 * 1024,
      max: 1024 ** 3,
    }),
    navigationTimeoutMs,
    idleTimeoutMs: optionalInt(env, ENV.idleTimeoutMs, 5_000, { min: 0, max: 60_000 }),
    screenshotMaxHeight: optionalInt(env, ENV.screenshotMaxHeightPx, 16_000, { min: 500, max: 32_000 }),
    inlineResourceMaxBytes: 5 * 1024 * 1024,
    inlineTotalMaxBytes: 30 * 1024 * 1024,
    totalTimeoutMs,
    // Chromium itself gives up after 20 (ERR_TOO_MANY_REDIRECTS).
    maxRedirects: optionalInt(env, ENV.captureMaxRedirects, 10, { min: 0, max: 20 }),
    maxDomElements: optionalInt(env, ENV.captureMaxDomElements, 200_000, { min: 1_000, max: 10_000_000 }),
    documentDeadlineMs: optionalInt(env, ENV.captureDocumentDeadlineMs, 20_000, { min: 1_000, max: 120_000 }),
    stallMs: optionalInt(env, ENV.captureStallMs, 10_000, { min: 500, max: 120_000 }),
    rendererMaxBytes: optionalInt(env, ENV.captureRendererMaxMb, 1024, { min: 128, max: 8192 }) * 1024 * 1024,
    // No HOST_*: politeness is shaped before a capture is queued, the worker runs it on arrival.
    maxAttempts: optionalInt(env, ENV.captureMaxAttempts, 3, { min: 1, max: 10 }),
    probe: loadProbeConfig(env),
  };
}

/**
 * Whether the capture worker takes its secrets (the role's credentials, the webhook's key) out of
 * its environment before Chromium starts: SCRUB_ENVIRON=on|off, by default on when running on
 * Lambda (AWS_LAMBDA_FUNCTION_NAME set) and off elsewhere, where the local runner signs for its
 * embedded servers with an identity of its own.
 */
export function loadEnvironScrub(env: Env = process.env): boolean {
  return parseOnOff(env, ENV.scrubEnviron, optionalString(env, ENV.lambdaFunctionName) !== undefined);
}

/** The KMS key that signs evidence packages (AWS); locally the runner keeps a key under DATA_DIR instead. */
export function loadSigningConfig(env: Env = process.env): { kmsKeyArn: string | undefined } {
  return { kmsKeyArn: optionalString(env, ENV.signingKeyArn) };
}

export interface PollConfig {
  /** ALLOW_PRIVATE_HOSTS: polls reach the same hosts as captures. */
  allowPrivateHosts: string | undefined;
  /** A poll submits no more captures while this many wait (it records `queue_full`). */
  maxQueueDepth: number;
  /** The per-host politeness gate, shared with captures. */
  hostMaxConcurrency: number;
  hostMinGapMs: number;
}

/** The poll worker's settings: the capture guard's exemptions, back-pressure and politeness. */
export function loadPollConfig(env: Env = process.env): PollConfig {
  return {
    allowPrivateHosts: optionalString(env, ENV.allowPrivateHosts),
    maxQueueDepth: optionalInt(env, ENV.maxQueueDepth, 10_000, { min: 1, max: 10_000_000 }),
    hostMaxConcurrency: optionalInt(env, ENV.hostMaxConcurrency, 2, { min: 1, max: 100 }),
    hostMinGapMs: optionalInt(env, ENV.hostMinGapMs, 1000, { min: 0, max: 3_600_000 }),
  };
}

/** Per-host politeness as the producers of captures shape them (see host-shaping.ts). */
export interface HostShapingConfig {
  hostMaxConcurrency: number;
  hostMinGapMs: number;
  /** HOST_LIMITS: per-host start intervals, `host=2s,*.example=500ms`; parsed by `parseHostLimits`. */
  hostLimits: string | undefined;
}

/** The settings of host shaping: read by the sweeper, the API and the poll worker. */
export function loadHostShapingConfig(env: Env = process.env): HostShapingConfig {
  return {
    hostMaxConcurrency: optionalInt(env, ENV.hostMaxConcurrency, 2, { min: 1, max: 100 }),
    hostMinGapMs: optionalInt(env, ENV.hostMinGapMs, 1000, { min: 0, max: 3_600_000 }),
    hostLimits: optionalString(env, ENV.hostLimits),
  };
}

/**
 * How long a sweep spreads the captures already due over (SWEEP_SPREAD_MS): by default one sweep
 * interval (EventBridge starts a sweep every five minutes), so each sweep's batch reaches the queue
 * evenly instead of at once; 0 sends each at its slot.
 */
export function loadSweepSpreadMs(env: Env = process.env): number {
  return optionalInt(env, ENV.sweepSpreadMs, 5 * 60_000, { min: 0, max: 15 * 60_000 });
}

/**
 * How long the capture queue keeps a message (CAPTURE_QUEUE_RETENTION_MS, set by the queue's
 * construct): a capture pending longer than this lost its message and is failed `expired`. SQS
 * allows 1 minute to 14 days.
 */
export function loadCaptureQueueRetentionMs(env: Env = process.env): number {
  return optionalInt(env, ENV.captureQueueRetentionMs, CAPTURE_MESSAGE_RETENTION_MS, {
    min: 60_000,
    max: CAPTURE_MESSAGE_RETENTION_MS,
  });
}

/** MAX_QUEUE_AGE_SECONDS's default: one hour, as the capture backlog alarm's. */
export const DEFAULT_MAX_QUEUE_AGE_SECONDS = 3600;

/** When the sweeper holds its recaptures back (see `shared/domain/back-pressure.ts`). */
export interface SweepBackPressureConfig {
  /** MAX_QUEUE_AGE_SECONDS: the oldest capture message's age at which sweeps hold. */
  maxQueueAgeSeconds: number;
  /** MAX_QUEUE_DEPTH: the fallback when the age is unknown (no metric yet, CloudWatch unreachable). */
  maxQueueDepth: number;
}

/**
 * With `redelivery`, the capture queue's settings (SweeperFunction's queue at synth, the file queue
 * under `npm start`), an age at or below the one an ordinarily retried message reaches is refused:
 * the queue's age counts delayed and in-flight messages, so sweeps would hold in normal operation.
 */
export function loadSweepBackPressureConfig(
  env: Env = process.env,
  redelivery?: RedeliveryLimits,
): SweepBackPressureConfig {
  const config = {
    // An hour, the capture backlog alarm's threshold: above the age a healthy message reaches (15 min
    // held to its slot, then 18 min per retried delivery; see `retriedMessageAgeMs`), which
    // SweeperFunction and the local runner refuse to hold at.
    maxQueueAgeSeconds: optionalInt(env, ENV.maxQueueAgeSeconds, DEFAULT_MAX_QUEUE_AGE_SECONDS, {
      min: 60,
      max: 14 * 86_400,
    }),
    maxQueueDepth: optionalInt(env, ENV.maxQueueDepth, 10_000, { min: 1, max: 10_000_000 }),
  };
  const retriedSeconds = redelivery ? Math.ceil(retriedMessageAgeMs(redelivery) / 1000) : 0;
  if (config.maxQueueAgeSeconds <= retriedSeconds) {
    throw new ConfigError(
      `${ENV.maxQueueAgeSeconds} (${config.maxQueueAgeSeconds}) must be above ${retriedSeconds}, the age in seconds a capture message reaches before its last delivery (15 minutes of delay, then ${(redelivery?.maxReceiveCount ?? 1) - 1} visibility timeouts of ${(redelivery?.visibilityTimeoutMs ?? 0) / 1000} s); sweeps would hold on ordinary retries.`,
    );
  }
  return config;
}

/**
 * The queues a function sends to. Each is required only by the functions that send to it. This is
 * the scheduled capture queue (sweeper, poll worker): bulk work, never a person waiting on it.
 */
export function loadCaptureQueueConfig(env: Env = process.env): { queueUrl: string } {
  return { queueUrl: requireString(env, ENV.queueUrl) };
}

/**
 * The interactive capture queue (the API): captures a person asked for, consumed by the same
 * worker through a mapping of its own, so they never wait behind a sweep's backlog.
 */
export function loadInteractiveQueueConfig(env: Env = process.env): { interactiveQueueUrl: string } {
  return { interactiveQueueUrl: requireString(env, ENV.interactiveQueueUrl) };
}

/** The poll jobs' queue (sweeper and poll worker). */
export function loadPollQueueConfig(env: Env = process.env): { pollQueueUrl: string } {
  return { pollQueueUrl: requireString(env, ENV.pollQueueUrl) };
}

/** The region Lambda runs in: the blob reader signs its requests for it. */
export function loadRegion(env: Env = process.env): string {
  return requireString(env, ENV.region);
}

/**
 * RECAPTURE_CADENCE, parsed once: a malformed cadence fails at cold start, not on the first
 * capture that is scheduled with it.
 */
export function loadCadence(env: Env = process.env): readonly CadenceStep[] {
  return parseCadence(optionalString(env, ENV.recaptureCadence));
}

/** Levels the logger knows; LOG_LEVEL picks one (`silent` turns logging off, for tests). */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

export interface ObservabilityConfig {
  logLevel: LogLevel;
  /** The CloudWatch namespace of the business metrics (the dashboard reads the same constant). */
  metricsNamespace: string;
  /**
   * METRICS (`on`/`off`) when set; otherwise undefined: metrics then follow the log level, except
   * on Lambda (see `onLambda`).
   */
  metrics: boolean | undefined;
  /** Running as a Lambda function (AWS_LAMBDA_FUNCTION_NAME, which Lambda sets). */
  onLambda: boolean;
}

/** How the functions log and measure. An unknown LOG_LEVEL is a typo worth failing on. */
export function loadObservabilityConfig(env: Env = process.env): ObservabilityConfig {
  const raw = optionalString(env, ENV.logLevel)?.toLowerCase() ?? "info";
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) {
    throw new ConfigError(
      `Environment variable ${ENV.logLevel} must be one of ${LOG_LEVELS.join(", ")}, not "${raw}".`,
    );
  }
  const metrics =
    optionalString(env, ENV.metrics) === undefined ? undefined : parseOnOff(env, ENV.metrics, true);
  return {
    logLevel: raw as LogLevel,
    metricsNamespace: METRICS_NAMESPACE,
    metrics,
    onLambda: optionalString(env, ENV.lambdaFunctionName) !== undefined,
  };
}

const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];

/** The replay function's settings (functions/compose/replay.ts). */
export interface ReplaySiteConfig {
  /** The origin presigned WACZ links point at (the archive bucket's S3 host): the CSP allows it alone. */
  storageOrigin: string;
  /** The origins allowed to frame the replay (the web UI's): exact origins, never a wildcard host. */
  frameAncestors: readonly string[];
  /** Where ReplayWeb.page's `ui.js` and `sw.js` are (the function's layer). */
  assetsDir: string;
}

/**
 * A CSP source for one exact origin: `https://host[:port]`. No `*.` label: a wildcard host such as
 * `*.execute-api.<region>.amazonaws.com` names every AWS customer's API, not the archive's UI.
 */
const ORIGIN_SOURCE = /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/;

export function loadReplaySiteConfig(env: Env = process.env): ReplaySiteConfig {
  const storageOrigin = requireString(env, ENV.replayStorageOrigin);
  const frameAncestors = (optionalString(env, ENV.replayFrameAncestors) ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "");
  for (const [name, value] of [
    [ENV.replayStorageOrigin, storageOrigin],
    ...frameAncestors.map((o) => [ENV.replayFrameAncestors, o]),
  ] as const) {
    if (!ORIGIN_SOURCE.test(value)) {
      throw new ConfigError(`${name} must list origins like https://host.example.org, not "${value}".`);
    }
  }
  return {
    storageOrigin,
    frameAncestors,
    // Lambda unpacks layers under /opt.
    assetsDir: optionalString(env, ENV.replayAssetsDir) ?? "/opt",
  };
}

/** `npm start`'s own settings (local/main.ts); never set on AWS. */
export interface LocalConfig {
  port: number;
  dataDir: string;
  /** Captures processed at once; 0 runs no capture worker (tests that only submit). */
  workerConcurrency: number;
  /** The replay server's port (local/replay-server.ts); 0 for any free one. @default {@link defaultReplayPort} */
  replayPort: number;
}

export function loadLocalConfig(env: Env = process.env): LocalConfig {
  const port = optionalInt(env, ENV.port, 3000, { min: 0, max: 65_535 });
  return {
    port,
    dataDir: optionalString(env, ENV.dataDir) ?? "./.palimpsest",
    workerConcurrency: optionalInt(env, ENV.workerConcurrency, 1, { min: 0, max: 64 }),
    replayPort: optionalInt(env, ENV.replayPort, defaultReplayPort(port), { min: 0, max: 65_535 }),
  };
}

/**
 * The replay server's port when REPLAY_PORT is not set: the one after the API's, so a reader can
 * guess it; any free port where the API's is any free port (0) or the last one.
 */
export function defaultReplayPort(apiPort: number): number {
  return apiPort === 0 || apiPort >= 65_535 ? 0 : apiPort + 1;
}

/** The command line's settings (cli/): never set on AWS. */
export interface CliConfig {
  /** The API's address, without a trailing slash. @default {@link DEFAULT_CLI_API_URL} */
  apiUrl: string;
  /** Sent as `x-api-key` when set (the local runner's API_KEY, or an API Gateway key). */
  apiKey: string | undefined;
}

/** Where `npm start` serves the API by default. */
export const DEFAULT_CLI_API_URL = "http://127.0.0.1:3000";

/** PALIMPSEST_API and PALIMPSEST_API_KEY; an address that is not an http(s) URL is the user's to fix. */
export function loadCliConfig(env: Env = process.env): CliConfig {
  const raw = optionalString(env, ENV.cliApi) ?? DEFAULT_CLI_API_URL;
  let base: URL;
  try {
    base = new URL(raw);
  } catch (cause) {
    throw new ConfigError(`${ENV.cliApi} is not a URL: "${raw}"`, { cause });
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new ConfigError(`${ENV.cliApi} must be an http(s) URL, not "${raw}"`);
  }
  return { apiUrl: base.href.replace(/\/+$/, ""), apiKey: optionalString(env, ENV.cliApiKey) };
}
