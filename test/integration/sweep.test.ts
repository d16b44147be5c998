/** The sweeper on the embedded DynamoDB: due URLs only, each enqueued once however sweeps overlap. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { INDEX_SHARDS } from "../../shared/adapters/table-schema.ts";
import { urlIdFor } from "../../shared/domain/ids.ts";
import { sweepDueUrls } from "../../shared/domain/sweep.ts";
import { createLogger } from "../../shared/logger.ts";
import type { CaptureMessage, CaptureQueue } from "../../shared/ports.ts";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";

let storage: EmbeddedStorage;
const logger = createLogger({}, "silent");
const now = new Date("2026-06-01T12:00:00Z");

before(async () => {
  storage = await startEmbeddedStorage();
});
after(async () => {
  await storage.close();
});

function recordingQueue(): CaptureQueue & { sent: CaptureMessage[] } {
  const sent: CaptureMessage[] = [];
  return {
    sent,
    enqueue: async (message) => void sent.push(message),
    enqueueBatch: async (messages) => void sent.push(...messages),
  };
}

async function addUrl(path: string, nextCaptureAt: string | null) {
  const url = `https://news.example/${path}`;
  const urlId = urlIdFor(url);
  await storage.repository.ensureUrl({
    urlId,
    url,
    captureCount: 1,
    versionCount: 1,
    recapture: "adaptive",
    createdAt: now.toISOString(),
  });
  await storage.repository.setNextCapture(urlId, nextCaptureAt);
  return urlId;
}

describe("sweepDueUrls", () => {
  it("enqueues exactly the due URLs, records their captures, and moves them out of the due index", async () => {
    const due: string[] = [];
    for (let i = 0; i < 40; i++)
      due.push(await addUrl(`due-${i}`, new Date(now.getTime() - i * 60_000).toISOString()));
    await addUrl("later", new Date(now.getTime() + 60_000).toISOString());
    await addUrl("off", null);

    const queue = recordingQueue();
    const result = await sweepDueUrls(
      { repository: storage.repository, queue, shards: INDEX_SHARDS, logger, pageSize: 7 },
      now,
    );
    assert.equal(result.enqueued, 40);
    assert.equal(result.complete, true);
    const captures = await Promise.all(queue.sent.map((m) => storage.repository.getCapture(m.captureId)));
    assert.deepEqual(new Set(captures.map((c) => c?.urlId)), new Set(due));
    assert.ok(captures.every((c) => c?.status === "queued" && c.trigger === "schedule"));

    const again = await sweepDueUrls(
      { repository: storage.repository, queue: recordingQueue(), shards: INDEX_SHARDS, logger },
      now,
    );
    assert.equal(again.enqueued, 0, "claimed URLs are not due again until their lease ends");
    const afterLease = await sweepDueUrls(
      { repository: storage.repository, queue: recordingQueue(), shards: INDEX_SHARDS, logger },
      new Date(now.getTime() + 31 * 60_000),
    );
    assert.equal(afterLease.enqueued, 41, "an abandoned claim expires; the later URL is due by then too");
  });

  it("never enqueues a URL twice when sweeps overlap", async () => {
    const later = new Date("2027-01-01T00:00:00Z");
    const ids: string[] = [];
    for (let i = 0; i < 60; i++)
      ids.push(await addUrl(`overlap-${i}`, new Date(later.getTime() - 1000).toISOString()));
    const queues = [recordingQueue(), recordingQueue(), recordingQueue()];
    const results = await Promise.all(
      queues.map((queue) =>
        sweepDueUrls(
          { repository: storage.repository, queue, shards: INDEX_SHARDS, logger, pageSize: 5 },
          later,
        ),
      ),
    );
    const urlIds = [];
    for (const queue of queues) {
      for (const message of queue.sent)
        urlIds.push((await storage.repository.getCapture(message.captureId))?.urlId);
    }
    const overlapIds = urlIds.filter((id) => ids.includes(id as string));
    assert.equal(overlapIds.length, 60, "every due URL enqueued");
    assert.equal(new Set(overlapIds).size, 60, "none twice");
    assert.ok(results.reduce((n, r) => n + r.lostClaims, 0) > 0, "the sweeps did race");
  });

  it("stops early when asked and leaves the rest due for the next sweep", async () => {
    const when = new Date("2028-01-01T00:00:00Z");
    for (let i = 0; i < 30; i++) await addUrl(`budget-${i}`, new Date(when.getTime() - 1000).toISOString());
    let pages = 0;
    const first = await sweepDueUrls(
      {
        repository: storage.repository,
        queue: recordingQueue(),
        shards: INDEX_SHARDS,
        logger,
        pageSize: 2,
        shouldStop: () => ++pages > 3,
      },
      when,
    );
    assert.equal(first.complete, false);
    const rest = await sweepDueUrls(
      { repository: storage.repository, queue: recordingQueue(), shards: INDEX_SHARDS, logger },
      when,
    );
    assert.equal(rest.complete, true);
    assert.ok(first.enqueued + rest.enqueued >= 30);
  });
});
