/**
 * The local runner's embedded S3 is as strict as S3 where evidence depends on it (issue 12):
 * only requests signed with the runner's key, presigned links checked and expiring, blobs written
 * once and never deleted, and nothing served as active content.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { type EmbeddedS3, startEmbeddedS3 } from "../../local/embedded-s3.ts";
import { createS3Client } from "../../shared/adapters/aws-clients.ts";
import { createS3BlobReader } from "../../shared/adapters/s3-blob-reader.ts";
import { blobKey, createS3BlobStore } from "../../shared/adapters/s3-blob-store.ts";
import type { ArtifactRef } from "../../shared/domain/model.ts";

const BUCKET = "front-test";
const KEY = { accessKeyId: "LOCALTESTKEY", secretAccessKey: "local-test-secret" };
const REGION = "us-east-1";
let dir: string;
let s3: EmbeddedS3;
const clock = { offsetMs: 0 };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "palimpsest-front-"));
  s3 = await startEmbeddedS3({
    directory: dir,
    bucketName: BUCKET,
    credentials: KEY,
    now: () => new Date(Date.now() + clock.offsetMs),
  });
});

after(async () => {
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

function storeWith(credentials: typeof KEY) {
  const reader = createS3BlobReader({
    bucketName: BUCKET,
    region: REGION,
    endpoint: s3.endpoint,
    credentials,
  });
  const client = createS3Client({ s3Endpoint: s3.endpoint }, { credentials, region: REGION });
  return { reader, client, blobs: createS3BlobStore({ client, bucketName: BUCKET, reader }) };
}

const page = (text: string) =>
  new TextEncoder().encode(`<html><body><script>alert(1)</script>${text}</body></html>`);

async function storeRaw(text: string): Promise<ArtifactRef> {
  return storeWith(KEY).blobs.putBlob(page(text), { contentType: "text/html", fileName: "raw.html" });
}

async function expectRefused(response: Response, status: number, code: string) {
  assert.equal(response.status, status);
  const body = await response.text();
  assert.match(body, new RegExp(`<Code>${code}</Code>`), body);
}

describe("embedded S3 front: signatures", () => {
  it("stores and serves what the runner's own clients sign", async () => {
    const { blobs } = storeWith(KEY);
    const ref = await storeRaw("kept");
    assert.deepEqual(await blobs.getBlob(ref), page("kept"));
    const again = await storeRaw("kept");
    assert.equal(again.key, ref.key, "a second store of the same bytes is answered 412 and counted stored");
  });

  it("refuses unsigned PUT, DELETE, GET and browser-form POST", async () => {
    const ref = await storeRaw("unsigned");
    const url = `${s3.endpoint}/${BUCKET}/${ref.key}`;
    await expectRefused(await fetch(url, { method: "PUT", body: "TAMPERED" }), 403, "AccessDenied");
    await expectRefused(
      await fetch(`${s3.endpoint}/${BUCKET}/notes/x`, { method: "PUT", body: "x" }),
      403,
      "AccessDenied",
    );
    await expectRefused(await fetch(url, { method: "DELETE" }), 403, "AccessDenied");
    await expectRefused(await fetch(url), 403, "AccessDenied");
    const form = new FormData();
    form.set("key", ref.key);
    form.set("file", new Blob(["TAMPERED"]));
    await expectRefused(
      await fetch(`${s3.endpoint}/${BUCKET}`, { method: "POST", body: form }),
      403,
      "AccessDenied",
    );
    assert.deepEqual(await storeWith(KEY).blobs.getBlob(ref), page("unsigned"), "the bytes are unchanged");
  });

  it("refuses requests signed with another key or secret", async () => {
    const forged = storeWith({ accessKeyId: KEY.accessKeyId, secretAccessKey: "guessed" });
    await assert.rejects(
      forged.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "notes/forged", Body: "x" })),
      (err: Error) => err.name === "SignatureDoesNotMatch",
    );
    const stranger = storeWith({ accessKeyId: "AKIASTRANGER", secretAccessKey: "x" });
    await assert.rejects(
      stranger.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "notes/forged", Body: "x" })),
      (err: Error) => err.name === "InvalidAccessKeyId",
    );
  });

  it("serves a presigned link only as signed, and only until it expires", async () => {
    const ref = await storeRaw("presigned");
    const { reader } = storeWith(KEY);
    const link = await reader.presignGet(ref, { disposition: "attachment", expiresInSeconds: 60 });
    const ok = await fetch(link);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get("content-disposition") ?? "", /^attachment;/);
    assert.equal(ok.headers.get("content-security-policy"), "sandbox");
    assert.equal(ok.headers.get("x-content-type-options"), "nosniff");
    assert.deepEqual(new Uint8Array(await ok.arrayBuffer()), page("presigned"));

    const inline = link.replace(
      "response-content-disposition=attachment",
      "response-content-disposition=inline",
    );
    assert.notEqual(inline, link);
    await expectRefused(await fetch(inline), 403, "SignatureDoesNotMatch");
    await expectRefused(
      await fetch(link.replace("X-Amz-Expires=60", "X-Amz-Expires=600000")),
      403,
      "SignatureDoesNotMatch",
    );
    const other = await storeRaw("other");
    await expectRefused(await fetch(link.replace(ref.key, other.key)), 403, "SignatureDoesNotMatch");
    const unsignedQuery = link.replace(/X-Amz-Signature=[0-9a-f]+/, `X-Amz-Signature=${"0".repeat(64)}`);
    await expectRefused(await fetch(unsignedQuery), 403, "SignatureDoesNotMatch");

    clock.offsetMs = 61_000;
    try {
      await expectRefused(await fetch(link), 403, "AccessDenied");
    } finally {
      clock.offsetMs = 0;
    }
  });
});

describe("embedded S3 front: evidence is write-once", () => {
  it("refuses to overwrite or delete a blob even when signed", async () => {
    const ref = await storeRaw("evidence");
    const { client, blobs } = storeWith(KEY);
    await assert.rejects(
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: ref.key, Body: "TAMPERED" })),
      (err: Error) => err.name === "AccessDenied",
    );
    await assert.rejects(
      client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: ref.key })),
      (err: Error) => err.name === "AccessDenied",
    );
    const wrongBytes = "TAMPERED";
    const digest = createHash("sha256").update("something else").digest("hex");
    await assert.rejects(
      client.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: blobKey(digest), Body: wrongBytes, IfNoneMatch: "*" }),
      ),
      (err: Error) => err.name === "AccessDenied",
      "a blob's key must be the SHA-256 of its bytes",
    );
    await assert.rejects(
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `notes/../${ref.key}`, Body: "TAMPERED" })),
      (err: Error) => err.name === "InvalidURI",
      "no way round the rule through dot segments",
    );
    assert.deepEqual(await blobs.getBlob(ref), page("evidence"));
  });

  it("still lets the runner write and delete outside blobs/", async () => {
    const { client } = storeWith(KEY);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "scratch/a", Body: "a" }));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "scratch/a", Body: "b" }));
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "scratch/a" }));
  });
});
