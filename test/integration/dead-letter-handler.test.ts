/**
 * The dead-letter function as composed for AWS and the local runner (functions/compose/workers.ts):
 * a capture whose message SQS gave up on ends failed, an unreadable message is dropped, and a
 * capture that could not be recorded is reported back as a batch item failure (Powertools batch).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Context, SQSEvent } from "aws-lambda";
import { composeDeadLetter } from "../../functions/compose/workers.ts";
import { createLogger } from "../../shared/logger.ts";
import type { ArchiveRepository } from "../../shared/ports.ts";
import { type EmbeddedStorage, queuedCapture, startEmbeddedStorage } from "../support/embedded-storage.ts";

let storage: EmbeddedStorage;
const logger = createLogger({}, "silent");
const context = { functionName: "palimpsest-dead-letter", awsRequestId: "test" } as unknown as Context;

const event = (...bodies: string[]): SQSEvent => ({
  Records: bodies.map((body, n) => ({
    messageId: `m-${n}`,
    receiptHandle: "r",
    body,
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: String(Date.now()),
      SenderId: "test",
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:palimpsest-captures-dlq",
    awsRegion: "us-east-1",
  })),
});

before(async () => {
  storage = await startEmbeddedStorage();
});
after(async () => {
  await storage.close();
});

describe("dead-letter handler", () => {
  it("fails each dead-lettered capture with retries_exhausted and drops what it cannot read", async () => {
    const captureId = await queuedCapture(storage.repository, "https://news.example/dead");
    const handler = composeDeadLetter({ archive: storage, logger });
    const result = await handler(
      event(JSON.stringify({ captureId, correlationId: "req-1" }), "{not json"),
      context,
    );
    assert.deepEqual(result.batchItemFailures, []);
    const capture = await storage.repository.getCapture(captureId);
    assert.equal(capture?.status, "failed");
    assert.equal(capture?.error?.code, "retries_exhausted");
  });

  it("reports a capture it could not record, and only that one, for SQS to deliver again", async () => {
    const ok = await queuedCapture(storage.repository, "https://news.example/ok");
    const broken = await queuedCapture(storage.repository, "https://news.example/broken");
    const repository = new Proxy(storage.repository, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (args[0] === broken)
            throw Object.assign(new Error("throttled"), { name: "ThrottlingException" });
          return value.apply(target, args);
        };
      },
    }) as ArchiveRepository;
    const handler = composeDeadLetter({ archive: { repository }, logger });
    const all = await handler(event(JSON.stringify({ captureId: broken })), context);
    // A batch that failed whole is answered like any other (no throw), as before Powertools.
    assert.deepEqual(all.batchItemFailures, [{ itemIdentifier: "m-0" }]);
    const mixed = await handler(
      event(JSON.stringify({ captureId: ok }), JSON.stringify({ captureId: broken })),
      context,
    );
    assert.deepEqual(mixed.batchItemFailures, [{ itemIdentifier: "m-1" }]);
    assert.equal((await storage.repository.getCapture(ok))?.status, "failed");
  });
});
