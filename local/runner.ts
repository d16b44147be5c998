/**
 * The local runner: the same Lambda handlers on one machine. It starts the embedded S3 and
 * DynamoDB servers, turns HTTP requests into API Gateway events and queue messages into SQS
 * events, and nothing more — all behaviour lives in the handlers.
 */

import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import type { Server } from "node:http";
import { join, resolve } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Context, SQSEvent } from "aws-lambda";
import { resolveHost } from "../functions/api/create-handler.ts";
import { composeApi } from "../functions/compose/api.ts";
import { openArchive, openBlobReader, withSources } from "../functions/compose/archive.ts";
import { openBlobStore } from "../functions/compose/blob-store.ts";
import { composeBrowserCapturer, createCaptureWorker } from "../functions/compose/capture-worker.ts";
import { composeHostShaper } from "../functions/compose/host-gate.ts";
import { openMetrics } from "../functions/compose/observability.ts";
import { composeDeadLetter, composePoll, composeSweeper } from "../functions/compose/workers.ts";
import type { SweepOutcome } from "../functions/sweeper/sweep-handler.ts";
import { createGuardedHttpFetcher } from "../shared/adapters/guarded-http-fetcher.ts";
import { openLocalKeySigner } from "../shared/adapters/local-key-signer.ts";
import { createWebhookPublisher } from "../shared/adapters/webhook-publisher.ts";
import {
  defaultReplayPort,
  loadApiConfig,
  loadCadence,
  loadCaptureConfig,
  loadHostShapingConfig,
  loadObservabilityConfig,
  loadPollConfig,
  loadPublishConfig,
  loadSweepBackPressureConfig,
} from "../shared/config.ts";
import { parseAllowedPrivateHosts } from "../shared/domain/url.ts";
import { createLogger, type Logger } from "../shared/logger.ts";
import type { ArchiveMetrics } from "../shared/metrics.ts";
import type { PageCapturer } from "../shared/ports.ts";
import { toApiGatewayEvent } from "./api-gateway-event.ts";
import { type ApiServerLimits, createLocalApiServer, type LocalApiServer } from "./api-server.ts";
import { type DataDirLock, lockDataDir } from "./data-dir-lock.ts";
import { ensureArchiveTable, startEmbeddedDynamo } from "./embedded-dynamodb.ts";
import { startEmbeddedS3 } from "./embedded-s3.ts";
import { FileQueue, type QueueMessage } from "./file-queue.ts";
import { listenOnLoopback } from "./listen.ts";
import { openLocalCredentials } from "./local-credentials.ts";
import { handleLocalSweep } from "./local-sweep.ts";
import { fileCaptureQueue, filePollQueue, fileQueueAge } from "./queue-ports.ts";
import { reconcileCaptures } from "./reconcile.ts";
import { releaseAllHostSlots } from "./release-host-slots.ts";
import { createLocalReplayServer, type LocalReplayServer } from "./replay-server.ts";
import { startWebhookOutbox } from "./webhook-outbox.ts";

export interface LocalRunnerOptions {
  dataDir: string;
  port: number;
  /** The replay server's port (REPLAY_PORT); 0 for any free one. @default defaultReplayPort(port) */
  replayPort?: number;
  /** Configuration as environment variables (ALLOW_PRIVATE_HOSTS, API_KEY, CAPTURE_*…). */
  env?: Record<string, string | undefined>;
  /** Captures processed at once. @default 1 */
  workerConcurrency?: number;
  /** How long a received message stays invisible before SQS would redeliver it. @default 180000 */
  visibilityTimeoutMs?: number;
  /** Receives before a message moves to the dead-letter queue. @default 3 */
  maxReceiveCount?: number;
  /** How often the sweeper runs; 0 turns the timer off (tests call `sweep`). @default 60000 */
  sweepIntervalMs?: number;
  /** First wait before an edit event the webhook did not take is sent again. @default 30000 */
  webhookRetryMs?: number;
  /** Replaces the Chromium capturer (tests that inject browser faults). */
  capturer?: PageCapturer;
  logger?: Logger;
  /** Where the business metrics go. @default EMF lines on stdout, as on Lambda */
  metrics?: ArchiveMetrics;
  /** Limits of the API server (timeouts, connections per client); tests lower them. */
  serverLimits?: Partial<ApiServerLimits>;
}

