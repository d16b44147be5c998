/**
 * A sweep held by back-pressure, with the backlog such a hold builds: thousands of overdue URLs it
 * may not claim. On the embedded DynamoDB it must still send a parked capture whose slot has come
 * and fail one whose message expired, reading only the pending captures (issue 18, review M2).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import { createDocumentClient } from "../../shared/adapters/aws-clients.ts";
import { duePartition, dueShard } from "../../shared/adapters/dynamo-due-index.ts";
import { createDynamoHostSlots } from "../../shared/adapters/dynamo-host-slots.ts";
import { INDEX_SHARDS } from "../../shared/adapters/table-schema.ts";
import { type HostShaper, parseHostLimits } from "../../shared/domain/host-shaping.ts";
import { urlIdFor } from "../../shared/domain/ids.ts";
import { runLimited, type SweepDeps, type SweepRepository, sweepDueUrls } from "../../shared/domain/sweep.ts";
import { createLogger } from "../../shared/logger.ts";
import type { CaptureMessage, CaptureQueue } from "../../shared/ports.ts";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";

const logger = createLogger({}, "silent");
const MINUTE = 60_000;
const BACKLOG = 2000;
const T = Date.parse("2031-01-01T00:00:00Z");
const at = (minutes: number) => new Date(T + minutes * MINUTE);

function recordingQueue(): CaptureQueue & { sent: CaptureMessage[] } {
  const sent: CaptureMessage[] = [];
  return {
    sent,
    enqueue: async (message) => void sent.push(message),
    enqueueBatch: async (entries) => void sent.push(...entries.map((e) => e.message)),
  };
}

/** The repository, counting the due-index pages a sweep reads and the entries on them. */
function countingReads(repository: SweepRepository) {
  const reads = { pages: 0, entries: 0 };
  const counted: SweepRepository = {
    ...repository,
    listDue: async (shard, dueBy, options) => {
      reads.pages++;
      const page = await repository.listDue(shard, dueBy, options);
      reads.entries += page.items.length;
      return page;
    },
  };
  return { reads, counted };
}

