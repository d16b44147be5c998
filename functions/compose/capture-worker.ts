/**
 * The capture worker, composed once for every place it runs: the Lambda entry
 * (functions/capture/handler.ts, from the environment), the local runner, the bench rig and the
 * tests (from parts they already hold). What differs between those places is passed in; how the
 * parts fit together is written here only.
 */
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { KMSClient } from "@aws-sdk/client-kms";
import packageJson from "../../package.json" with { type: "json" };
import { resolveBundledChromium } from "../../shared/adapters/chromium/browser-launch.ts";
import { createChromiumPageCapturer } from "../../shared/adapters/chromium/page-capturer.ts";
import { createEgressProxy } from "../../shared/adapters/egress/egress-proxy.ts";
import { createEventBridgePublisher, fanOut } from "../../shared/adapters/eventbridge-publisher.ts";
import { createGuardedHttpFetcher } from "../../shared/adapters/guarded-http-fetcher.ts";
import { createKmsSigner } from "../../shared/adapters/kms-signer.ts";
import { takeSecretsFromEnvironment } from "../../shared/adapters/scrub-environ.ts";
import { createWebhookPublisher } from "../../shared/adapters/webhook-publisher.ts";
import {
  type CaptureConfig,
  loadCadence,
  loadCaptureConfig,
  loadEnvironScrub,
  loadObservabilityConfig,
  loadPublishConfig,
  loadRegion,
  loadSigningConfig,
  loadStorageConfig,
} from "../../shared/config.ts";
import type { HttpProbe } from "../../shared/domain/capture/index.ts";
import { extractArticle } from "../../shared/domain/extract/index.ts";
import type { CadenceStep } from "../../shared/domain/schedule.ts";
import { parseAllowedPrivateHosts } from "../../shared/domain/url.ts";
import type { Logger } from "../../shared/logger.ts";
import type { ArchiveMetrics } from "../../shared/metrics.ts";
import type { BlobStore, EditPublisher, EvidenceSigner, PageCapturer } from "../../shared/ports.ts";
import { type CaptureHandlerDeps, createCaptureHandler } from "../capture/capture-batch.ts";
import { type Archive, openArchive, openBlobReader } from "./archive.ts";
import { openBlobStore } from "./blob-store.ts";
import { openObservability } from "./observability.ts";

/**
 * How long init waits for the Chromium unpack (about 2 s on Lambda). Lambda gives init 10 s; an
 * unpack slower than this goes on in the background and the first capture's launch awaits it.
 */
const INIT_UNPACK_BUDGET_MS = 6_000;

/** Unpacks the bundled Chromium, waiting at most `budgetMs`; a failure is left to the first launch. */
async function unpackChromiumWithin(budgetMs: number): Promise<void> {
  const unpacked = resolveBundledChromium().catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, budgetMs);
  });
  await Promise.race([unpacked, budget]);
  clearTimeout(timer);
}

/** What the capture worker is built from, wherever it runs. */
export interface CaptureWorkerParts {
  archive: Pick<Archive, "repository">;
  blobs: BlobStore;
  config: CaptureConfig;
  cadence?: readonly CadenceStep[];
  publisher?: EditPublisher;
  /** @default the Chromium capturer of `composeBrowserCapturer` (tests inject faulty ones) */
  capturer?: PageCapturer;
  /** @default config.maxAttempts (the local runner lowers it to its queue's receive limit) */
  maxAttempts?: number;
  logger: Logger;
  metrics?: ArchiveMetrics;
  /**
   * Signs each new version's evidence package (WACZ): the KMS key on AWS, the key under DATA_DIR
   * locally, a test's own key in tests.
   * @default none: versions are stored without a package
   */
  signer?: EvidenceSigner;
}

/** Palimpsest's version, written into every evidence package as the software that made it. */
export const PALIMPSEST_VERSION: string = packageJson.version;

/** Chromium behind the egress proxy, which lets through only public hosts and ALLOW_PRIVATE_HOSTS. */
export function composeBrowserCapturer(
  config: CaptureConfig,
  logger?: Logger,
  create: typeof createChromiumPageCapturer = createChromiumPageCapturer,
): PageCapturer {
  return create({
    executablePath: config.chromiumPath,
    ...(logger ? { logger } : {}),
    recording: { maxBytes: config.evidenceMaxBytes },
    responseLimits: { documentDeadlineMs: config.documentDeadlineMs, stallMs: config.stallMs },
    maxRendererMemoryBytes: config.rendererMaxBytes,
    egress: createEgressProxy({
      allowedPrivateHosts: parseAllowedPrivateHosts(config.allowPrivateHosts),
      maxBytesPerSession: config.maxBytes,
      ...(logger ? { logger } : {}),
    }),
  });
}

/**
 * What a probe sends as its User-Agent: a desktop Chrome's, as the capture browser announces
 * itself (fresh-context.ts), because many news sites answer other agents with something else.
 */
const PROBE_USER_AGENT =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36";

/**
 * HTTP probes of scheduled recaptures (shared/domain/capture/probe-capture.ts): a guarded GET under
 * the browser's egress rules (the same guard and ALLOW_PRIVATE_HOSTS), asking as the browser does
 * (its kind of User-Agent, en-US); undefined when PROBE=off.
 */
