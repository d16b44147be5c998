/**
 * The capture worker's real path, on one machine, for the performance benchmarks: the embedded S3
 * and DynamoDB servers on disk, the same adapters the Lambdas wire (with counters on the AWS
 * clients: requests by kind, and the read/write capacity DynamoDB reports), the Chromium capturer,
 * the extractor and `processCapture`. Captures are submitted through `submitCapture` (what the API
 * does) and recaptures through `sweepDueUrls` (what the sweeper does), so a capture's whole life is
 * counted.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { openArchive, openBlobReader } from "../functions/compose/archive.ts";
import { openBlobStore } from "../functions/compose/blob-store.ts";
import { composeBrowserCapturer, composeCaptureWorker } from "../functions/compose/capture-worker.ts";
import type { createChromiumPageCapturer } from "../shared/adapters/chromium/page-capturer.ts";
import { INDEX_SHARDS } from "../shared/adapters/table-schema.ts";
import { type CaptureConfig, loadCaptureConfig } from "../shared/config.ts";
import {
  type ProcessCaptureDeps,
  type ProcessOutcome,
  processCapture,
} from "../shared/domain/capture/index.ts";
import { submitCapture } from "../shared/domain/submit-capture.ts";
import { sweepDueUrls } from "../shared/domain/sweep.ts";
import { parseAllowedPrivateHosts } from "../shared/domain/url.ts";
import { createLogger } from "../shared/logger.ts";
import type {
  ArchiveRepository,
  BlobReader,
  BlobStore,
  CaptureMessage,
  EvidenceSigner,
  PageCapturer,
} from "../shared/ports.ts";
import {
  type StorageServers,
  startStorageServers as startTestStorageServers,
  useLocalCredentials,
} from "../test/support/embedded-storage.ts";

const TABLE = "palimpsest-bench";
const BUCKET = "palimpsest-bench";

/** Requests and capacity seen on the AWS clients since the last `reset()`. */
export class AwsCounters {
  /** Requests by SDK command name (`PutObjectCommand`, `UpdateCommand`…). */
  readonly requests = new Map<string, number>();
  readCapacityUnits = 0;
  writeCapacityUnits = 0;
  /**
   * Write units the table's global secondary indexes would add on AWS. dynalite reports the table's
   * units only; DynamoDB charges every index an item is in (all project every attribute) as much
   * again, twice when the write moves the item's index key. Estimated per request from the item's
   * kind (see `indexWrites`).
   */
  indexWriteUnits = 0;

  count(command: string): void {
    this.requests.set(command, (this.requests.get(command) ?? 0) + 1);
  }

  total(...commands: string[]): number {
    return commands.reduce((sum, name) => sum + (this.requests.get(name) ?? 0), 0);
  }

  reset(): void {
    this.requests.clear();
    this.readCapacityUnits = 0;
    this.writeCapacityUnits = 0;
    this.indexWriteUnits = 0;
  }
}

export interface CaptureRig {
  s3Directory: string;
  s3Endpoint: string;
  dynamodbEndpoint: string;
  repository: ArchiveRepository;
  blobs: BlobStore;
  capturer: PageCapturer;
  deps: ProcessCaptureDeps;
  counters: AwsCounters;
  /** How long each `capture()` of the browser capturer took, oldest first. */
  capturerTimes: number[];
  /** Records a queued capture of `url` as `POST /v1/captures` does; returns its id. */
  submit(url: string, recapture?: "adaptive" | "off"): Promise<string>;
  /** Runs the sweeper at `now`; returns the ids of the captures it queued. */
  sweep(now: Date): Promise<string[]>;
  process(captureId: string): Promise<ProcessOutcome>;
  close(): Promise<void>;
}

export interface CaptureRigOptions {
  /** The fixture site's `host:port`, which the URL guard and the egress proxy must let through. */
  allowedHost: string;
  /** The capture configuration; defaults to the production defaults (`loadCaptureConfig({})`). */
  config?: CaptureConfig;
  /** Builds the browser capturer (another version of it, to compare). @default createChromiumPageCapturer */
  createCapturer?: typeof createChromiumPageCapturer;
  /** Signs each new version's evidence package (WACZ). @default none: no package is built */
  signer?: EvidenceSigner;
}

