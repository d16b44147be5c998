/**
 * The poll worker, composed once for its Lambda entry (from the environment) and the local runner.
 */
import { SQSClient } from "@aws-sdk/client-sqs";
import { createGuardedHttpFetcher } from "../../shared/adapters/guarded-http-fetcher.ts";
import { resolveHostIpv4First } from "../../shared/adapters/resolve-host.ts";
import { createSqsCaptureQueue } from "../../shared/adapters/sqs-capture-queue.ts";
import {
  loadCaptureQueueConfig,
  loadHostShapingConfig,
  loadObservabilityConfig,
  loadPollConfig,
  loadTableConfig,
  type PollConfig,
} from "../../shared/config.ts";
import type { HostShaper } from "../../shared/domain/host-shaping.ts";
import { parseAllowedPrivateHosts } from "../../shared/domain/url.ts";
import type { Logger } from "../../shared/logger.ts";
import type { CaptureQueue, HttpFetcher, ResolveHost } from "../../shared/ports.ts";
import { createPollHandler } from "../poll/poll-batch.ts";
import { type ArchiveWithSources, openArchive, withSources } from "./archive.ts";
import { composeHostGate, composeHostShaper } from "./host-gate.ts";
import { openObservability } from "./observability.ts";

/** How long a poll holds its host's slot at most. */
const POLL_HOST_LEASE_MS = 5 * 60_000;

type Env = Record<string, string | undefined>;

/** The poll worker: fetches a source's feed and submits what is new, politely per host. */
export function composePoll(parts: {
  archive: ArchiveWithSources;
  queue: CaptureQueue;
  config: PollConfig;
  /** Gives each submitted capture its host's start slot. @default - none: sent at once */
  shaper?: HostShaper;
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
      ...(parts.shaper ? { shaper: parts.shaper } : {}),
    },
    fetcher: parts.fetcher ?? createGuardedHttpFetcher({ allowedPrivateHosts, resolveHost }),
    hostGate: composeHostGate(archive, config, POLL_HOST_LEASE_MS),
    logger: parts.logger,
  });
}

/** The poll Lambda from its environment. */
export function pollFromEnvironment(env: Env = process.env) {
  const sqs = new SQSClient({});
  const archive = withSources(openArchive(loadTableConfig(env)));
  return composePoll({
    archive,
    queue: createSqsCaptureQueue({ client: sqs, queueUrl: loadCaptureQueueConfig(env).queueUrl }),
    config: loadPollConfig(env),
    shaper: composeHostShaper(archive, loadHostShapingConfig(env)),
    logger: openObservability(loadObservabilityConfig(env)).logger,
  });
}
