/**
 * The API's blob reader (signed requests without the S3 client) against the SDK it stands in for
 * and against the embedded S3 server: the same presigned URLs, byte for byte, and reads that
 * return what the store wrote.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { contentDisposition, createS3BlobReader, S3ReadError } from "../../shared/adapters/s3-blob-reader.ts";
import type { ArtifactRef } from "../../shared/domain/model.ts";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";

const CREDENTIALS = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  sessionToken: "IQoJb3JpZ2luX2VjEXAMPLE//token+with/odd=chars",
};
const SIGNING_DATE = new Date("2026-11-25T12:34:56Z");

const REF: ArtifactRef = {
  key: "blobs/sha256/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  bytes: 4,
  contentType: "text/html; charset=utf-8",
  fileName: "Straße – «snapshot» (1).html",
};

/** What `@aws-sdk/s3-request-presigner` makes for the same object, clock and credentials. */
async function sdkPresigned(
  ref: ArtifactRef,
  client: S3Client,
  bucket: string,
  disposition: "inline" | "attachment",
  expiresIn: number,
): Promise<string> {
  const command = new GetObjectCommand({
    Bucket: bucket,
    Key: ref.key,
    ResponseContentType: ref.contentType,
    ResponseContentDisposition: contentDisposition(disposition, ref.fileName),
  });
  return getSignedUrl(client, command, { expiresIn, signingDate: SIGNING_DATE });
}

describe("S3 blob reader: presigned links", () => {
  test("on AWS: the SDK's virtual-hosted URL, byte for byte, session token included", async () => {
    for (const region of ["us-east-1", "eu-west-2"]) {
      const client = new S3Client({ region, credentials: CREDENTIALS });
      const reader = createS3BlobReader({
        bucketName: "palimpsest-archive-1a2b3c",
        region,
        credentials: CREDENTIALS,
        now: () => SIGNING_DATE,
      });
      for (const disposition of ["inline", "attachment"] as const) {
        const ours = await reader.presignGet(REF, { expiresInSeconds: 900, disposition });
        const sdk = await sdkPresigned(REF, client, "palimpsest-archive-1a2b3c", disposition, 900);
        assert.equal(ours, sdk, `${region} ${disposition}`);
      }
    }
  });

  test("on a custom endpoint: the SDK's path-style URL, byte for byte", async () => {
    const endpoint = "http://127.0.0.1:4569";
    const client = new S3Client({
      region: "us-east-1",
      endpoint,
      forcePathStyle: true,
      credentials: CREDENTIALS,
    });
    const reader = createS3BlobReader({
      bucketName: "archive",
      region: "us-east-1",
      endpoint,
      credentials: CREDENTIALS,
      now: () => SIGNING_DATE,
    });
    const ours = await reader.presignGet(REF, { expiresInSeconds: 60, disposition: "attachment" });
    assert.equal(ours, await sdkPresigned(REF, client, "archive", "attachment", 60));
  });
});

// The embedded S3 server does not check signatures; the byte-for-byte comparison with the SDK above
// is what shows they are right.
describe("S3 blob reader: against the embedded S3 server", () => {
  let storage: EmbeddedStorage;
  let endpoint: string;

  before(async () => {
    storage = await startEmbeddedStorage();
    endpoint = String(
      await storage.s3.config.endpoint?.().then((e) => `${e.protocol}//${e.hostname}:${e.port}`),
    );
  });
  after(() => storage.close());

  function reader() {
    return createS3BlobReader({ bucketName: storage.bucketName, region: "us-east-1", endpoint });
  }

  test("reads back what the store wrote, and its presigned link serves it with its name and type", async () => {
    const body = new TextEncoder().encode("<p>Évidence</p>");
    const ref = await storage.blobs.putBlob(body, {
      contentType: "text/html; charset=utf-8",
      fileName: "é.html",
    });
    assert.deepEqual(await reader().getBlob(ref), body);

    const link = await reader().presignGet(ref, { expiresInSeconds: 60, disposition: "attachment" });
    const response = await fetch(link);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(response.headers.get("content-disposition"), contentDisposition("attachment", "é.html"));
    assert.deepEqual(new Uint8Array(await response.arrayBuffer()), body);
  });

  test("a missing object is NoSuchKey with status 404, not retried", async () => {
    const started = performance.now();
    await assert.rejects(
      reader().getBlob({ ...REF, key: "blobs/sha256/missing" }),
      (err: unknown) =>
        err instanceof S3ReadError && err.name === "NoSuchKey" && err.$metadata.httpStatusCode === 404,
    );
    assert.ok(performance.now() - started < 1_000, "no backoff for a 404");
  });
});

describe("S3 blob reader: retries", () => {
  test("throttling and server errors are retried; the read then succeeds", async () => {
    const answers = [503, 500, 429, 200];
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(new URL(req.url ?? "/", "http://x").searchParams.get("X-Amz-Algorithm") ?? "");
      const status = answers.shift() ?? 200;
      res.writeHead(status, { "content-type": "application/octet-stream" });
      res.end(status === 200 ? "body" : `<Error><Code>SlowDown</Code></Error>`);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const reader = createS3BlobReader({
        bucketName: "b",
        region: "us-east-1",
        endpoint: `http://127.0.0.1:${port}`,
        credentials: CREDENTIALS,
      });
      assert.equal(new TextDecoder().decode(await reader.getBlob(REF)), "body");
      assert.deepEqual(seen, Array(4).fill("AWS4-HMAC-SHA256"));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
