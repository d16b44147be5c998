/**
 * Content-addressed artifact storage on S3: the key is the SHA-256 of the bytes, so identical
 * artifacts (an unchanged page's screenshot, a shared stylesheet) are stored once.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { sha256Hex } from "../domain/ids.ts";
import type { ArtifactRef } from "../domain/model.ts";
import type { BlobStore } from "../ports.ts";
import { contentDisposition } from "./s3-blob-reader.ts";

export const BLOB_PREFIX = "blobs/sha256/";

export function blobKey(sha256: string): string {
  return `${BLOB_PREFIX}${sha256}`;
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NotFound" || e?.name === "NoSuchKey" || e?.$metadata?.httpStatusCode === 404;
}

export function createS3BlobStore(deps: { client: S3Client; bucketName: string }): BlobStore {
  const { client, bucketName } = deps;
  return {
    async putBlob(body, meta) {
      const sha256 = sha256Hex(body);
      const key = blobKey(sha256);
      const ref: ArtifactRef = {
        key,
        sha256,
        bytes: body.byteLength,
        contentType: meta.contentType,
        fileName: meta.fileName,
      };
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucketName, Key: key }));
        return ref;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      await client.send(
        new PutObjectCommand({
          Bucket: bucketName,
          Key: key,
          Body: body,
          ContentType: meta.contentType,
          ChecksumAlgorithm: "SHA256",
          ChecksumSHA256: Buffer.from(sha256, "hex").toString("base64"),
        }),
      );
      return ref;
    },

    async getBlob(ref) {
      const out = await client.send(new GetObjectCommand({ Bucket: bucketName, Key: ref.key }));
      if (!out.Body) throw new Error(`S3 object ${ref.key} has no body`);
      return out.Body.transformToByteArray();
    },

    async presignGet(ref, options) {
      const command = new GetObjectCommand({
        Bucket: bucketName,
        Key: ref.key,
        ResponseContentType: ref.contentType,
        ResponseContentDisposition: contentDisposition(options.disposition, ref.fileName),
      });
      return getSignedUrl(client, command, { expiresIn: options.expiresInSeconds });
    },
  };
}
