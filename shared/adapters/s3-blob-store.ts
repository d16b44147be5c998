/**
 * Content-addressed artifact storage on S3: the key is the SHA-256 of the bytes, so identical
 * artifacts (an unchanged page's screenshot, a shared stylesheet) are stored once. A blob is sent
 * in one conditional PUT (`If-None-Match: *`) that S3 refuses when the key exists, rather than a
 * HEAD and then a PUT: one round trip for a new blob, and an existing one is never overwritten
 * (the bucket is versioned, so an overwrite would keep a second copy).
 *
 * Only writes go through the S3 client; reads and presigned links are the given `BlobReader`'s
 * (`s3-blob-reader.ts`, what the API function reads with), so there is one way of signing a GET.
 */
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { ArtifactRef } from "../domain/model.ts";
import type { BlobReader, BlobStore } from "../ports.ts";

export const BLOB_PREFIX = "blobs/sha256/";

export function blobKey(sha256: string): string {
  return `${BLOB_PREFIX}${sha256}`;
}

function httpStatusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** S3 refused the conditional PUT because the key exists: the same bytes are stored. */
function isAlreadyStored(err: unknown): boolean {
  return (err as { name?: string })?.name === "PreconditionFailed" || httpStatusOf(err) === 412;
}

/** Another conditional write of the key was in flight; S3 asks for a retry. */
function isWriteConflict(err: unknown): boolean {
  return (err as { name?: string })?.name === "ConditionalRequestConflict" || httpStatusOf(err) === 409;
}

const CONFLICT_RETRIES = 3;

export function createS3BlobStore(deps: {
  client: S3Client;
  bucketName: string;
  /** Reads the same bucket (see `createS3BlobReader`). */
  reader: BlobReader;
}): BlobStore {
  const { client, bucketName, reader } = deps;
  return {
    async putBlob(body, meta, options) {
      // Off the main thread: a snapshot with inlined images is megabytes, hashed while the capture
      // still checks its page.
      // (Blobs are never backed by shared memory, which is all the cast rules out.)
      const digest = await crypto.subtle.digest("SHA-256", body as Uint8Array<ArrayBuffer>);
      const sha256 = Buffer.from(digest).toString("hex");
      const key = blobKey(sha256);
      const ref: ArtifactRef = {
        key,
        sha256,
        bytes: body.byteLength,
        contentType: meta.contentType,
        fileName: meta.fileName,
      };
      if (options?.alreadyStored?.has(sha256)) return ref;
      for (let attempt = 0; ; attempt++) {
        const put = new PutObjectCommand({
          Bucket: bucketName,
          Key: key,
          Body: body,
          ContentType: meta.contentType,
          ChecksumAlgorithm: "SHA256",
          ChecksumSHA256: Buffer.from(sha256, "hex").toString("base64"),
          IfNoneMatch: "*",
        });
        // The signature covers the payload's SHA-256, which is the key: the signer need not hash
        // the body a second time (megabytes for a snapshot with inlined images).
        put.middlewareStack.add(
          (next) => (args) => {
            const request = args.request as { headers?: Record<string, string> };
            if (request.headers) request.headers["x-amz-content-sha256"] = sha256;
            return next(args);
          },
          { step: "build", name: "blobPayloadSha256" },
        );
        try {
          await client.send(put);
          return ref;
        } catch (err) {
          if (isAlreadyStored(err)) return ref;
          // The other writer may yet fail, so the blob is stored only once a PUT says so.
          if (!isWriteConflict(err) || attempt >= CONFLICT_RETRIES) throw err;
          await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
        }
      }
    },

    getBlob: (ref) => reader.getBlob(ref),
    presignGet: (ref, options) => reader.presignGet(ref, options),
  };
}
