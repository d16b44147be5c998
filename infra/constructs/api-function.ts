import type { Duration } from "aws-cdk-lib";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { loadApiConfig } from "../../shared/config.ts";
import { parseCadence } from "../../shared/domain/schedule.ts";
import { ENV } from "../../shared/env-names.ts";
import type { ArchiveBucket } from "./archive-bucket.ts";
import type { ArchiveTable } from "./archive-table.ts";
import type { CaptureQueue } from "./capture-queue.ts";
import { DEFAULTS, type LogLevel } from "./defaults.ts";
import type { HostShaping } from "./host-shaping.ts";
import { PalimpsestFunction } from "./palimpsest-function.ts";
import type { PollQueue } from "./poll-queue.ts";

/** API Gateway REST integrations give up after 29 s; a longer function would run on unanswered. */
const API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS = 29;

/** Props of {@link ApiFunction}. */
export interface ApiFunctionProps {
  /** What the handler sends (`API_TABLE_ACCESS`): reads, submissions and sources; deletes of sources only. */
  readonly table: ArchiveTable;
  /** Presign only: the API links to artifacts, it never stores them. */
  readonly bucket: ArchiveBucket;
  /**
   * Send only, to the interactive queue (every capture the API starts is a person's), plus that
   * queue's depth for back-pressure. Nothing on the scheduled queue.
   */
  readonly queue: CaptureQueue;
  /** Send only: a source's first poll is queued when it is followed. */
  readonly pollQueue: PollQueue;
  /**
   * Captures waiting in the interactive queue at which `POST /v1/captures` answers 429 with
   * `Retry-After`.
   * @default - the handler's default (10,000)
   */
  readonly maxQueueDepth?: number;
  /**
   * Per-host politeness of the captures it submits (their start slots), shared with the sweeper
   * and the poll worker.
   * @default - the handlers' defaults
   */
  readonly hostShaping?: HostShaping;
  /**
   * The adaptive re-capture curve, `RECAPTURE_CADENCE` syntax (`"3h:15m,1d:1h,…"`); the API uses it
   * when `PATCH /v1/urls/{id}` changes a URL's policy. Give the capture function the same value.
   * @default - the handler's default curve
   */
  readonly recaptureCadence?: string;
  /**
   * Lifetime of the presigned artifact links, in whole seconds, within the range that
   * `shared/config.ts` accepts (checked at synth). Links signed with the function role's temporary
   * credentials also stop working when those credentials expire.
   * @default Duration.minutes(15)
   */
  readonly presignedUrlTtl?: Duration;
  /**
   * Where readers reach the API (`https://archive.example.org`): the base of every absolute link
   * it writes (Memento, feeds). The service stack sets it from the storage stack's public domain.
   * @default - the host each request arrived at
   */
  readonly publicBaseUrl?: string;
  /** @default Duration.seconds(20); at most 29 s (the API Gateway integration timeout) */
  readonly timeout?: Duration;
  /** @default 1024 */
  readonly memorySize?: number;
  /**
   * Reserve this many concurrent executions for the API (and cap it there), so a burst of
   * captures can never take the account's last executions from readers. Off by default: reserving
   * takes from the unreserved pool, which must keep at least 100, so an account still at the
   * default quota of 1,000 (or a new one at 10) cannot give much (the deploy would fail).
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
 * Whether Node maps the API's stack traces as it loads the bundle (`--enable-source-maps`): no.
 * That costs every cold start about a sixth of the import's CPU (BENCHMARKS.md, "API cold init"),
 * for stacks read only when an error is logged; the logger maps those on first use instead.
 */
export const API_SOURCE_MAPS_AT_RUNTIME = false;

/**
 * The HTTP API handler (`functions/api/handler.ts`) behind API Gateway: the DynamoDB calls its code
 * sends (Get/Put/Update/Query, the per-URL and listing indexes; no delete or batch write),
 * sqs:SendMessage and sqs:GetQueueAttributes on the interactive capture queue (never the scheduled one), sqs:SendMessage on the poll
 * queue and s3:GetObject on blobs (to presign), nothing more. Following a source fetches it at once
 * through the guarded fetcher (no private address, ALLOW_PRIVATE_HOSTS empty). `CORS_ALLOW_ORIGINS` comes from {@link ArchiveApi}, which owns CORS.
 */
export class ApiFunction extends PalimpsestFunction {
  constructor(scope: Construct, id: string, props: ApiFunctionProps) {
    const timeout = props.timeout ?? DEFAULTS.functionTimeout;
    if (timeout.toSeconds() > API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS) {
      throw new Error(
        `ApiFunction: timeout ${timeout.toHumanString()} exceeds API Gateway's ${API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS} s integration timeout.`,
      );
    }
    const reserved = props.reservedConcurrency;
    if (reserved !== undefined && (!Number.isInteger(reserved) || reserved < 1)) {
      throw new Error(`ApiFunction: reservedConcurrency must be a positive integer, got ${reserved}.`);
    }
    // toSeconds() throws on fractional seconds, which the handler could not parse either.
    const environment = {
      [ENV.presignedUrlTtlSeconds]: String((props.presignedUrlTtl ?? DEFAULTS.presignedUrlTtl).toSeconds()),
      // The URL guard's exemptions exist for local test sites only; on AWS there are none.
      [ENV.allowPrivateHosts]: "",
      // API Gateway holds the keys, so the function could not check one typed into a form.
      [ENV.sourceForms]: "off",
      ...(props.maxQueueDepth === undefined ? {} : { [ENV.maxQueueDepth]: String(props.maxQueueDepth) }),
      ...(props.recaptureCadence === undefined ? {} : { [ENV.recaptureCadence]: props.recaptureCadence }),
      ...(props.publicBaseUrl === undefined ? {} : { [ENV.publicBaseUrl]: props.publicBaseUrl }),
    };
    if (props.publicBaseUrl !== undefined) assertPublicBaseUrl(props.publicBaseUrl);
    // The handler parses these at cold start; parsing them here turns a bad value into a synth
    // error instead of a function that never starts, with no second copy of the ranges.
    try {
      loadApiConfig(environment);
      parseCadence(environment[ENV.recaptureCadence]);
    } catch (err) {
      throw new Error(`ApiFunction: ${(err as Error).message}`, { cause: err });
    }
    super(scope, id, {
      entry: "functions/api/handler.ts",
      description: "Palimpsest HTTP API",
      bundling: props.bundling,
      memorySize: props.memorySize ?? DEFAULTS.functionMemoryMiB,
      timeout,
      logLevel: props.logLevel,
      logRetention: props.logRetention,
      reservedConcurrentExecutions: reserved,
      environment,
      sourceMapsAtRuntime: API_SOURCE_MAPS_AT_RUNTIME,
    });
    props.table.bindApi(this);
    props.bucket.bindPresigner(this);
    props.queue.bindInteractiveProducer(this);
    props.pollQueue.bindProducer(this);
    props.hostShaping?.bindShaper(this);
  }
}

/** Permanent links must be https, and a base (no query, fragment or trailing slash). */
function assertPublicBaseUrl(value: string): void {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    // reported below
  }
  if (url?.protocol !== "https:" || url.search || url.hash || value.endsWith("/") || url.username) {
    throw new Error(
      `ApiFunction: publicBaseUrl must be an https URL like https://archive.example.org (no query, fragment or trailing slash), got ${JSON.stringify(value)}.`,
    );
  }
}
