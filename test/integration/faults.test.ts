/**
 * Faults on the capture path, through the real capture handler: a browser killed mid-capture,
 * S3 and DynamoDB calls that fail, and SQS redelivering a message. Storage is the embedded
 * servers behind the real adapters; faults are injected by wrapping those adapters, never by
 * replacing them.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { Context, SQSEvent } from "aws-lambda";
import { createCaptureWorker } from "../../functions/compose/capture-worker.ts";
import { createChromiumPageCapturer } from "../../shared/adapters/chromium/page-capturer.ts";
import { createEgressProxy } from "../../shared/adapters/egress/egress-proxy.ts";
import { loadCaptureConfig } from "../../shared/config.ts";
import { failDeadLetteredCapture } from "../../shared/domain/capture/index.ts";
import { parseAllowedPrivateHosts } from "../../shared/domain/url.ts";
import { createLogger } from "../../shared/logger.ts";
import type { ArchiveRepository, BlobStore, PageCapturer } from "../../shared/ports.ts";
import { testCaptureOptions } from "../support/capture-options.ts";
import {
  type EmbeddedStorage,
  queuedCapture as queuedCaptureOf,
  startEmbeddedStorage,
} from "../support/embedded-storage.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";

let storage: EmbeddedStorage;
let site: FixtureSite;
let capturer: PageCapturer;
const logger = createLogger({}, "silent");
const context = { awsRequestId: "test", getRemainingTimeInMillis: () => 180_000 } as unknown as Context;
const OPTIONS = testCaptureOptions({ navigationTimeoutMs: 5_000 });

before(async () => {
  storage = await startEmbeddedStorage();
  site = await startFixtureSite();
  // The egress proxy refuses loopback unless allowlisted, as ALLOW_PRIVATE_HOSTS does in the runner.
  capturer = createChromiumPageCapturer({
    logger,
    egress: createEgressProxy({ allowedPrivateHosts: parseAllowedPrivateHosts(new URL(site.origin).host) }),
  });
});
after(async () => {
  await capturer.close();
  await site.close();
  await storage.close();
});

/** Fails the named methods' first `times` calls, then passes through to the real adapter. */
function failing<T extends object>(target: T, methods: Array<keyof T>, times: number, error: () => Error): T {
  const left = new Map(methods.map((m) => [m, times]));
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== "function" || !left.has(property as keyof T)) return value;
      return async (...args: unknown[]) => {
        const remaining = left.get(property as keyof T) ?? 0;
        if (remaining > 0) {
          left.set(property as keyof T, remaining - 1);
          throw error();
        }
        return value.apply(object, args);
      };
    },
  });
}

const awsError = (name: string) => () =>
  Object.assign(new Error(`${name} injected`), { name, $metadata: { httpStatusCode: 500 } });

/** The capture Lambda's worker (functions/compose/), with the test's browser and faulty adapters. */
function handlerWith(overrides: { repository?: ArchiveRepository; blobs?: BlobStore }) {
  return createCaptureWorker({
    archive: { repository: overrides.repository ?? storage.repository },
    blobs: overrides.blobs ?? storage.blobs,
    config: { ...loadCaptureConfig({ PROBE: "off" }), ...OPTIONS },
    capturer,
    maxAttempts: 3,
    logger,
  });
}

function queuedCapture(path: string): Promise<string> {
  return queuedCaptureOf(storage.repository, site.url(path));
}

let receives = 0;
function sqsEvent(captureId: string): SQSEvent {
  receives++;
  return {
    Records: [
      {
        messageId: `m-${captureId}`,
        receiptHandle: "r",
        body: JSON.stringify({ captureId }),
        attributes: {
          ApproximateReceiveCount: String(receives),
          SentTimestamp: "0",
          SenderId: "t",
          ApproximateFirstReceiveTimestamp: "0",
        },
        messageAttributes: {},
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: "arn:aws:sqs:local:0:q",
        awsRegion: "local",
      },
    ],
  };
}

/** Delivers the message like SQS would: again after every reported failure, at most `max` times. */
async function deliverUntilAcked(
  handler: ReturnType<typeof handlerWith>,
  captureId: string,
  max = 3,
): Promise<number> {
  for (let delivery = 1; delivery <= max; delivery++) {
    const result = await handler(sqsEvent(captureId), context);
    if (result.batchItemFailures.length === 0) return delivery;
  }
  return max + 1;
}

