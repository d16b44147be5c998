/**
 * The poll worker as composed for its Lambda and the local runner (functions/compose/poll.ts), on
 * the embedded DynamoDB with a feed on loopback: a poll whose host is busy (its per-host gate held
 * by another poll) is not run and not failed, but sent again with a delay, and runs once the host
 * is free.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { openArchive, withSources } from "../../functions/compose/archive.ts";
import { composeHostGate } from "../../functions/compose/host-gate.ts";
import { composePoll } from "../../functions/compose/workers.ts";
import { encodePollMessage } from "../../shared/domain/sources/poll-message.ts";
import { createLogger } from "../../shared/logger.ts";
import type { PollMessage, ResolveHost } from "../../shared/ports.ts";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";

const context = {
  awsRequestId: "poll-test",
  functionName: "poll",
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;
const resolveHost: ResolveHost = async (host) => (host.endsWith(".example") ? ["93.184.215.14"] : [host]);

let storage: EmbeddedStorage;
let site: FixtureSite;

before(async () => {
  storage = await startEmbeddedStorage();
  site = await startFixtureSite();
});

after(async () => {
  await site.close();
  await storage.close();
});

function sqsEvent(sourceId: string): SQSEvent {
  return {
    Records: [
      {
        messageId: `m-${sourceId}`,
        receiptHandle: "r",
        body: encodePollMessage(sourceId),
        attributes: {} as SQSEvent["Records"][number]["attributes"],
        messageAttributes: {},
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:poll",
        awsRegion: "us-east-1",
      },
    ],
  };
}

describe("a poll whose host is busy", () => {
  it("is sent again with a delay, not run and not failed; it runs once the host is free", async () => {
    // Arrange: one poll at a time per host, so a slot held elsewhere makes the host busy.
    const host = new URL(site.origin).host;
    const config = {
      allowPrivateHosts: host,
      maxQueueDepth: 1000,
      hostMaxConcurrency: 1,
      hostMinGapMs: 0,
    };
    const archive = withSources(
      openArchive({ tableName: storage.tableName, dynamodbEndpoint: storage.dynamodbEndpoint }),
    );
    const resent: Array<{ message: PollMessage; delaySeconds: number | undefined }> = [];
    const captures: unknown[] = [];
    const handler = composePoll({
      archive,
      queue: { enqueue: async (message) => void captures.push(message) },
      pollQueue: {
        enqueue: async (message, options) =>
          void resent.push({ message, delaySeconds: options?.delaySeconds }),
      },
      config,
      resolveHost,
      logger: createLogger({}, "silent"),
    });
    site.setPage(
      "/busy.rss",
      '<rss version="2.0"><channel><title>Busy</title><item><link>https://busy.example/a</link></item></channel></rss>',
      { contentType: "application/rss+xml" },
    );
    const sourceId = "src_busyhost01";
    await storage.sources.createSource({
      sourceId,
      url: `${site.origin}/busy.rss`,
      kind: "feed",
      title: null,
      pollEveryMinutes: 15,
      recapture: "adaptive",
      paused: false,
      createdAt: new Date().toISOString(),
      articleCount: 0,
      nextPollAt: new Date().toISOString(),
    });
    // Another poll of the same host holds its only slot (the gate the worker composes, same table).
    const otherPoll = composeHostGate(archive, config, 60_000);
    const held = await otherPoll.acquire(host, "poll:src_other", new Date());
    assert.equal(held.granted, true);

    // Act
    const busy = (await handler(sqsEvent(sourceId), context)) as SQSBatchResponse;

    // Assert: not a failure (SQS would redeliver at once), but a fresh message with a delay.
    assert.deepEqual(busy.batchItemFailures, []);
    assert.equal(site.requestCount("/busy.rss"), 0, "the feed was not fetched");
    assert.equal(resent.length, 1);
    assert.deepEqual(resent[0]?.message, { kind: "poll", sourceId });
    const delay = resent[0]?.delaySeconds ?? 0;
    // The gate's answer for a full host: at least 5 s, and within SQS's 15-minute limit.
    assert.ok(delay >= 5 && delay <= 900, `resent with a delay of ${delay} s`);
    assert.equal((await storage.sources.getSource(sourceId))?.lastPolledAt, undefined);

    // Once the other poll lets go, the resent message polls the source.
    if (held.granted) await otherPoll.release(host, held.slot, "poll:src_other");
    const free = (await handler(sqsEvent(sourceId), context)) as SQSBatchResponse;
    assert.deepEqual(free.batchItemFailures, []);
    assert.equal(resent.length, 1, "not resent again");
    assert.equal(site.requestCount("/busy.rss"), 1);
    const polled = await storage.sources.getSource(sourceId);
    assert.ok(polled?.lastPolledAt, "polled");
    assert.equal(captures.length, 1, "its article was submitted");
  });
});
