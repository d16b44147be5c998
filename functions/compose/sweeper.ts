/**
 * The sweeper, composed once for its Lambda entry (from the environment) and the local runner.
 * One module per function: a bundle carries only its own function's parts (the poll worker's feed
 * parsers are most of a shared module's weight).
 */
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { SQSClient } from "@aws-sdk/client-sqs";
import { createCloudWatchQueueAge } from "../../shared/adapters/cloudwatch-queue-age.ts";
import { createSqsCaptureQueue } from "../../shared/adapters/sqs-capture-queue.ts";
import { createSqsPollQueue } from "../../shared/adapters/sqs-poll-queue.ts";
import { INDEX_SHARDS } from "../../shared/adapters/table-schema.ts";
import {
  loadCaptureQueueConfig,
  loadCaptureQueueRetentionMs,
  loadHostShapingConfig,
  loadObservabilityConfig,
  loadPollQueueConfig,
  loadSweepBackPressureConfig,
  loadSweepSpreadMs,
  loadTableConfig,
  type SweepBackPressureConfig,
} from "../../shared/config.ts";
import type { HostShaper } from "../../shared/domain/host-shaping.ts";
import type { Logger } from "../../shared/logger.ts";
import type { ArchiveMetrics } from "../../shared/metrics.ts";
import type { CaptureQueue, PollQueue, QueueAgeReader } from "../../shared/ports.ts";
import { createSweeperHandler } from "../sweeper/sweep-handler.ts";
import { type ArchiveWithSources, openArchive, withSources } from "./archive.ts";
import { composeHostShaper } from "./host-gate.ts";
import { openObservability } from "./observability.ts";

type Env = Record<string, string | undefined>;

/** The sweeper: due URLs onto the capture queue, due sources onto the poll queue. */
export function composeSweeper(parts: {
  archive: Pick<ArchiveWithSources, "repository" | "sources">;
  queue: CaptureQueue;
  pollQueue: PollQueue;
  /** Gives each capture its host's start slot before it is sent. @default - none: sent at once */
  shaper?: HostShaper;
  /** Due captures are spread over this long. @default - not spread */
  spreadMs?: number;
  /** The capture queue's retention: a capture pending longer is failed `expired`. @default 14 days */
  retentionMs?: number;
  /**
   * Recaptures are held while the queue's oldest message is too old (or, its age unknown, the
   * queue too deep). @default - never held
   */
  backPressure?: SweepBackPressureConfig & { age?: QueueAgeReader };
  logger: Logger;
  metrics?: ArchiveMetrics;
}) {
  const pressure = parts.backPressure;
  return createSweeperHandler({
    repository: parts.archive.repository,
    queue: parts.queue,
    shards: INDEX_SHARDS,
    ...(parts.shaper ? { shaper: parts.shaper } : {}),
    ...(parts.spreadMs !== undefined ? { spreadMs: parts.spreadMs } : {}),
    ...(parts.retentionMs !== undefined ? { retentionMs: parts.retentionMs } : {}),
    ...(pressure
      ? {
          backPressure: {
            maxAgeSeconds: pressure.maxQueueAgeSeconds,
            maxDepth: pressure.maxQueueDepth,
            ...(pressure.age ? { age: pressure.age } : {}),
          },
        }
      : {}),
    sources: { sources: parts.archive.sources, pollQueue: parts.pollQueue },
    logger: parts.logger,
    ...(parts.metrics ? { metrics: parts.metrics } : {}),
  });
}

/** The sweeper Lambda from its environment (no bucket: it never reads one). */
export function sweeperFromEnvironment(env: Env = process.env) {
  const sqs = new SQSClient({});
  const { logger, metrics } = openObservability(loadObservabilityConfig(env));
  const archive = withSources(openArchive(loadTableConfig(env)));
  const { queueUrl } = loadCaptureQueueConfig(env);
  const age = createCloudWatchQueueAge({
    client: new CloudWatchClient({}),
    queueUrl,
    onError: (err) => logger.warn("queue age unavailable; back-pressure falls back to depth", { err }),
  });
  return composeSweeper({
    archive,
    queue: createSqsCaptureQueue({ client: sqs, queueUrl }),
    pollQueue: createSqsPollQueue({ client: sqs, queueUrl: loadPollQueueConfig(env).pollQueueUrl }),
    shaper: composeHostShaper(archive, loadHostShapingConfig(env)),
    spreadMs: loadSweepSpreadMs(env),
    retentionMs: loadCaptureQueueRetentionMs(env),
    backPressure: { ...loadSweepBackPressureConfig(env), age },
    logger,
    metrics,
  });
}