describe("a held sweep behind a backlog of overdue URLs", () => {
  let storage: EmbeddedStorage;
  let shaper: HostShaper;
  before(async () => {
    storage = await startEmbeddedStorage();
    shaper = {
      slots: createDynamoHostSlots({
        client: createDocumentClient({ dynamodbEndpoint: storage.dynamodbEndpoint }),
        tableName: storage.tableName,
      }),
      // One start every 35 minutes: of three captures due at T, the slots T+35 and T+70 are further
      // ahead than a message can wait, so those two are parked.
      limits: parseHostLimits("slow.example=35m", { minGapMs: 1000, maxConcurrent: 2 }),
    };
  });
  after(async () => {
    await storage?.close();
  });

  async function addUrl(url: string, nextCaptureAt: Date): Promise<string> {
    const urlId = urlIdFor(url);
    await storage.repository.ensureUrl({
      urlId,
      url,
      captureCount: 1,
      versionCount: 1,
      recapture: "adaptive",
      createdAt: "2030-01-01T00:00:00Z",
    });
    await storage.repository.setNextCapture(urlId, nextCaptureAt.toISOString());
    return urlId;
  }

  /** URLs overdue by up to a day, on their schedule (as `setNextCapture` writes them), in batches. */
  async function seedBacklog(): Promise<string[]> {
    const client = createDocumentClient({ dynamodbEndpoint: storage.dynamodbEndpoint });
    const ids: string[] = [];
    const starts = Array.from({ length: BACKLOG / 25 }, (_, i) => i * 25);
    await runLimited(starts, 4, async (start) => {
      const items = Array.from({ length: 25 }, (_, k) => {
        const i = start + k;
        const url = `https://backlog.example/${i}`;
        const urlId = urlIdFor(url);
        ids.push(urlId);
        const next = new Date(T - (1 + (i % 1440)) * MINUTE).toISOString();
        return {
          PutRequest: {
            Item: {
              PK: `URL#${urlId}`,
              SK: "URL",
              urlId,
              url,
              recapture: "adaptive",
              captureCount: 1,
              versionCount: 1,
              createdAt: "2030-01-01T00:00:00Z",
              nextCaptureAt: next,
              GSI1PK: duePartition(urlId, false),
              GSI1SK: `${next}#${urlId}`,
            },
          },
        };
      });
      let unprocessed: Record<string, unknown[]> | undefined = { [storage.tableName]: items };
      while (unprocessed && Object.keys(unprocessed).length > 0) {
        const out = await client.send(new BatchWriteCommand({ RequestItems: unprocessed as never }));
        unprocessed = out.UnprocessedItems as Record<string, unknown[]> | undefined;
      }
    });
    return ids;
  }

  it("sends the parked capture and fails the expired one, reading one page a shard and no backlog", async () => {
    const deps = (queue: CaptureQueue, extra: Partial<SweepDeps> = {}): SweepDeps => ({
      repository: storage.repository,
      queue,
      shards: INDEX_SHARDS,
      logger,
      shaper,
      ...extra,
    });
    // A capture taken three hours before T that never ran: its message outlives a 2 h retention.
    const old = await addUrl("https://old.example/a", at(-180));
    await sweepDueUrls(deps(recordingQueue(), { lookaheadMs: 0 }), at(-180));
    const lost =
      (await storage.repository.getUrl(old))?.pendingCaptureId ?? assert.fail("no pending capture");
    for (let i = 0; i < 3; i++) await addUrl(`https://slow.example/a-${i}`, at(0));
    assert.equal((await sweepDueUrls(deps(recordingQueue(), { lookaheadMs: 0 }), at(0))).parked, 2);
    const slow = await Promise.all(
      [0, 1, 2].map((i) => storage.repository.getUrl(urlIdFor(`https://slow.example/a-${i}`))),
    );
    const parked = slow.filter((u) => u?.parked).map((u) => u?.pendingCaptureId as string);
    const backlog = await seedBacklog();

    // Held at T+65: one parked slot has passed, the other (T+70) is within the 10-minute look-ahead. Pages of 10 would
    // take the old sweep over 200 reads of the backlog, ordered ahead of the parked slot.
    const { reads, counted } = countingReads(storage.repository);
    const queue = recordingQueue();
    const result = await sweepDueUrls(
      deps(queue, {
        repository: counted,
        holdNewClaims: true,
        pageSize: 10,
        lookaheadMs: 10 * MINUTE,
        retentionMs: 2 * 60 * MINUTE,
        shouldStop: () => reads.pages >= 2 * INDEX_SHARDS,
      }),
      at(65),
    );

    assert.equal(result.complete, true, "the held sweep reached every pending capture");
    assert.equal(result.expired, 1);
    assert.equal((await storage.repository.getCapture(lost))?.error?.code, "expired");
    const sent = queue.sent.map((m) => m.captureId);
    assert.equal(parked.length, 2);
    for (const id of parked)
      assert.ok(sent.includes(id), "each parked capture was sent once its slot came near");
    assert.equal(result.enqueued, 3, "the parked captures and the expired one's replacement, nothing else");
    assert.equal(reads.pages, INDEX_SHARDS, "one page per shard: the pending partitions only");
    // The due pending captures: the expired one, the two parked ones, and the first slow capture's lease.
    assert.equal(reads.entries, 4);
    for (const urlId of backlog.slice(0, 50)) {
      assert.equal((await storage.repository.getUrl(urlId))?.pendingCaptureId, undefined, "no new claim");
    }

    // Released, a sweep claims the backlog: it is still due, under its own partitions.
    const free = recordingQueue();
    const { shaper: _, ...unshaped } = deps(free, { pageSize: 200, lookaheadMs: 0 });
    const released = await sweepDueUrls(unshaped, at(66));
    assert.equal(released.complete, true);
    assert.equal(released.enqueued, BACKLOG);
  });

  it("sends a parked capture claimed before the split from the scheduled partition, and moves it to its own", async () => {
    const slot = "2030-03-01T00:00:00.000Z";
    const url = "https://legacy.example/a";
    const urlId = urlIdFor(url);
    const captureId = "legacy-parked-capture";
    await storage.repository.putCaptures([
      {
        captureId,
        urlId,
        url,
        status: "queued",
        requestedAt: "2030-02-28T23:00:00.000Z",
        notBefore: slot,
        attempts: 0,
        trigger: "schedule",
      },
    ]);
    const client = createDocumentClient({ dynamodbEndpoint: storage.dynamodbEndpoint });
    await client.send(
      new BatchWriteCommand({
        RequestItems: {
          [storage.tableName]: [
            {
              PutRequest: {
                Item: {
                  PK: `URL#${urlId}`,
                  SK: "URL",
                  urlId,
                  url,
                  recapture: "adaptive",
                  captureCount: 1,
                  versionCount: 1,
                  createdAt: "2030-01-01T00:00:00Z",
                  nextCaptureAt: slot,
                  pendingCaptureId: captureId,
                  parked: true,
                  GSI1PK: duePartition(urlId, false),
                  GSI1SK: `${slot}#${urlId}`,
                },
              },
            },
          ],
        },
      }),
    );
    const queue = recordingQueue();
    const result = await sweepDueUrls(
      { repository: storage.repository, queue, shards: INDEX_SHARDS, logger, lookaheadMs: 0 },
      new Date(slot),
    );
    assert.deepEqual(queue.sent, [{ captureId }]);
    assert.equal(result.enqueued, 1);
    const pending = await storage.repository.listDue(dueShard(urlId), "2099-01-01T00:00:00Z", {
      limit: 100,
      pending: true,
    });
    assert.deepEqual(
      pending.items.filter((d) => d.urlId === urlId).map((d) => d.pendingCaptureId),
      [captureId],
      "now listed with the pending captures",
    );
  });
});
