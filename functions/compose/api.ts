/**
 * The API, composed once for the Lambda entry (from the environment) and the local runner (from
 * its embedded servers). Only reads of the bucket: no S3 client reaches this bundle.
 */
import { SQSClient } from "@aws-sdk/client-sqs";
import { createGuardedHttpFetcher } from "../../shared/adapters/guarded-http-fetcher.ts";
import { createKmsPublicKeyReader } from "../../shared/adapters/kms-public-key.ts";
import { createSqsCaptureQueue } from "../../shared/adapters/sqs-capture-queue.ts";
import { createSqsPollQueue } from "../../shared/adapters/sqs-poll-queue.ts";
import {
  type ApiConfig,
  loadApiConfig,
  loadCadence,
  loadHostShapingConfig,
  loadInteractiveQueueConfig,
  loadObservabilityConfig,
  loadPollQueueConfig,
  loadRegion,
  loadSigningConfig,
  loadStorageConfig,
} from "../../shared/config.ts";
import { correlatedQueue } from "../../shared/correlation.ts";
import type { HostShaper } from "../../shared/domain/host-shaping.ts";
import type { CadenceStep } from "../../shared/domain/schedule.ts";
import { parseAllowedPrivateHosts } from "../../shared/domain/url.ts";
import type { Logger } from "../../shared/logger.ts";
import { createLogger } from "../../shared/logger.ts";
import type { BlobReader, CaptureQueue, EvidenceSigner, ResolveHost } from "../../shared/ports.ts";
import { createApiHandler, resolveHost } from "../api/create-handler.ts";
import type { FollowingDeps } from "../api/route-types.ts";
import type { Archive } from "./archive.ts";
import { openArchive, openBlobReader, withSources } from "./archive.ts";
import { composeHostShaper } from "./host-gate.ts";

/** What the API is built from, wherever it runs. */
export interface ApiParts {
  archive: Pick<Archive, "repository">;
  blobs: BlobReader;
  /** The interactive capture queue: every capture the API starts is a person's. */
  queue: CaptureQueue;
  /** Gives each submitted capture its host's start slot. @default - none: sent at once */
  shaper?: HostShaper;
  config: ApiConfig;
  /** Signs the web UI's CSRF tokens (the local runner's, fresh per process). @default - none */
  csrfSecret?: Uint8Array;
  /** @default config.publicBaseUrl (the local runner falls back to its own address) */
  publicBaseUrl?: string;
  /** @default config.publicReplayUrl (the local runner falls back to its replay server) */
  publicReplayUrl?: string;
  cadence?: readonly CadenceStep[];
  /** The evidence key's public half (KMS on AWS, the key under DATA_DIR locally). */
  signer?: Pick<EvidenceSigner, "publicKey">;
  /** Following sources from the API (`/v1/sources…`). @default - none: those routes answer 501 */
  following?: FollowingDeps;
  /** @default DNS through the system resolver */
  resolveHost?: ResolveHost;
  logger: Logger;
}

export function composeApi(parts: ApiParts) {
  const { config } = parts;
  return createApiHandler({
    repository: parts.archive.repository,
    blobs: parts.blobs,
    // Each message carries the API request's id, so the worker's lines can be found beside it.
    queue: correlatedQueue(parts.queue),
    ...(parts.shaper ? { shaper: parts.shaper } : {}),
    resolveHost: parts.resolveHost ?? resolveHost,
    allowedPrivateHosts: parseAllowedPrivateHosts(config.allowPrivateHosts),
    presignedUrlTtlSeconds: config.presignedUrlTtlSeconds,
    maxQueueDepth: config.maxQueueDepth,
    apiKey: config.apiKey,
    corsAllowOrigins: config.corsAllowOrigins,
    ...(parts.cadence ? { cadence: parts.cadence } : {}),
    ...(parts.signer ? { signer: parts.signer } : {}),
    ...(parts.following ? { following: parts.following } : {}),
    sourceForms: config.sourceForms,
    ...(parts.csrfSecret ? { csrfSecret: parts.csrfSecret } : {}),
    publicBaseUrl: parts.publicBaseUrl ?? config.publicBaseUrl,
    publicReplayUrl: parts.publicReplayUrl ?? config.publicReplayUrl,
    logger: parts.logger,
  });
}

/** The API Lambda from its environment; a bad value fails the cold start with its variable's name. */
export function apiFromEnvironment(env: Record<string, string | undefined> = process.env) {
  const storage = loadStorageConfig(env);
  const region = loadRegion(env);
  const { kmsKeyArn } = loadSigningConfig(env);
  const config = loadApiConfig(env);
  const archive = withSources(openArchive(storage));
  const sqs = new SQSClient({});
  return composeApi({
    archive,
    blobs: openBlobReader(storage, region),
    // A person's captures go to the interactive queue: a sweep's backlog never stands in front of them.
    queue: createSqsCaptureQueue({
      client: sqs,
      queueUrl: loadInteractiveQueueConfig(env).interactiveQueueUrl,
    }),
    shaper: composeHostShaper(archive, loadHostShapingConfig(env)),
    config,
    // Following a source fetches it once at once (through the capture's URL guard) and queues its
    // first poll; the poll worker does the rest.
    following: {
      sources: archive.sources,
      fetcher: createGuardedHttpFetcher({
        allowedPrivateHosts: parseAllowedPrivateHosts(config.allowPrivateHosts),
        resolveHost,
      }),
      pollQueue: createSqsPollQueue({ client: sqs, queueUrl: loadPollQueueConfig(env).pollQueueUrl }),
    },
    cadence: loadCadence(env),
    ...(kmsKeyArn ? { signer: createKmsPublicKeyReader({ keyId: kmsKeyArn, region }) } : {}),
    // The API writes no metrics of its own (API Gateway's are on the dashboard): no Metrics here.
    logger: createLogger({ service: "palimpsest" }, loadObservabilityConfig(env).logLevel),
  });
}
