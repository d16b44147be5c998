/** The bucket's writer (the capture worker's): the S3 client, and the reader for its reads. */
import type { S3Client } from "@aws-sdk/client-s3";
import { createS3Client, type LocalIdentity } from "../../shared/adapters/aws-clients.ts";
import { createS3BlobStore } from "../../shared/adapters/s3-blob-store.ts";
import type { StorageConfig } from "../../shared/config.ts";
import type { BlobReader, BlobStore } from "../../shared/ports.ts";

/** The store and its S3 client (returned so the bench can count the client's requests). */
export function openBlobStore(
  storage: Pick<StorageConfig, "bucketName" | "s3Endpoint">,
  reader: BlobReader,
  identity?: LocalIdentity,
): { s3: S3Client; blobs: BlobStore } {
  const s3 = createS3Client(storage, identity);
  return { s3, blobs: createS3BlobStore({ client: s3, bucketName: storage.bucketName, reader }) };
}