function browserPids(): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        return (
          parent === process.pid &&
          readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("--remote-debugging-pipe")
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe("faults on the capture path", () => {
  it("retries a capture whose browser was killed mid-capture on a fresh browser", async () => {
    await capturer.capture(site.url("/static-article.html"), OPTIONS);
    let killed = false;
    site.setRoute("/killer.html", (_req, res) => {
      if (!killed) {
        killed = true;
        for (const pid of browserPids()) process.kill(pid, "SIGKILL");
        return; // never answered: the browser is gone
      }
      res
        .writeHead(200, { "content-type": "text/html" })
        .end(
          "<html><body><article><h1>Survivor</h1><p>" +
            "Text that survives a crash. ".repeat(20) +
            "</p></article></body></html>",
        );
    });
    const captureId = await queuedCapture("/killer.html");
    const deliveries = await deliverUntilAcked(handlerWith({}), captureId);
    const capture = await storage.repository.getCapture(captureId);
    assert.equal(capture?.status, "succeeded", JSON.stringify(capture?.error));
    assert.equal(capture?.attempts, 2);
    assert.equal(deliveries, 2);
  });

  it("retries transient S3 and DynamoDB failures and then succeeds", async () => {
    const blobs = failing(storage.blobs, ["putBlob"], 2, awsError("InternalError"));
    const repository = failing(
      storage.repository,
      ["recordCaptureOnUrl"],
      1,
      awsError("ProvisionedThroughputExceededException"),
    );
    const captureId = await queuedCapture("/static-article.html?faults=1");
    const deliveries = await deliverUntilAcked(handlerWith({ blobs, repository }), captureId);
    const capture = await storage.repository.getCapture(captureId);
    assert.equal(capture?.status, "succeeded", JSON.stringify(capture?.error));
    assert.ok(deliveries >= 2);
    // The version stored before the failed write is recorded once by the redelivery.
    const url = await storage.repository.getUrl(capture?.urlId ?? "");
    assert.equal(url?.latestVersionId, capture?.versionId);
    assert.equal(url?.versionCount, 1);
    assert.equal(url?.captureCount, 1);
    assert.equal((await storage.repository.listVersions(capture?.urlId ?? "")).length, 1);
  });

  it("ends a capture failed with storage_error when storage keeps failing, never stuck running", async () => {
    const blobs = failing(storage.blobs, ["putBlob"], 1000, awsError("InternalError"));
    const captureId = await queuedCapture("/static-article.html?faults=2");
    await deliverUntilAcked(handlerWith({ blobs }), captureId);
    const capture = await storage.repository.getCapture(captureId);
    assert.equal(capture?.status, "failed");
    assert.equal(capture?.error?.code, "storage_error");
    assert.equal(capture?.attempts, 3);
  });

  it("records a capture whose message was dead-lettered as failed with the reason", async () => {
    const captureId = await queuedCapture("/static-article.html?faults=3");
    assert.equal(
      await failDeadLetteredCapture(storage.repository, captureId, new Date().toISOString()),
      true,
    );
    const capture = await storage.repository.getCapture(captureId);
    assert.equal(capture?.status, "failed");
    assert.equal(capture?.error?.code, "retries_exhausted");
  });

  it("makes no duplicate version when SQS delivers the same message again", async () => {
    site.setPage(
      "/redelivered.html",
      "<html><body><article><h1>Once</h1><p>" +
        "A version is made once. ".repeat(20) +
        "</p></article></body></html>",
    );
    const captureId = await queuedCapture("/redelivered.html");
    const handler = handlerWith({});
    const [a, b] = await Promise.all([
      handler(sqsEvent(captureId), context),
      handler(sqsEvent(captureId), context),
    ]);
    await handler(sqsEvent(captureId), context);
    assert.equal(a.batchItemFailures.length + b.batchItemFailures.length, 0);
    const capture = await storage.repository.getCapture(captureId);
    assert.equal(capture?.status, "succeeded");
    const versions = await storage.repository.listVersions(capture?.urlId ?? "");
    assert.equal(versions.length, 1);
    const url = await storage.repository.getUrl(capture?.urlId ?? "");
    assert.equal(url?.versionCount, 1);
    assert.equal(url?.captureCount, 1);
  });
});
