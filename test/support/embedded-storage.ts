/** The embedded S3 and DynamoDB servers in a temp directory, for integration tests and the bench rig. */
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import S3rver from "s3rver";
import { openArchive, openBlobReader, withSources } from "../../functions/compose/archive.ts";
import { openBlobStore } from "../../functions/compose/blob-store.ts";
import { composeCaptureWorker } from "../../functions/compose/capture-worker.ts";
import { ensureArchiveTable, startEmbeddedDynamo } from "../../local/embedded-dynamodb.ts";
import { startEmbeddedS3 } from "../../local/embedded-s3.ts";
import { loadCaptureConfig } from "../../shared/config.ts";
import type { ProcessCaptureDeps } from "../../shared/domain/capture/index.ts";
import { newCaptureId, urlIdFor } from "../../shared/domain/ids.ts";
import { createLogger } from "../../shared/logger.ts";
import type {
  ArchiveRepository,
  BlobStore,
  PageCaptureOptions,
  PageCapturer,
  SourceRepository,
} from "../../shared/ports.ts";

/** The two servers, with the archive table and bucket made; `close()` stops both and removes their files. */
export interface StorageServers {
  /** The temp directory both servers keep their files in. */
  dir: string;
  s3Endpoint: string;
  dynamodbEndpoint: string;
  /** Where the S3 server keeps its objects. */
  s3Directory: string;
  close(): Promise<void>;
}

/** The SDK wants credentials and a region even for the embedded servers. */
export function useLocalCredentials(): void {
  process.env.AWS_REGION ??= "us-east-1";
  process.env.AWS_ACCESS_KEY_ID ??= "S3RVER";
  process.env.AWS_SECRET_ACCESS_KEY ??= "S3RVER";
}

/** Starts both servers in a fresh temp directory, with `names`' table and bucket. */
export async function startStorageServers(names: {
  bucketName: string;
  tableName: string;
  /** The temp directory's prefix, so a leftover one says whose it was. */
  prefix: string;
  /** `false`: s3rver alone, without the verifying front `npm start` puts before it (only to measure the front). */
  s3Front?: boolean;
}): Promise<StorageServers> {
  useLocalCredentials();
  const dir = await mkdtemp(join(tmpdir(), names.prefix));
  const s3Directory = join(dir, "s3");
  const s3Server =
    names.s3Front === false
      ? await startBareS3rver(s3Directory, names.bucketName)
      : await startEmbeddedS3({
          directory: s3Directory,
          bucketName: names.bucketName,
          credentials: {
            accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? "S3RVER",
            secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? "S3RVER",
          },
        });
  const dynamo = await startEmbeddedDynamo({ directory: join(dir, "dynamodb") });
  await ensureArchiveTable(new DynamoDBClient({ endpoint: dynamo.endpoint }), names.tableName);
  return {
    dir,
    s3Endpoint: s3Server.endpoint,
    dynamodbEndpoint: dynamo.endpoint,
    s3Directory,
    async close() {
      await Promise.all([s3Server.close(), dynamo.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** s3rver on its own, as the local runner served S3 before its verifying front. */
async function startBareS3rver(
  directory: string,
  bucketName: string,
): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    directory,
    silent: true,
    vhostBuckets: false,
    configureBuckets: [{ name: bucketName }],
  });
  const { port } = (await server.run()) as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, close: async () => void (await server.close()) };
}

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
  const bucketName = "test-archive";
  const tableName = "test-archive";
  const servers = await startStorageServers({ bucketName, tableName, prefix: "palimpsest-storage-" });
  // The Lambdas' own composition (functions/compose/), on the embedded servers.
  const archive = withSources(openArchive({ tableName, dynamodbEndpoint: servers.dynamodbEndpoint }));
  const storage = { bucketName, s3Endpoint: servers.s3Endpoint };
  const { s3, blobs } = openBlobStore(
    storage,
    openBlobReader(storage, process.env.AWS_REGION ?? "us-east-1"),
  );
  return {
    dir: servers.dir,
    bucketName,
    dynamodbEndpoint: servers.dynamodbEndpoint,
    s3Endpoint: servers.s3Endpoint,
    tableName,
    s3,
    repository: archive.repository,
    sources: archive.sources,
    blobs,
    close: () => servers.close(),
  };
}

/**
 * The capture worker over this storage, composed as the Lambda composes it
 * (functions/compose/capture-worker.ts) from the production defaults with `captureOptions` over
 * them: the real extractor, 3 attempts, no HTTP probe (PROBE=off: these tests are about the
 * browser path), a silent log. `extra` adds or replaces what a test needs beside (a host gate,
 * a clock, an evidence signer with short retries…).
 */
export function captureDeps(
  storage: EmbeddedStorage,
  capturer: PageCapturer,
  captureOptions: PageCaptureOptions,
  extra: Partial<ProcessCaptureDeps> = {},
): ProcessCaptureDeps {
  return {
    ...composeCaptureWorker({
      archive: storage,
      blobs: storage.blobs,
      config: { ...loadCaptureConfig({ PROBE: "off" }), ...captureOptions },
      capturer,
      maxAttempts: 3,
      logger: createLogger({}, "silent"),
    }),
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