export type { StorageServers };

/**
 * The embedded S3 and DynamoDB servers (the tests' own starter), with the bench's table and bucket.
 * `s3Front: false` serves S3 from s3rver alone, without the verifying front `npm start` puts before
 * it (local/embedded-s3.ts): only to measure what the front costs (bench/s3-front.ts).
 */
export function startStorageServers(options: { s3Front?: boolean } = {}): Promise<StorageServers> {
  return startTestStorageServers({
    bucketName: BUCKET,
    tableName: TABLE,
    prefix: "palimpsest-bench-",
    ...options,
  });
}

/** Starts the embedded servers and a worker on them; `close()` stops both. */
export async function startCaptureRig(options: CaptureRigOptions): Promise<CaptureRig> {
  const servers = await startStorageServers();
  const rig = await connectCaptureRig(servers, options);
  return {
    ...rig,
    async close() {
      await rig.close();
      await servers.close();
    },
  };
}

/**
 * A worker (capturer, adapters, `processCapture`) on servers started elsewhere — in another
 * process, for the memory benchmark. `close()` closes the browser only.
 */
export async function connectCaptureRig(
  servers: Omit<StorageServers, "close" | "dir">,
  options: CaptureRigOptions,
): Promise<CaptureRig> {
  useLocalCredentials();
  const counters = new AwsCounters();
  const config = options.config ?? loadCaptureConfig({});
  const archive = openArchive({ tableName: TABLE, dynamodbEndpoint: servers.dynamodbEndpoint });
  const { repository, documents } = archive;
  const storage = { bucketName: BUCKET, s3Endpoint: servers.s3Endpoint };
  const reader = openBlobReader(storage, process.env.AWS_REGION ?? "us-east-1");
  const { s3, blobs } = openBlobStore(storage, countedReads(reader, counters));
  countS3(s3, counters);
  countDynamo(documents, counters);
  const allowedPrivateHosts = parseAllowedPrivateHosts(options.allowedHost);
  const browserCapturer = composeBrowserCapturer(
    { ...config, allowPrivateHosts: options.allowedHost },
    undefined,
    options.createCapturer,
  );
  // `processCapture` replaces the capturer's `total` with its own; the browser part is timed here.
  const capturerTimes: number[] = [];
  const capturer: PageCapturer = {
    async capture(url, captureOptions, hooks) {
      const started = performance.now();
      try {
        return await browserCapturer.capture(url, captureOptions, hooks);
      } finally {
        capturerTimes.push(performance.now() - started);
      }
    },
    close: () => browserCapturer.close(),
  };
  const logger = createLogger({}, "silent");
  const queued: CaptureMessage[] = [];
  const queue = {
    enqueue: async (message: CaptureMessage) => void queued.push(message),
    enqueueBatch: async (entries: Array<{ message: CaptureMessage }>) =>
      void queued.push(...entries.map((e) => e.message)),
  };
  // The Lambda's worker (functions/compose/). It has no host gate: politeness is shaped before
  // a capture is queued, and this rig submits and sweeps without a shaper.
  const deps: ProcessCaptureDeps = composeCaptureWorker({
    archive,
    blobs,
    config,
    capturer,
    logger,
    ...(options.signer ? { signer: options.signer } : {}),
  });

  return {
    s3Directory: servers.s3Directory,
    s3Endpoint: servers.s3Endpoint,
    dynamodbEndpoint: servers.dynamodbEndpoint,
    repository,
    blobs,
    capturer,
    deps,
    counters,
    capturerTimes,
    async submit(url, recapture = "off") {
      const submitted = await submitCapture(
        { repository, queue, resolveHost: async () => ["127.0.0.1"], allowedPrivateHosts },
        { url, recapture },
      );
      return submitted.captureId;
    },
    async sweep(now) {
      queued.length = 0;
      await sweepDueUrls({ repository, queue, shards: INDEX_SHARDS, logger }, now);
      return queued.map((message) => message.captureId);
    },
    process: (captureId) => processCapture(deps, captureId),
    close: () => capturer.close(),
  };
}

