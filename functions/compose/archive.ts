/**
 * The archive's storage as every function opens it: the DynamoDB table (URLs, captures, versions,
 * sources, host slots) and the bucket's reader. The S3 client, which only the writers need, is in
 * blob-store.ts so the API's bundle never carries it.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createDocumentClient, type LocalIdentity } from "../../shared/adapters/aws-clients.ts";
import { createDynamoArchiveRepository } from "../../shared/adapters/dynamo-archive-repository.ts";
import { createDynamoSourceRepository } from "../../shared/adapters/dynamo-source-repository.ts";
import { createS3BlobReader } from "../../shared/adapters/s3-blob-reader.ts";
import type { StorageConfig } from "../../shared/config.ts";
import type { ArchiveRepository, BlobReader, SourceRepository } from "../../shared/ports.ts";

/** The table, through one document client shared by every repository on it. */
export interface Archive {
  documents: DynamoDBDocumentClient;
  tableName: string;
  repository: ArchiveRepository;
}

/** The table with the followed sources' repository too (sweeper, poll worker, local API). */
export interface ArchiveWithSources extends Archive {
  sources: SourceRepository;
}

/**
 * Opens the table. `identity` is the embedded servers' own (local runner, bench, tests); on AWS it
 * is the role's credentials held in memory (capture worker) or unset, and the SDK finds the role's.
 */
export function openArchive(
  table: Pick<StorageConfig, "tableName" | "dynamodbEndpoint">,
  identity?: LocalIdentity,
): Archive {
  const documents = createDocumentClient(table, identity);
  return {
    documents,
    tableName: table.tableName,
    repository: createDynamoArchiveRepository({ client: documents, tableName: table.tableName }),
  };
}

/**
 * The sources' repository on the same table and client. Apart from `openArchive` so the API
 * Lambda, which follows no sources on AWS, does not bundle it.
 */
export function withSources(archive: Archive): ArchiveWithSources {
  return {
    ...archive,
    sources: createDynamoSourceRepository({ client: archive.documents, tableName: archive.tableName }),
  };
}

/** Reads of the bucket: signed requests without the S3 client, a fifth of the API's bundle. */
export function openBlobReader(
  storage: Pick<StorageConfig, "bucketName" | "s3Endpoint">,
  region: string,
  identity?: LocalIdentity,
): BlobReader {
  return createS3BlobReader({
    bucketName: storage.bucketName,
    region,
    endpoint: storage.s3Endpoint,
    ...(identity ? { credentials: identity.credentials } : {}),
  });
}
