import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { newCaptureId, urlIdFor, versionIdForCapture } from "../../shared/domain/ids.ts";
import type { CaptureRecord, VersionRecord } from "../../shared/domain/model.ts";
import { InvalidRequestError } from "../../shared/errors.ts";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";

let storage: EmbeddedStorage;
before(async () => {
  storage = await startEmbeddedStorage();
});
after(async () => {
  await storage.close();
});

describe("S3 blob store on the embedded server", () => {
  it("stores identical bytes once and serves them through a presigned link", async () => {
    const body = new TextEncoder().encode("<html><body>snapshot</body></html>");
    const first = await storage.blobs.putBlob(body, {
      contentType: "text/html; charset=utf-8",
      fileName: "snapshot.html",
    });
    const second = await storage.blobs.putBlob(body, {
      contentType: "text/html; charset=utf-8",
      fileName: "snapshot.html",
    });
    assert.equal(first.key, second.key);
    assert.match(first.key, /^blobs\/sha256\/[0-9a-f]{64}$/);
    const listed = await storage.s3.send(new ListObjectsV2Command({ Bucket: storage.bucketName }));
    assert.equal(listed.Contents?.filter((o) => o.Key === first.key).length, 1);

    const link = await storage.blobs.presignGet(first, { expiresInSeconds: 900, disposition: "inline" });
    assert.match(link, /X-Amz-Expires=900/);
    const response = await fetch(link);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "<html><body>snapshot</body></html>");
    assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(response.headers.get("content-disposition") ?? "", /^inline; filename="snapshot.html"/);
  });
});

describe("DynamoDB archive repository on the embedded server", () => {
  const url = "https://news.example/story";
  const urlId = urlIdFor(url);
  const record = (over: Partial<CaptureRecord> = {}): CaptureRecord => ({
    captureId: newCaptureId(),
    urlId,
    url,
    status: "queued",
    requestedAt: new Date().toISOString(),
    attempts: 0,
    ...over,
  });

  it("creates a URL once and returns the stored record afterwards", async () => {
    const created = await storage.repository.ensureUrl({
      urlId,
      url,
      captureCount: 0,
      versionCount: 0,
      recapture: "adaptive",
      createdAt: "2026-01-01T00:00:00.000Z",
    });
    const again = await storage.repository.ensureUrl({
      ...created,
      recapture: "off",
      createdAt: "2027-01-01T00:00:00.000Z",
    });
    assert.equal(again.recapture, "adaptive");
    assert.equal(again.createdAt, "2026-01-01T00:00:00.000Z");
  });

  it("starts a queued capture, counts attempts, and never restarts a finished one", async () => {
    const capture = record();
    await storage.repository.putCapture(capture);
    const started = await storage.repository.startCapture(capture.captureId, new Date().toISOString());
    assert.equal(started?.status, "running");
    assert.equal(started?.attempts, 1);
    const again = await storage.repository.startCapture(capture.captureId, new Date().toISOString());
    assert.equal(again?.attempts, 2);
    await storage.repository.finishCapture({
      ...capture,
      status: "succeeded",
      attempts: 2,
      finishedAt: new Date().toISOString(),
    });
    assert.equal(await storage.repository.startCapture(capture.captureId, new Date().toISOString()), null);
    // A late duplicate worker cannot overwrite the final record.
    await storage.repository.finishCapture({
      ...capture,
      status: "failed",
      error: { code: "timeout", message: "late" },
    });
    assert.equal((await storage.repository.getCapture(capture.captureId))?.status, "succeeded");
  });

  it("commits versions idempotently and refuses a stale latest pointer", async () => {
    const first = record();
    const v1: VersionRecord = {
      versionId: versionIdForCapture(first.captureId),
      urlId,
      captureId: first.captureId,
      capturedAt: new Date().toISOString(),
      textSha256: "a".repeat(64),
      artifacts: {},
      title: "One",
    };
    assert.equal(await storage.repository.commitVersion(v1, undefined), true);
    assert.equal(await storage.repository.commitVersion(v1, undefined), true, "a redelivery is a no-op");
    let stored = await storage.repository.getUrl(urlId);
    assert.equal(stored?.versionCount, 1);
    assert.equal(stored?.latestVersionId, v1.versionId);

    const second = record();
    const v2: VersionRecord = {
      ...v1,
      versionId: versionIdForCapture(second.captureId),
      captureId: second.captureId,
      textSha256: "b".repeat(64),
    };
    const stale: VersionRecord = {
      ...v1,
      versionId: versionIdForCapture(newCaptureId()),
      textSha256: "c".repeat(64),
    };
    assert.equal(await storage.repository.commitVersion(v2, v1.versionId), true);
    assert.equal(await storage.repository.commitVersion(stale, v1.versionId), false);
    stored = await storage.repository.getUrl(urlId);
    assert.equal(stored?.versionCount, 2);
    const versions = await storage.repository.listVersions(urlId);
    assert.deepEqual(
      versions.map((v) => v.versionId),
      [v1.versionId, v2.versionId],
      "the loser leaves no orphan",
    );
  });

  it("counts each capture on its URL once, however often it is recorded", async () => {
    const before = (await storage.repository.getUrl(urlId))?.captureCount ?? 0;
    const captureId = newCaptureId();
    await storage.repository.recordCaptureOnUrl(urlId, { capturedAt: new Date().toISOString(), captureId });
    await storage.repository.recordCaptureOnUrl(urlId, { capturedAt: new Date().toISOString(), captureId });
    assert.equal((await storage.repository.getUrl(urlId))?.captureCount, before + 1);
  });

  it("lists a URL's captures newest first with an opaque cursor", async () => {
    const otherUrlId = urlIdFor("https://news.example/paged");
    const times = ["2026-01-01T00:00:01.000Z", "2026-01-01T00:00:02.000Z", "2026-01-01T00:00:03.000Z"];
    for (const requestedAt of times) {
      await storage.repository.putCapture(
        record({ urlId: otherUrlId, requestedAt, captureId: newCaptureId(new Date(requestedAt)) }),
      );
    }
    const page1 = await storage.repository.listCaptures(otherUrlId, { limit: 2 });
    assert.deepEqual(
      page1.items.map((c) => c.requestedAt),
      [times[2], times[1]],
    );
    assert.ok(page1.cursor);
    const page2 = await storage.repository.listCaptures(otherUrlId, { limit: 2, cursor: page1.cursor });
    assert.deepEqual(
      page2.items.map((c) => c.requestedAt),
      [times[0]],
    );
    await assert.rejects(
      storage.repository.listCaptures(otherUrlId, { limit: 2, cursor: "garbage!" }),
      InvalidRequestError,
    );
  });
});