export function composeHttpProbe(config: CaptureConfig): HttpProbe | undefined {
  if (!config.probe.enabled) return undefined;
  return {
    fetcher: createGuardedHttpFetcher({
      allowedPrivateHosts: parseAllowedPrivateHosts(config.allowPrivateHosts),
      userAgent: PROBE_USER_AGENT,
      acceptLanguage: "en-US,en;q=0.9",
      timeoutMs: config.probe.timeoutMs,
      stallTimeoutMs: config.probe.timeoutMs,
      maxRedirects: config.maxRedirects,
    }),
    browserEvery: config.probe.browserEvery,
    browserMaxAgeMs: config.probe.browserMaxAgeMs,
  };
}

/** Everything `processCapture` and the capture handler run on. */
export function composeCaptureWorker(parts: CaptureWorkerParts): CaptureHandlerDeps {
  const { config, logger } = parts;
  const probe = composeHttpProbe(config);
  return {
    // No host gate and no queue: politeness is shaped before a capture is queued (host-shaping.ts).
    repository: parts.archive.repository,
    blobs: parts.blobs,
    capturer: parts.capturer ?? composeBrowserCapturer(config, logger),
    extract: extractArticle,
    captureOptions: config,
    maxAttempts: parts.maxAttempts ?? config.maxAttempts,
    ...(parts.cadence ? { cadence: parts.cadence } : {}),
    ...(parts.publisher ? { publisher: parts.publisher } : {}),
    ...(probe ? { probe } : {}),
    logger,
    ...(parts.metrics ? { metrics: parts.metrics } : {}),
    ...(parts.signer ? { evidence: { signer: parts.signer, palimpsestVersion: PALIMPSEST_VERSION } } : {}),
  };
}

/** The capture handler on the composed worker. */
export function createCaptureWorker(parts: CaptureWorkerParts) {
  return createCaptureHandler(composeCaptureWorker(parts));
}

/**
 * The role's credentials, taken out of the environment before Chromium can start (on Lambda, or
 * with SCRUB_ENVIRON=on): see scrub-environ.ts. Undefined when the scrub is off or the environment
 * holds none; the clients then use the SDK's default chain, which on Lambda has nothing left to
 * find in the environment: that is warned about, as the worker's first AWS call will fail.
 */
function takeCredentials(env: Record<string, string | undefined>, logger: Logger, onLambda: boolean) {
  if (!loadEnvironScrub(env)) return undefined;
  const { credentials, outcome } = takeSecretsFromEnvironment(env);
  if (outcome.status === "scrubbed") {
    logger.info("secrets scrubbed from the process environment", { variables: outcome.variables });
  } else {
    // Still deleted from process.env; only /proc/<pid>/environ may show them.
    logger.warn("process environment not scrubbed", { reason: outcome.reason });
  }
  if (!credentials && onLambda) {
    logger.warn(
      "no credentials in the environment: neither an access key pair nor a container credentials endpoint",
    );
  }
  return credentials;
}

/**
 * The capture worker's parts from its environment. Config is parsed here, at init, so a bad value
 * fails the cold start with its variable's name; then the secrets leave the environment, before any
 * client or the browser starts; the bundled Chromium is unpacked last (init runs with full CPU, and
 * the first request then starts the browser only), within a budget that keeps init under Lambda's
 * 10 s.
 */
export async function captureWorkerPartsFromEnvironment(
  env: Record<string, string | undefined> = process.env,
): Promise<CaptureWorkerParts> {
  const storage = loadStorageConfig(env);
  const config = loadCaptureConfig(env);
  const publish = loadPublishConfig(env);
  const observability = loadObservabilityConfig(env);
  const { logger, metrics } = openObservability(observability);
  const region = loadRegion(env);
  const credentials = takeCredentials(env, logger, observability.onLambda);
  const identity = credentials ? { credentials, region } : undefined;
  const archive = openArchive(storage, identity);
  // The capture function may only sign with the key (and read its public half): see evidence-signing-key.ts.
  const { kmsKeyArn } = loadSigningConfig(env);
  const signer = kmsKeyArn
    ? createKmsSigner({
        client: new KMSClient({ region, ...(credentials ? { credentials } : {}) }),
        keyId: kmsKeyArn,
      })
    : undefined;
  const publisher = fanOut([
    ...(publish.eventBusName
      ? [
          createEventBridgePublisher({
            client: new EventBridgeClient(credentials ? { credentials } : {}),
            eventBusName: publish.eventBusName,
          }),
        ]
      : []),
    ...(publish.webhook ? [createWebhookPublisher({ ...publish.webhook, logger })] : []),
  ]);
  if (!config.chromiumPath) await unpackChromiumWithin(INIT_UNPACK_BUDGET_MS);
  return {
    archive,
    blobs: openBlobStore(storage, openBlobReader(storage, region, identity), identity).blobs,
    config,
    cadence: loadCadence(env),
    ...(publisher ? { publisher } : {}),
    logger,
    metrics,
    ...(signer ? { signer } : {}),
  };
}

/** The capture Lambda from its environment (functions/capture/handler.ts). */
export async function captureWorkerFromEnvironment(env: Record<string, string | undefined> = process.env) {
  return createCaptureWorker(await captureWorkerPartsFromEnvironment(env));
}
