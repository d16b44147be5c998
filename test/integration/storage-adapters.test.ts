import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { dueShard } from "../../shared/adapters/dynamo-archive-repository.ts";
import { newCaptureId, urlIdFor, versionIdForCapture } from "../../shared/domain/ids.ts";
import type { CaptureRecord, UrlRecord, VersionRecord } from "../../shared/domain/model.ts";
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

  it("sends a blob once: a stored one is refused by the server, a known one is not sent", async () => {
    const statuses: number[] = [];
    storage.s3.middlewareStack.add(
      (next) => async (args) => {
        try {
          const out = await next(args);
          statuses.push(200);
          return out;
        } catch (err) {
          statuses.push((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0);
          throw err;
        }
      },
      { step: "initialize", name: "countStatuses" },
    );
    try {
      const body = new TextEncoder().encode(`<p>once ${Math.random()}</p>`);
      const meta = { contentType: "text/html; charset=utf-8", fileName: "once.html" };
      const first = await storage.blobs.putBlob(body, meta);
      const again = await storage.blobs.putBlob(body, meta);
      assert.deepEqual(again, first);
      assert.deepEqual(statuses, [200, 412], "one conditional PUT each; the second is refused");
      const known = await storage.blobs.putBlob(body, meta, { alreadyStored: new Set([first.sha256]) });
      assert.deepEqual(known, first);
      assert.equal(statuses.length, 2, "a blob known to be stored is not sent");
      assert.equal(
        new TextDecoder().decode(await storage.blobs.getBlob(first)),
        new TextDecoder().decode(body),
      );
    } finally {
      storage.s3.middlewareStack.remove("countStatuses");
    }
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
    // The first worker finishes with the record it started with: the attempt counted since stays.
    await storage.repository.finishCapture({
      ...(started as CaptureRecord),
      status: "succeeded",
      finishedAt: new Date().toISOString(),
      versionId: "ver_x",
    });
    const finished = await storage.repository.getCapture(capture.captureId);
    assert.equal(finished?.status, "succeeded");
    assert.equal(finished?.versionId, "ver_x");
    assert.equal(finished?.attempts, 2);
    const listed = await storage.repository.listCaptures(urlId, { limit: 100 });
    assert.equal(listed.items.find((c) => c.captureId === capture.captureId)?.status, "succeeded");
    assert.equal(await storage.repository.startCapture(capture.captureId, new Date().toISOString()), null);
    // A late duplicate worker cannot overwrite the final record.
    await storage.repository.finishCapture({
      ...capture,
      status: "failed",
      error: { code: "timeout", message: "late" },
    });
    assert.equal((await storage.repository.getCapture(capture.captureId))?.status, "succeeded");
  });

  it("counts each capture on its URL once, however often it is recorded", async () => {
    const seen = (await storage.repository.getUrl(urlId)) as UrlRecord;
    const update = {
      captureId: newCaptureId(),
      capturedAt: new Date().toISOString(),
      count: true,
      nextCaptureAt: null,
    };
    assert.deepEqual(await storage.repository.recordCaptureOnUrl({ ...update, seen }), { recorded: true });
    const again = await storage.repository.recordCaptureOnUrl({ ...update, seen });
    assert.equal(again.recorded, false, "a redelivery finds it counted");
    const current = again.recorded ? null : again.current;
    assert.equal(current?.captureCount, seen.captureCount + 1);
    assert.equal(current?.lastCaptureId, update.captureId);
  });

  it("records a capture's version, count and schedule in one write, only while the URL is as read", async () => {
    const pageUrl = "https://news.example/recorded";
    const seen = await storage.repository.ensureUrl({
      urlId: urlIdFor(pageUrl),
      url: pageUrl,
      captureCount: 0,
      versionCount: 0,
      recapture: "adaptive",
      createdAt: "2026-01-01T00:00:00.000Z",
    });
    const capture = record({ urlId: seen.urlId, url: pageUrl });
    const version: VersionRecord = {
      versionId: versionIdForCapture(capture.captureId),
      urlId: seen.urlId,
      captureId: capture.captureId,
      capturedAt: "2026-01-01T00:01:00.000Z",
      textSha256: "d".repeat(64),
      artifacts: {},
      title: "Recorded",
    };
    const update = {
      captureId: capture.captureId,
      capturedAt: version.capturedAt,
      count: true,
      version,
      nextCaptureAt: "2026-01-01T00:16:00.000Z",
    };
    assert.equal(await storage.repository.putVersion(version), true);
    assert.equal(await storage.repository.putVersion(version), false, "stored once");
    assert.deepEqual(await storage.repository.recordCaptureOnUrl({ ...update, seen }), { recorded: true });
    const after = await storage.repository.getUrl(seen.urlId);
    assert.equal(after?.latestVersionId, version.versionId);
    assert.equal(after?.latestTextSha256, version.textSha256);
    assert.equal(after?.lastChangedAt, version.capturedAt);
    assert.equal(after?.title, "Recorded");
    assert.equal(after?.versionCount, 1);
    assert.equal(after?.captureCount, 1);
    assert.equal(after?.firstCapturedAt, version.capturedAt);
    assert.equal(after?.nextCaptureAt, update.nextCaptureAt);
    const due = await storage.repository.listDue(dueShard(seen.urlId), update.nextCaptureAt, { limit: 1000 });
    assert.ok(
      due.items.some((d) => d.urlId === seen.urlId),
      "in the due index",
    );

    // Decided against a latest version that has moved since: refused, with the URL as it is now.
    const late = record({ urlId: seen.urlId, url: pageUrl });
    const refused = await storage.repository.recordCaptureOnUrl({
      seen,
      captureId: late.captureId,
      capturedAt: "2026-01-01T00:02:00.000Z",
      count: true,
      nextCaptureAt: null,
    });
    assert.equal(refused.recorded, false);
    assert.equal(refused.recorded ? undefined : refused.current?.latestVersionId, version.versionId);

    // A schedule computed from a policy a person changed since: refused too.
    const changed = await storage.repository.setRecapture(seen.urlId, { everyMinutes: 60 }, null);
    assert.equal(
      (
        await storage.repository.recordCaptureOnUrl({
          seen: after as UrlRecord,
          captureId: late.captureId,
          capturedAt: "2026-01-01T00:02:00.000Z",
          count: true,
          nextCaptureAt: "2026-01-01T00:17:00.000Z",
        })
      ).recorded,
      false,
    );
    assert.deepEqual(
      await storage.repository.recordCaptureOnUrl({
        seen: changed as UrlRecord,
        captureId: late.captureId,
        capturedAt: "2026-01-01T00:02:00.000Z",
        count: true,
        nextCaptureAt: "2026-01-01T01:02:00.000Z",
      }),
      { recorded: true },
    );
    const final = await storage.repository.getUrl(seen.urlId);
    assert.equal(final?.captureCount, 2);
    assert.equal(final?.versionCount, 1);
    assert.equal(final?.nextCaptureAt, "2026-01-01T01:02:00.000Z");
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