function countS3(client: S3Client, counters: AwsCounters): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      counters.count(context.commandName ?? "unknown");
      return next(args);
    },
    { step: "initialize", name: "benchCountS3" },
  );
}

/**
 * Reads go through the blob reader (signed requests sent with `fetch`), not the S3 client: each is
 * counted as the GetObject it is.
 */
function countedReads(reader: BlobReader, counters: AwsCounters): BlobReader {
  return {
    getBlob: (ref) => {
      counters.count("GetObjectCommand");
      return reader.getBlob(ref);
    },
    presignGet: (ref, options) => reader.presignGet(ref, options),
  };
}

/** Asks DynamoDB for the capacity each request consumed, as on-demand billing counts it. */
function countDynamo(client: DynamoDBDocumentClient, counters: AwsCounters): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? "unknown";
      counters.count(command);
      const input = args.input as { ReturnConsumedCapacity?: string };
      input.ReturnConsumedCapacity ??= "TOTAL";
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
      const writesBefore = counters.writeCapacityUnits;
      for (const entry of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
        const units = entry as {
          CapacityUnits?: number;
          ReadCapacityUnits?: number;
          WriteCapacityUnits?: number;
        };
        if (units.ReadCapacityUnits !== undefined || units.WriteCapacityUnits !== undefined) {
          counters.readCapacityUnits += units.ReadCapacityUnits ?? 0;
          counters.writeCapacityUnits += units.WriteCapacityUnits ?? 0;
        } else if (/^(Get|Query|Scan|BatchGet|TransactGet)/.test(context.commandName ?? "")) {
          counters.readCapacityUnits += units.CapacityUnits ?? 0;
        } else {
          counters.writeCapacityUnits += units.CapacityUnits ?? 0;
        }
      }
      counters.indexWriteUnits +=
        (counters.writeCapacityUnits - writesBefore) * indexWrites(command, args.input);
      return result;
    },
    { step: "initialize", name: "benchCountDynamo" },
  );
}

/** Items as the middleware sees them: the document client's plain values (or marshalled ones). */
type Attributes = Record<string, unknown>;

const stringOf = (value: unknown): string =>
  typeof value === "string" ? value : ((value as { S?: string } | undefined)?.S ?? "");

/**
 * Index writes per table write, for this schema (shared/adapters/table-schema.ts): captures are in
 * GSI2 and GSI3, a scheduled URL record in GSI1 (two writes when its due key moves), a flagged
 * version in GSI3; host-gate items in none. For a batch, the mean over its items.
 */
function indexWrites(command: string, input: unknown): number {
  const indexedIn = (item: Attributes) =>
    ["GSI1PK", "GSI2PK", "GSI3PK"].filter((name) => item[name] !== undefined).length;
  if (command === "PutItemCommand") return indexedIn((input as { Item: Attributes }).Item);
  if (command === "BatchWriteItemCommand") {
    const requests = Object.values(
      (input as { RequestItems: Record<string, unknown[]> }).RequestItems,
    ).flat();
    const items = requests.map((r) => (r as { PutRequest?: { Item: Attributes } }).PutRequest?.Item ?? {});
    return items.reduce((sum, item) => sum + indexedIn(item), 0) / Math.max(1, items.length);
  }
  if (command === "UpdateItemCommand") {
    const { Key, UpdateExpression } = input as { Key: Attributes; UpdateExpression?: string };
    const pk = stringOf(Key.PK);
    if (pk.startsWith("CAPTURE#")) return 2;
    if (pk.startsWith("URL#") && stringOf(Key.SK) === "URL")
      return /GSI1/.test(UpdateExpression ?? "") ? 2 : 1;
  }
  return 0;
}

/** Bytes of every file under `dir` (what the embedded S3 server keeps on disk). */
export async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}
