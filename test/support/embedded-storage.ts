/** The embedded S3 and DynamoDB servers in a temp directory, for integration tests. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { openArchive, openBlobReader, withSources } from "../../functions/compose/archive.ts";
import { openBlobStore } from "../../functions/compose/blob-store.ts";
import { ensureArchiveTable, startEmbeddedDynamo } from "../../local/embedded-dynamodb.ts";
import { startEmbeddedS3 } from "../../local/embedded-s3.ts";
import type { ProcessCaptureDeps } from "../../shared/domain/capture/index.ts";
import { extractArticle } from "../../shared/domain/extract/index.ts";
import { newCaptureId, urlIdFor } from "../../shared/domain/ids.ts";
import { createLogger } from "../../shared/logger.ts";
import type {
  ArchiveRepository,
  BlobStore,
  PageCaptureOptions,
  PageCapturer,
  SourceRepository,
} from "../../shared/ports.ts";

export interface EmbeddedStorage {
  dir: string;
  repository: ArchiveRepository;
  /** Sources, in the same table. */
  sources: SourceRepository;
  blobs: BlobStore;
  s3: ReturnType<typeof openBlobStore>["s3"];
  bucketName: string;
  /** The embedded DynamoDB's endpoint and the table, for adapters beside the repository. */
  dynamodbEndpoint: string;
  /** The embedded S3's endpoint, for a worker of its own (a child process) on the same bucket. */
  s3Endpoint: string;
  tableName: string;
  close(): Promise<void>;
}

export async function startEmbeddedStorage(): Promise<EmbeddedStorage> {
  process.env.AWS_REGION ??= "us-east-1";
  process.env.AWS_ACCESS_KEY_ID ??= "S3RVER";
  process.env.AWS_SECRET_ACCESS_KEY ??= "S3RVER";
  const dir = await mkdtemp(join(tmpdir(), "palimpsest-storage-"));
  const bucketName = "test-archive";
  const tableName = "test-archive";
  const s3Server = await startEmbeddedS3({
    directory: join(dir, "s3"),
    bucketName,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? "S3RVER",
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? "S3RVER",
    },
  });
  const dynamo = await startEmbeddedDynamo({ directory: join(dir, "dynamodb") });
  await ensureArchiveTable(new DynamoDBClient({ endpoint: dynamo.endpoint }), tableName);
  // The Lambdas' own composition (functions/compose/), on the embedded servers.
  const archive = withSources(openArchive({ tableName, dynamodbEndpoint: dynamo.endpoint }));
  const storage = { bucketName, s3Endpoint: s3Server.endpoint };
  const { s3, blobs } = openBlobStore(storage, openBlobReader(storage, process.env.AWS_REGION));
  return {
    dir,
    bucketName,
    dynamodbEndpoint: dynamo.endpoint,
    s3Endpoint: s3Server.endpoint,
    tableName,
    s3,
    repository: archive.repository,
    sources: archive.sources,
    blobs,
    async close() {
      await Promise.all([s3Server.close(), dynamo.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * What `processCapture` runs on over this storage: the real extractor, 3 attempts, a silent log;
 * `extra` adds or replaces the rest (a host gate, a clock…).
 */
export function captureDeps(
  storage: EmbeddedStorage,
  capturer: PageCapturer,
  captureOptions: PageCaptureOptions,
  extra: Partial<ProcessCaptureDeps> = {},
): ProcessCaptureDeps {
  return {
    repository: storage.repository,
    blobs: storage.blobs,
    capturer,
    extract: extractArticle,
    captureOptions,
    maxAttempts: 3,
    logger: createLogger({}, "silent"),
    ...extra,
  };
}

/** A URL record (if new) and a fresh `queued` capture of it, as a submission leaves them. */
export async function queuedCapture(repository: ArchiveRepository, url: string): Promise<string> {
  const urlId = urlIdFor(url);
  const now = new Date().toISOString();
  await repository.ensureUrl({
    urlId,
    url,
    captureCount: 0,
    versionCount: 0,
    recapture: "off",
    createdAt: now,
  });
  const captureId = newCaptureId();
  await repository.putCapture({ captureId, urlId, url, status: "queued", requestedAt: now, attempts: 0 });
  return captureId;
}
