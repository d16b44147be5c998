/**
 * The browserless functions — sweeper, poll worker, dead-letter consumer — composed once for the
 * Lambda entries (from the environment) and the local runner (from its own queues).
 */
import { SQSClient } from "@aws-sdk/client-sqs";
import { createGuardedHttpFetcher } from "../../shared/adapters/guarded-http-fetcher.ts";
import { resolveHostIpv4First } from "../../shared/adapters/resolve-host.ts";
import { createSqsCaptureQueue } from "../../shared/adapters/sqs-capture-queue.ts";
import { createSqsPollQueue } from "../../shared/adapters/sqs-poll-queue.ts";
import { INDEX_SHARDS } from "../../shared/adapters/table-schema.ts";
import {
  loadCaptureQueueConfig,
  loadObservabilityConfig,
  loadPollConfig,
  loadPollQueueConfig,
  loadTableConfig,
  type PollConfig,
} from "../../shared/config.ts";
import { parseAllowedPrivateHosts } from "../../shared/domain/url.ts";
import type { Logger } from "../../shared/logger.ts";
import type { ArchiveMetrics } from "../../shared/metrics.ts";
import type { CaptureQueue, HttpFetcher, PollQueue, ResolveHost } from "../../shared/ports.ts";
import { createDeadLetterHandler } from "../dead-letter/dead-letter-batch.ts";
import { createPollHandler } from "../poll/poll-batch.ts";
import { createSweeperHandler } from "../sweeper/sweep-handler.ts";
import { type Archive, type ArchiveWithSources, openArchive, withSources } from "./archive.ts";
import { composeHostGate } from "./host-gate.ts";
import { openObservability } from "./observability.ts";

/** How long a poll holds its host's slot at most. */
const POLL_HOST_LEASE_MS = 5 * 60_000;

type Env = Record<string, string | undefined>;

/** The sweeper: due URLs onto the capture queue, due sources onto the poll queue. */
export function composeSweeper(parts: {
  archive: Pick<ArchiveWithSources, "repository" | "sources">;
  queue: CaptureQueue;
  pollQueue: PollQueue;
  logger: Logger;
  metrics?: ArchiveMetrics;
}) {
  return createSweeperHandler({
    repository: parts.archive.repository,
    queue: parts.queue,
    shards: INDEX_SHARDS,
    sources: { sources: parts.archive.sources, pollQueue: parts.pollQueue },
    logger: parts.logger,
    ...(parts.metrics ? { metrics: parts.metrics } : {}),
  });
}

/** The poll worker: fetches a source's feed and submits what is new, politely per host. */
export function composePoll(parts: {
  archive: ArchiveWithSources;
  queue: CaptureQueue;
  pollQueue: PollQueue;
  config: PollConfig;
  /** @default IPv4-first system resolution */
  resolveHost?: ResolveHost;
  /** @default the guarded fetcher with the same private-host exemptions */
  fetcher?: HttpFetcher;
  logger: Logger;
}) {
  const { archive, config } = parts;
  const resolveHost = parts.resolveHost ?? resolveHostIpv4First;
  const allowedPrivateHosts = parseAllowedPrivateHosts(config.allowPrivateHosts);
  return createPollHandler({
    sources: archive.sources,
    submit: {
      repository: archive.repository,
      queue: parts.queue,
      resolveHost,
      allowedPrivateHosts,
      maxQueueDepth: config.maxQueueDepth,
    },
    fetcher: parts.fetcher ?? createGuardedHttpFetcher({ allowedPrivateHosts, resolveHost }),
    hostGate: composeHostGate(archive, config, POLL_HOST_LEASE_MS),
    pollQueue: parts.pollQueue,
    logger: parts.logger,
  });
}

/** The sweeper Lambda from its environment (no bucket: it never reads one). */
export function sweeperFromEnvironment(env: Env = process.env) {
  const sqs = new SQSClient({});
  const { logger, metrics } = openObservability(loadObservabilityConfig(env));
  return composeSweeper({
    archive: withSources(openArchive(loadTableConfig(env))),
    queue: createSqsCaptureQueue({ client: sqs, queueUrl: loadCaptureQueueConfig(env).queueUrl }),
    pollQueue: createSqsPollQueue({ client: sqs, queueUrl: loadPollQueueConfig(env).pollQueueUrl }),
    logger,
    metrics,
  });
}

/** The poll Lambda from its environment. */
export function pollFromEnvironment(env: Env = process.env) {
  const sqs = new SQSClient({});
  return composePoll({
    archive: withSources(openArchive(loadTableConfig(env))),
    queue: createSqsCaptureQueue({ client: sqs, queueUrl: loadCaptureQueueConfig(env).queueUrl }),
    pollQueue: createSqsPollQueue({ client: sqs, queueUrl: loadPollQueueConfig(env).pollQueueUrl }),
    config: loadPollConfig(env),
    logger: openObservability(loadObservabilityConfig(env)).logger,
  });
}

/** The dead-letter consumer: each capture SQS gave up on is recorded as failed. */
export function composeDeadLetter(parts: { archive: Pick<Archive, "repository">; logger: Logger }) {
  return createDeadLetterHandler({ repository: parts.archive.repository, logger: parts.logger });
}

/** The dead-letter Lambda from its environment: the table only. */
export function deadLetterFromEnvironment(env: Env = process.env) {
  return composeDeadLetter({
    archive: openArchive(loadTableConfig(env)),
    logger: openObservability(loadObservabilityConfig(env)).logger,
  });
}
