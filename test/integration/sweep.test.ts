/**
 * The sweeper on the embedded DynamoDB: due URLs only, each with one pending capture however
 * sweeps overlap and however long the capture waits, shaped per host before anything is queued.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { Context } from "aws-lambda";
import { createSweeperHandler } from "../../functions/sweeper/sweep-handler.ts";
import { createDocumentClient } from "../../shared/adapters/aws-clients.ts";
import { createDynamoHostSlots } from "../../shared/adapters/dynamo-host-slots.ts";
import { INDEX_SHARDS } from "../../shared/adapters/table-schema.ts";
import { failDeadLetteredCapture } from "../../shared/domain/capture/index.ts";
import { type HostShaper, parseHostLimits } from "../../shared/domain/host-shaping.ts";
import { urlIdFor } from "../../shared/domain/ids.ts";
import { CAPTURE_MESSAGE_RETENTION_MS, type SweepDeps, sweepDueUrls } from "../../shared/domain/sweep.ts";
import { createLogger } from "../../shared/logger.ts";
import type { CaptureMessage, CaptureQueue } from "../../shared/ports.ts";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";

let storage: EmbeddedStorage;
let shaper: HostShaper;
const logger = createLogger({}, "silent");
const MINUTE = 60_000;

// A table per test: each sweeps at its own time, and would otherwise find the others' URLs due.
beforeEach(async () => {
  storage = await startEmbeddedStorage();
  shaper = {
    slots: createDynamoHostSlots({
      client: createDocumentClient({ dynamodbEndpoint: storage.dynamodbEndpoint }),
      tableName: storage.tableName,
    }),
    limits: parseHostLimits("big.example=10s", { minGapMs: 1000, maxConcurrent: 2 }),
  };
});
afterEach(async () => {
  await storage.close();
});

interface Sent {
  message: CaptureMessage;
  delaySeconds: number;
}

function recordingQueue(): CaptureQueue & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    enqueue: async (message, options) =>
      void sent.push({ message, delaySeconds: options?.delaySeconds ?? 0 }),
    enqueueBatch: async (entries) =>
      void sent.push(...entries.map((e) => ({ message: e.message, delaySeconds: e.delaySeconds ?? 0 }))),
  };
}

async function addUrl(url: string, nextCaptureAt: string | null) {
  const urlId = urlIdFor(url);
  await storage.repository.ensureUrl({
    urlId,
    url,
    captureCount: 1,
    versionCount: 1,
    recapture: "adaptive",
    createdAt: "2026-01-01T00:00:00Z",
  });
  await storage.repository.setNextCapture(urlId, nextCaptureAt);
  return urlId;
}

function sweep(now: Date, queue: CaptureQueue, extra: Partial<SweepDeps> = {}) {
  return sweepDueUrls(
    { repository: storage.repository, queue, shards: INDEX_SHARDS, logger, lookaheadMs: 0, ...extra },
    now,
  );
}

async function urlsOf(queue: { sent: Sent[] }) {
  const captures = await Promise.all(
    queue.sent.map((s) => storage.repository.getCapture(s.message.captureId)),
  );
  return captures.map((c) => c?.urlId);
}

describe("sweepDueUrls", () => {
  it("takes one capture of each due URL and records it as the URL's pending capture", async () => {
    const now = new Date("2026-06-01T12:00:00Z");
    const due: string[] = [];
    for (let i = 0; i < 40; i++)
      due.push(
        await addUrl(`https://news.example/due-${i}`, new Date(now.getTime() - i * MINUTE).toISOString()),
      );
    await addUrl("https://news.example/later", new Date(now.getTime() + MINUTE).toISOString());
    await addUrl("https://news.example/off", null);

    const queue = recordingQueue();
    const result = await sweep(now, queue, { pageSize: 7 });
    assert.equal(result.enqueued, 40);
    assert.equal(result.complete, true);
    assert.deepEqual(new Set(await urlsOf(queue)), new Set(due));
    for (const { message } of queue.sent) {
      const capture = await storage.repository.getCapture(message.captureId);
      assert.equal(capture?.status, "queued");
      assert.equal(capture?.trigger, "schedule");
      const url = await storage.repository.getUrl(capture?.urlId as string);
      assert.equal(url?.pendingCaptureId, message.captureId, "the URL names its pending capture");
    }
  });

  it("never takes a second capture of a URL whose capture still waits in the queue", async () => {
    // The trial: captures pending longer than the old 30-minute lease got a second one.
    const now = new Date("2026-07-01T12:00:00Z");
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await addUrl(`https://news.example/slow-${i}`, now.toISOString()));
    const first = recordingQueue();
    await sweep(now, first);
    assert.equal(first.sent.length, 4);

    for (const minutes of [40, 90, 24 * 60, 7 * 24 * 60]) {
      const later = recordingQueue();
      const result = await sweep(new Date(now.getTime() + minutes * MINUTE), later);
      assert.equal(later.sent.length, 0, `a sweep ${minutes} min later sent nothing`);
      assert.equal(result.expired, 0);
    }
    for (const urlId of ids) {
      const url = await storage.repository.getUrl(urlId);
      const capture = await storage.repository.getCapture(url?.pendingCaptureId as string);
      assert.equal(capture?.status, "queued", "the first capture is still the pending one");
    }
  });

  it("fails a pending capture whose message outlived the queue's retention, and takes a new one", async () => {
    const now = new Date("2026-08-01T12:00:00Z");
    const urlId = await addUrl("https://news.example/expired", now.toISOString());
    const first = recordingQueue();
    await sweep(now, first);
    const lost = first.sent[0]?.message.captureId ?? assert.fail("nothing sent");

    const later = new Date(now.getTime() + CAPTURE_MESSAGE_RETENTION_MS + 2 * 3_600_000);
    const second = recordingQueue();
    const result = await sweep(later, second);
    assert.equal(result.expired, 1);
    const expired = await storage.repository.getCapture(lost);
    assert.equal(expired?.status, "failed");
    assert.equal(expired?.error?.code, "expired");
    assert.deepEqual(await urlsOf(second), [urlId], "the URL gets a new capture at once");
    assert.notEqual((await storage.repository.getUrl(urlId))?.pendingCaptureId, lost);
  });

  it("puts the URL back on its schedule when its capture ends, and only then sweeps it again", async () => {
    const now = new Date("2026-09-01T12:00:00Z");
    const urlId = await addUrl("https://news.example/ends", now.toISOString());
    const first = recordingQueue();
    await sweep(now, first);
    const captureId = first.sent[0]?.message.captureId ?? assert.fail("nothing sent");
    // Another capture that is not the pending one ends first: the URL stays with its own.
    assert.equal(await storage.repository.releasePending(urlId, "cap_other", now.toISOString()), false);
    assert.equal(await failDeadLetteredCapture(storage.repository, captureId, now.toISOString()), true);
    const url = await storage.repository.getUrl(urlId);
    assert.equal(url?.pendingCaptureId, undefined, "a capture that died clears the URL");
    const next = recordingQueue();
    await sweep(new Date(Date.parse(url?.nextCaptureAt as string) + 1000), next);
    assert.deepEqual(await urlsOf(next), [urlId]);
  });

  it("lets a capture run beside the pending one without taking the URL's schedule from it", async () => {
    const now = new Date("2026-10-01T12:00:00Z");
    const urlId = await addUrl("https://news.example/beside", now.toISOString());
    const first = recordingQueue();
    await sweep(now, first);
    const pending = first.sent[0]?.message.captureId ?? assert.fail("nothing sent");
    // A person's capture while the scheduled one waits: it does not become the pending one.
    const hold = {
      urlId,
      captureId: "cap_person",
      startAt: now.toISOString(),
      dueAt: now.toISOString(),
      parked: false,
    };
    assert.equal(await storage.repository.holdPending(hold), false);
    const seen = (await storage.repository.getUrl(urlId)) ?? assert.fail("no URL");
    const record = {
      seen,
      capturedAt: now.toISOString(),
      count: true,
      nextCaptureAt: "2026-10-01T15:00:00.000Z",
    };
    assert.deepEqual(await storage.repository.recordCaptureOnUrl({ ...record, captureId: "cap_person" }), {
      recorded: true,
    });
    let url = await storage.repository.getUrl(urlId);
    assert.equal(url?.pendingCaptureId, pending, "the scheduled capture still owns the URL");
    assert.equal(url?.captureCount, 2, "the person's capture is counted");
    // The pending capture's own success ends it and sets the next time.
    const again = (await storage.repository.getUrl(urlId)) ?? assert.fail("no URL");
    assert.deepEqual(
      await storage.repository.recordCaptureOnUrl({ ...record, seen: again, captureId: pending }),
      { recorded: true },
    );
    url = await storage.repository.getUrl(urlId);
    assert.equal(url?.pendingCaptureId, undefined);
    assert.equal(url?.nextCaptureAt, "2026-10-01T15:00:00.000Z");
    const later = recordingQueue();
    await sweep(new Date("2026-10-01T15:00:01Z"), later);
    assert.deepEqual(await urlsOf(later), [urlId], "due again on its schedule");
  });

  it("never takes two captures of a URL when sweeps overlap", async () => {
    const later = new Date("2027-01-01T00:00:00Z");
    const ids: string[] = [];
    for (let i = 0; i < 60; i++)
      ids.push(
        await addUrl(`https://news.example/overlap-${i}`, new Date(later.getTime() - 1000).toISOString()),
      );
    const queues = [recordingQueue(), recordingQueue(), recordingQueue()];
    const results = await Promise.all(queues.map((queue) => sweep(later, queue, { pageSize: 5 })));
    const urlIds = (await Promise.all(queues.map(urlsOf))).flat().filter((id) => ids.includes(id as string));
    assert.equal(urlIds.length, 60, "every due URL enqueued");
    assert.equal(new Set(urlIds).size, 60, "none twice");
    assert.ok(results.reduce((n, r) => n + r.lostClaims, 0) > 0, "the sweeps did race");
  });

  it("stops early when asked and leaves the rest due for the next sweep", async () => {
    const when = new Date("2028-01-01T00:00:00Z");
    for (let i = 0; i < 30; i++)
      await addUrl(`https://news.example/budget-${i}`, new Date(when.getTime() - 1000).toISOString());
    let pages = 0;
    const first = await sweep(when, recordingQueue(), { pageSize: 2, shouldStop: () => ++pages > 3 });
    assert.equal(first.complete, false);
    const rest = await sweep(when, recordingQueue());
    assert.equal(rest.complete, true);
    assert.equal(first.enqueued + rest.enqueued, 30);
  });
});

describe("host shaping in the sweep", () => {
  it("spaces a busy host's captures by its interval and leaves other hosts undelayed", async () => {
    const now = new Date("2029-01-01T00:00:00Z");
    const big: string[] = [];
    const small: string[] = [];
    // 200 captures of one host at 10 s: 2,000 s of slots, more than a message can be delayed.
    for (let i = 0; i < 200; i++) big.push(await addUrl(`https://big.example/a-${i}`, now.toISOString()));
    for (let i = 0; i < 5; i++) small.push(await addUrl(`https://small-${i}.example/a`, now.toISOString()));

    const queue = recordingQueue();
    const result = await sweep(now, queue, { shaper });
    const byUrl = new Map<string, number>();
    for (const s of queue.sent) {
      const capture = await storage.repository.getCapture(s.message.captureId);
      byUrl.set(capture?.urlId as string, s.delaySeconds);
    }
    for (const urlId of small) assert.equal(byUrl.get(urlId), 0, "a quiet host's capture goes at once");
    const bigDelays = big
      .map((id) => byUrl.get(id))
      .filter((d): d is number => d !== undefined)
      .sort((a, b) => a - b);
    assert.equal(bigDelays.length, 91, "the busy host's slots within 15 minutes: 0, 10, …, 900 s");
    assert.deepEqual(
      bigDelays,
      bigDelays.map((_, i) => i * 10),
      "one slot every 10 s",
    );
    assert.equal(result.parked, 109, "the rest are parked on their URLs, not sent");
    assert.equal(result.enqueued, 96);

    // The next sweeps send each parked capture as its slot comes within reach, never early.
    const sentLater: Array<{ at: number; delay: number }> = [];
    for (let minute = 5; minute <= 40; minute += 5) {
      const at = now.getTime() + minute * MINUTE;
      const next = recordingQueue();
      await sweep(new Date(at), next, { shaper, lookaheadMs: 10 * MINUTE });
      for (const s of next.sent) sentLater.push({ at, delay: s.delaySeconds });
    }
    assert.equal(sentLater.length, 109, "every parked capture sent once");
    const starts = sentLater.map((s) => s.at + s.delay * 1000 - now.getTime()).sort((a, b) => a - b);
    assert.deepEqual(
      starts,
      starts.map((_, i) => (91 + i) * 10_000),
      "each at its own slot",
    );
  });

  it("gives a capture no slot twice when sweeps reserve the same host at once", async () => {
    const now = new Date("2029-06-01T00:00:00Z");
    for (let i = 0; i < 30; i++) await addUrl(`https://race.example/a-${i}`, now.toISOString());
    const queues = [recordingQueue(), recordingQueue(), recordingQueue()];
    await Promise.all(queues.map((queue) => sweep(now, queue, { shaper, pageSize: 4 })));
    const delays = queues.flatMap((q) => q.sent.map((s) => s.delaySeconds)).sort((a, b) => a - b);
    assert.equal(delays.length, 30);
    const interval = shaper.limits.intervalFor("race.example") / 1000;
    for (let i = 1; i < delays.length; i++) {
      assert.ok((delays[i] as number) - (delays[i - 1] as number) >= interval, `slots ${delays.join(",")}`);
    }
  });
});

describe("a sweep held by back-pressure", () => {
  it("claims no new recaptures, but still sends parked captures, fails expired ones and replaces them", async () => {
    const T = Date.parse("2030-01-01T00:00:00Z");
    const at = (minutes: number) => new Date(T + minutes * MINUTE);
    const slow: HostShaper = {
      ...shaper,
      limits: parseHostLimits("slow.example=10m", { minGapMs: 1000, maxConcurrent: 2 }),
    };
    // A capture taken three hours before T, still pending (its message will outlive a 2 h retention).
    const old = await addUrl("https://old.example/a", at(-180).toISOString());
    await sweep(at(-180), recordingQueue());
    const lost = (await storage.repository.getUrl(old))?.pendingCaptureId ?? assert.fail("no pending");
    // Three captures of a host allowing one start every 10 minutes: slots T, T+10, T+20; the last is parked.
    for (let i = 0; i < 3; i++) await addUrl(`https://slow.example/a-${i}`, at(0).toISOString());
    const first = await sweep(at(0), recordingQueue(), { shaper: slow });
    assert.equal(first.parked, 1);
    const slowUrls = await Promise.all(
      [0, 1, 2].map((i) => storage.repository.getUrl(urlIdFor(`https://slow.example/a-${i}`))),
    );
    const parked = slowUrls.find((u) => u?.parked) ?? assert.fail("none parked");
    // A URL with nothing pending, due while the queue is backed up.
    const fresh = await addUrl("https://fresh.example/a", at(30).toISOString());

    const queue = recordingQueue();
    const sweeps: Array<{ enqueued: number; held: boolean }> = [];
    const handler = createSweeperHandler({
      repository: storage.repository,
      queue,
      shards: INDEX_SHARDS,
      logger,
      shaper: slow,
      retentionMs: 2 * 3_600_000,
      backPressure: { maxAgeSeconds: 3600, maxDepth: 10, age: { oldestMessageAgeSeconds: async () => 7200 } },
      metrics: { captureHandled: () => undefined, sweepFinished: (r) => void sweeps.push(r) },
    });
    const context = { awsRequestId: "t", getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
    const held = await handler({ time: at(65).toISOString() }, context);

    assert.equal(held.held, "age");
    assert.equal(held.expired, 1, "the capture whose message outlived the retention is failed");
    assert.equal((await storage.repository.getCapture(lost))?.error?.code, "expired");
    const sent = queue.sent.map((s) => s.message.captureId);
    assert.ok(sent.includes(parked.pendingCaptureId as string), "the parked capture went out at its slot");
    assert.deepEqual((await urlsOf(queue)).sort(), [old, parked.urlId].sort());
    assert.equal(held.enqueued, 2, "the parked one and the expired one's replacement");
    assert.equal((await storage.repository.getUrl(fresh))?.pendingCaptureId, undefined, "no new claim");
    assert.deepEqual(sweeps, [{ enqueued: 2, polls: 0, held: true }]);

    // Released, the next sweep claims it.
    const free = createSweeperHandler({
      repository: storage.repository,
      queue: recordingQueue(),
      shards: INDEX_SHARDS,
      logger,
    });
    const next = await free({ time: at(66).toISOString() }, context);
    assert.equal(next.held, undefined);
    assert.ok((await storage.repository.getUrl(fresh))?.pendingCaptureId, "claimed once not held");
    assert.ok(next.enqueued >= 1);
  });
});