export interface LocalRunner {
  url: string;
  /** The replay origin (local/replay-server.ts), where version pages replay their WACZ. */
  replayUrl: string;
  s3Endpoint: string;
  dynamodbEndpoint: string;
  /** The capture queue: both lanes, a person's captures received first (queue-ports.ts). */
  queue: FileQueue;
  /** The poll jobs of followed sources (a second file queue). */
  pollQueue: FileQueue;
  /** Runs the sweeper now, with `now` as its clock: due URLs and due sources. */
  sweep(now?: Date): Promise<SweepOutcome>;
  /** Resolves when no message (capture or poll) is queued or in flight. */
  drain(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** The local archive's table and bucket (tests open them beside a running runner). */
export const TABLE_NAME = "palimpsest-local";
export const BUCKET_NAME = "palimpsest-local";
/** The evidence signing key under DATA_DIR (PKCS#8 PEM, mode 0600). */
export const SIGNING_KEY_FILE = "signing-key.pem";
/** The embedded S3 server's access key under DATA_DIR (mode 0600; see local-credentials.ts). */
export const S3_KEY_FILE = "s3-key.json";
/** The embedded servers' region, whatever AWS_REGION says. */
export const LOCAL_REGION = "us-east-1";

function lambdaContext(functionName: string): Context {
  const deadline = Date.now() + 15 * 60_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: "2048",
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/local/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function toSqsEvent(message: QueueMessage, queueName = "palimpsest-captures"): SQSEvent {
  return {
    Records: [
      {
        messageId: message.messageId,
        receiptHandle: message.messageId,
        body: message.body,
        attributes: {
          ApproximateReceiveCount: String(message.receiveCount),
          SentTimestamp: String(message.sentAt),
          SenderId: "local",
          ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? message.sentAt),
        },
        messageAttributes: {},
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: `arn:aws:sqs:local:000000000000:${queueName}`,
        awsRegion: "local",
      },
    ],
  };
}

/**
 * Starts the runner on `options.dataDir`, which it locks (one runner per folder). A start that
 * fails (the folder is in use, the port is taken…) undoes what it started and throws one error
 * whose message says what to do.
 */
export async function startLocalRunner(options: LocalRunnerOptions): Promise<LocalRunner> {
  const env = { ...process.env, ...options.env };
  const log =
    options.logger ?? createLogger({ service: "palimpsest-local" }, loadObservabilityConfig(env).logLevel);
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const lock = await lockDataDir(dataDir);
  const undo: Array<() => Promise<unknown>> = [() => lock.release()];
  try {
    // Bound first: a busy port is reported before anything else starts.
    const http = createLocalApiServer({
      logger: log,
      ...(options.serverLimits ? { limits: options.serverLimits } : {}),
    });
    const replayPortWanted = options.replayPort ?? defaultReplayPort(options.port);
    // The replay origin on PORT+1 (its default): a port suggested instead of a busy one has both free.
    const port = await listenOnLoopback(
      http.server,
      options.port,
      "PORT",
      options.port !== 0 && replayPortWanted === options.port + 1,
    );
    undo.push(() => closeServer(http.server));
    // Its own port, so archived scripts a replay runs never share the API's origin (replay-server.ts).
    const replay = await createLocalReplayServer();
    const replayPort = await listenOnLoopback(replay.server, replayPortWanted, "REPLAY_PORT");
    undo.push(() => closeServer(replay.server));
    return await startServices(options, { log, dataDir, http, port, replay, replayPort, undo, lock });
  } catch (err) {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    throw err;
  }
}

async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((done) => {
    server.close(() => done());
    server.closeAllConnections();
  });
}

async function startServices(
  options: LocalRunnerOptions,
  started: {
    log: Logger;
    dataDir: string;
    http: LocalApiServer;
    port: number;
    replay: LocalReplayServer;
    replayPort: number;
    undo: Array<() => Promise<unknown>>;
    lock: DataDirLock;
  },
): Promise<LocalRunner> {
  const { log, dataDir, http, port, replay, replayPort, undo, lock } = started;
  const env = { ...process.env, ...options.env };
  const apiConfig = loadApiConfig(env);
  const apiUrl = `http://127.0.0.1:${port}`;
  const replayUrl = apiConfig.publicReplayUrl ?? `http://127.0.0.1:${replayPort}`;
  // Generated on first start and kept with the archive: every evidence package names its public key.
  const signer = await openLocalKeySigner(join(dataDir, SIGNING_KEY_FILE));
  // The embedded servers' own identity, never the shell's AWS_* variables or profile (issue 18).
  const identity = {
    credentials: await openLocalCredentials(join(dataDir, S3_KEY_FILE)),
    region: LOCAL_REGION,
  };
  const s3 = await startEmbeddedS3({
    directory: join(dataDir, "s3"),
    bucketName: BUCKET_NAME,
    credentials: identity.credentials,
    // The replay page fetches the WACZ from its presigned link: the bucket's CORS rule on AWS.
    corsAllowOrigins: [replayUrl],
  });
  undo.push(() => s3.close());
  replay.ready({
    storageOrigins: [s3.endpoint],
    frameAncestors: [apiUrl, ...(apiConfig.publicBaseUrl ? [apiConfig.publicBaseUrl] : [])],
  });
  const dynamo = await startEmbeddedDynamo({ directory: join(dataDir, "dynamodb") });
  undo.push(() => dynamo.close());
  await ensureArchiveTable(new DynamoDBClient({ endpoint: dynamo.endpoint, ...identity }), TABLE_NAME);

  const storage = {
    tableName: TABLE_NAME,
    bucketName: BUCKET_NAME,
    s3Endpoint: s3.endpoint,
    dynamodbEndpoint: dynamo.endpoint,
  };
  // The same composition as the Lambdas (functions/compose/), on the embedded servers and file queues.
  const archive = withSources(openArchive(storage, identity));
  const { repository, documents } = archive;
  // What the API Lambda reads with (signed requests, no S3 client); the workers' store reads with it too.
  const reader = openBlobReader(storage, LOCAL_REGION, identity);
  const { blobs } = openBlobStore(storage, reader, identity);
  const captureConfig = loadCaptureConfig(env);
  // Metrics follow the log the runner writes (a caller's silent logger silences them too).
  const metrics = options.metrics ?? openMetrics(loadObservabilityConfig(env), log.level);
  // EventBridge is AWS-only; locally, subscribers use the signed webhook.
  const { webhook } = loadPublishConfig(env);
  // Edits the webhook could not take are kept under DATA_DIR and sent again (webhook-outbox.ts).
  const outbox = webhook
    ? await startWebhookOutbox({
        direct: createWebhookPublisher({ ...webhook, logger: log }),
        directory: join(dataDir, "webhook-outbox"),
        logger: log,
        ...(options.webhookRetryMs !== undefined ? { retryMs: options.webhookRetryMs } : {}),
      })
    : undefined;
  if (outbox) undo.push(() => outbox.close());
  const maxReceiveCount = options.maxReceiveCount ?? 3;
  const visibilityTimeoutMs = options.visibilityTimeoutMs ?? 180_000;
  // Refused at or below the age the file queue's ordinary retries reach, as SweeperFunction does.
  const backPressure = loadSweepBackPressureConfig(env, { maxReceiveCount, visibilityTimeoutMs });
  const cadence = loadCadence(env);
  const deadLetter = composeDeadLetter({ archive, logger: log });

  const queue = await FileQueue.open({
    directory: join(dataDir, "queue"),
    visibilityTimeoutMs,
    maxReceiveCount,
    logger: log,
    // What SQS's redrive does on AWS: the message goes to the dead-letter function.
    onDeadLetter: async (message) =>
      void (await deadLetter(
        toSqsEvent(message, "palimpsest-captures-dlq"),
        lambdaContext("palimpsest-dead-letter"),
      )),
  });
  // The sweeper's and polls' lane; the API's captures go on the interactive one (queue-ports.ts).
  const captureQueue = fileCaptureQueue(queue, "scheduled");
  // Poll jobs of followed sources: their own queue, as on AWS, so a slow feed never holds a capture.
  const polls = await FileQueue.open({
    directory: join(dataDir, "poll-queue"),
    visibilityTimeoutMs: 120_000,
    maxReceiveCount,
    logger: log,
    onDeadLetter: async (message) => {
      // The source's lease runs out and the sweep polls it again; nothing else to record.
      log.warn("poll message dead-lettered", { messageId: message.messageId });
    },
  });
  const pollQueue = filePollQueue(polls);
  const fetcher = createGuardedHttpFetcher({
    allowedPrivateHosts: parseAllowedPrivateHosts(apiConfig.allowPrivateHosts),
  });
  // Politeness of captures, decided before their messages are sent (host-shaping.ts).
  const shaper = composeHostShaper(archive, loadHostShapingConfig(env));

  // Before the API listens: what the previous process left half done (reconcile.ts).
  await reconcileCaptures({ repository, queue, logger: log });
  const freedSlots = await releaseAllHostSlots(documents, TABLE_NAME);
  if (freedSlots > 0) log.warn("host slots of the previous process freed", { freedSlots });

  const api = composeApi({
    archive,
    blobs: reader,
    // A person's captures are received before any sweep's backlog, as on AWS's interactive queue.
    queue: fileCaptureQueue(queue, "interactive"),
    shaper,
    config: apiConfig,
    csrfSecret: randomBytes(32),
    publicBaseUrl: apiConfig.publicBaseUrl ?? apiUrl,
    publicReplayUrl: replayUrl,
    cadence,
    signer,
    following: { sources: archive.sources, fetcher, pollQueue },
    resolveHost,
    logger: log,
  });
  const capturer = options.capturer ?? composeBrowserCapturer(captureConfig, log);
  const capture = createCaptureWorker({
    archive,
    blobs,
    config: captureConfig,
    cadence,
    ...(outbox ? { publisher: outbox.publisher } : {}),
    capturer,
    // The queue's receive limit is the real bound; the domain gives up on the last receive.
    maxAttempts: Math.min(captureConfig.maxAttempts, maxReceiveCount),
    logger: log,
    metrics,
    signer,
  });
  const poll = composePoll({
    archive,
    queue: captureQueue,
    config: loadPollConfig(env),
    shaper,
    resolveHost,
    fetcher,
    logger: log,
  });
  const sweeper = composeSweeper({
    archive,
    queue: captureQueue,
    pollQueue,
    shaper,
    // The file queue knows its oldest message's age itself: no CloudWatch here.
    backPressure: { ...backPressure, age: fileQueueAge(queue, "scheduled") },
    logger: log,
    metrics,
  });
  const sweep = async (now?: Date) =>
    sweeper(now ? { time: now.toISOString() } : {}, lambdaContext("palimpsest-sweeper"));

  http.ready(async (req) => {
    if (req.url?.split("?")[0] === "/_local/sweep")
      return handleLocalSweep(req, sweep, { apiKey: apiConfig.apiKey });
    return api(await toApiGatewayEvent(req), lambdaContext("palimpsest-api"));
  });

  let stopping = false;
  let inFlight = 0;
  const sweepEveryMs = options.sweepIntervalMs ?? 60_000;
  const sweepTimer =
    sweepEveryMs > 0
      ? setInterval(() => {
          sweep().catch((err: unknown) => log.error("scheduled sweep failed", { err }));
        }, sweepEveryMs)
      : undefined;
  // An SQS event source mapping in miniature: one message an event, deleted when the handler
  // reports no failure, released with a backoff (like a visibility timeout, without making a
  // developer wait minutes) when it does.
  const consume = (
    from: FileQueue,
    fn: (event: SQSEvent, context: Context) => Promise<{ batchItemFailures: unknown[] }>,
    names: { queue: string; fn: string; what: string },
  ) =>
    from.consume(
      async (message) => {
        inFlight++;
        try {
          const result = await fn(toSqsEvent(message, names.queue), lambdaContext(names.fn));
          if (result.batchItemFailures.length > 0) {
            await from.release(message.messageId, Math.min(30_000, 1000 * 2 ** message.receiveCount));
          } else {
            await from.delete(message.messageId);
          }
        } catch (err) {
          log.error(`${names.what} handler threw`, { messageId: message.messageId, err });
          await from.release(message.messageId, 1000);
        } finally {
          inFlight--;
        }
      },
      () => stopping,
    );
  // One poller: polls are short (a fetch and a few writes), and the host gate spaces them anyway.
  const poller = consume(polls, poll, { queue: "palimpsest-polls", fn: "palimpsest-poll", what: "poll" });
  const workers = Array.from({ length: options.workerConcurrency ?? 1 }, () =>
    consume(queue, capture, { queue: "palimpsest-captures", fn: "palimpsest-capture", what: "capture" }),
  );

  return {
    url: apiUrl,
    replayUrl,
    s3Endpoint: s3.endpoint,
    dynamodbEndpoint: dynamo.endpoint,
    queue,
    pollQueue: polls,
    async drain(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (queue.size > 0 || polls.size > 0 || inFlight > 0) {
        if (Date.now() > deadline) throw new Error(`queue did not drain within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    sweep,
    async close() {
      stopping = true;
      clearInterval(sweepTimer);
      await Promise.all([closeServer(http.server), closeServer(replay.server)]);
      await Promise.all([...workers, poller]);
      await outbox?.close();
      await capturer.close();
      await Promise.all([s3.close(), dynamo.close()]);
      await lock.release();
    },
  };
}
