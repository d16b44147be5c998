/**
 * A poll of a busy host is never re-sent to the poll queue: the composed poll worker puts it back
 * on its source's schedule for when the host frees, and a later sweep sends it once. On the
 * embedded DynamoDB, with the poll worker's own composition and the fixture site on loopback.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Context, SQSEvent } from "aws-lambda";
import { openArchive, withSources } from "../../functions/compose/archive.ts";
import { composeHostGate } from "../../functions/compose/host-gate.ts";
import { composePoll } from "../../functions/compose/poll.ts";
import { INDEX_SHARDS } from "../../shared/adapters/table-schema.ts";
import type { PollConfig } from "../../shared/config.ts";
import { encodePollMessage } from "../../shared/domain/sources/poll-message.ts";
import { sweepDueSources } from "../../shared/domain/sources/sweep-sources.ts";
import { createLogger } from "../../shared/logger.ts";
import type { CaptureMessage, PollMessage } from "../../shared/ports.ts";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";

const silent = createLogger({}, "silent");
const context = { awsRequestId: "t", getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

let storage: EmbeddedStorage;
let site: FixtureSite;

before(async () => {
  storage = await startEmbeddedStorage();
  site = await startFixtureSite();
  site.setPage(
    "/busy.rss",
    `<?xml version="1.0"?><rss version="2.0"><channel><title>Busy</title>
      <item><title>One</title><link>${site.origin}/one</link></item></channel></rss>`,
    { contentType: "application/rss+xml" },
  );
});

after(async () => {
  await site.close();
  await storage.close();
});

function sqsEvent(message: PollMessage): SQSEvent {
  return {
    Records: [{ messageId: "m1", body: encodePollMessage(message) } as SQSEvent["Records"][number]],
  };
}

describe("a poll whose host is busy", () => {
  it("goes back on its source's schedule, is never re-sent, and the next sweep after the host frees sends it once", async () => {
    // Arrange: one source, one slot per host, and the slot held by someone else.
    const archive = withSources(
      openArchive({ tableName: storage.tableName, dynamodbEndpoint: storage.dynamodbEndpoint }),
    );
    const host = new URL(site.origin).host;
    const config: PollConfig = {
      allowPrivateHosts: host,
      maxQueueDepth: 10_000,
      hostMaxConcurrency: 1,
      hostMinGapMs: 0,
    };
    const createdAt = new Date().toISOString();
    await archive.sources.createSource({
      sourceId: "src_busyhost",
      url: `${site.origin}/busy.rss`,
      kind: "feed",
      title: null,
      pollEveryMinutes: 60,
      recapture: "off",
      paused: false,
      createdAt,
      articleCount: 0,
      nextPollAt: createdAt,
    });
    const gate = composeHostGate(archive, config, 60_000);
    const held = await gate.acquire(host, "capture:someone-else", new Date());
    assert.ok(held.granted);
    const captures: CaptureMessage[] = [];
    const poll = composePoll({
      archive,
      queue: { enqueue: async (m) => void captures.push(m) },
      config,
      resolveHost: async (name) => [name],
      logger: silent,
    });
    const sweep = async (at: Date) => {
      const sent: PollMessage[] = [];
      const deps = { sources: archive.sources, shards: INDEX_SHARDS, logger: silent };
      await sweepDueSources({ ...deps, pollQueue: { enqueue: async (m) => void sent.push(m) } }, at);
      return sent;
    };

    // Act: the sweep sends the poll; the worker finds the host busy, ten deliveries over.
    const first = await sweep(new Date());
    assert.deepEqual(
      first.map((m) => m.sourceId),
      ["src_busyhost"],
    );
    const before = Date.now();
    for (let i = 0; i < 10; i++) {
      const response = await poll(sqsEvent(first[0] as PollMessage), context);
      assert.deepEqual(response, { batchItemFailures: [] }, "a deferral is not a failure to retry");
    }

    // Assert: nothing fetched, and the source is due again when the host frees (the gate's
    // 5 s retry), not at the sweep's 15-minute lease. The worker holds no poll queue at all.
    assert.equal(site.requestCount("/busy.rss"), 0);
    const deferred = await archive.sources.getSource("src_busyhost");
    const dueAt = Date.parse(String(deferred?.nextPollAt));
    assert.ok(dueAt >= before + 5_000 && dueAt <= Date.now() + 5_000, `due at ${deferred?.nextPollAt}`);
    assert.equal(deferred?.lastPolledAt, undefined, "it was not polled");

    // A sweep before then sends nothing; one after sends the poll once; with the host free it runs.
    assert.deepEqual(await sweep(new Date(dueAt - 1000)), []);
    await gate.release(host, (held as { slot: number }).slot, "capture:someone-else");
    const again = await sweep(new Date(dueAt + 1000));
    assert.deepEqual(
      again.map((m) => m.sourceId),
      ["src_busyhost"],
    );
    await poll(sqsEvent(again[0] as PollMessage), context);
    assert.equal(site.requestCount("/busy.rss"), 1);
    const polled = await archive.sources.getSource("src_busyhost");
    assert.ok(polled?.lastPolledAt, "polled once the host was free");
    assert.equal(polled?.articleCount, 1);
  });

  it("a paused source is not put back on the schedule by a deferral", async () => {
    const archive = withSources(
      openArchive({ tableName: storage.tableName, dynamodbEndpoint: storage.dynamodbEndpoint }),
    );
    const createdAt = new Date().toISOString();
    await archive.sources.createSource({
      sourceId: "src_pausedbusy",
      url: `${site.origin}/paused.rss`,
      kind: "feed",
      title: null,
      pollEveryMinutes: 60,
      recapture: "off",
      paused: false,
      createdAt,
      articleCount: 0,
      nextPollAt: createdAt,
    });
    await archive.sources.updateSource("src_pausedbusy", { paused: true }, null);
    assert.equal(await archive.sources.deferPoll("src_pausedbusy", createdAt), false);
    assert.equal((await archive.sources.getSource("src_pausedbusy"))?.nextPollAt, undefined);
  });
});
