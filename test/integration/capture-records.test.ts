/**
 * What `processCapture` records when the URL changes under it, on the embedded S3 and DynamoDB
 * behind the real adapters. The URL and its latest version are read while the page loads, so these
 * tests change them during the load — with a capturer that serves fixed pages and does the change
 * before it returns — and check that nothing decided from the earlier read is recorded.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { extractArticle } from "../../shared/domain/extract/index.ts";
import { urlIdFor } from "../../shared/domain/ids.ts";
import { type ProcessCaptureDeps, processCapture } from "../../shared/domain/process-capture.ts";
import { CaptureError } from "../../shared/errors.ts";
import { createLogger } from "../../shared/logger.ts";
import type { HostGate, PageCapture, PageCapturer } from "../../shared/ports.ts";
import { testCaptureOptions } from "../support/capture-options.ts";
import { type EmbeddedStorage, queuedCapture, startEmbeddedStorage } from "../support/embedded-storage.ts";

let storage: EmbeddedStorage;
before(async () => {
  storage = await startEmbeddedStorage();
});
after(async () => {
  await storage.close();
});

const OPTIONS = testCaptureOptions({ navigationTimeoutMs: 5_000 });

function articlePage(homes: number): string {
  return (
    "<html><head><title>Harbour homes</title></head><body><article><h1>Harbour homes approved</h1>" +
    `<p>The council approved ${homes} new homes by the harbour on Tuesday evening after a long debate.</p>` +
    "<p>Residents had asked for more parking and a new footpath along the sea wall for years.</p>".repeat(6) +
    "</article></body></html>"
  );
}

/** Serves `html` for every URL; runs `during` (if any) before it returns, as if the load took that long. */
function fixedCapturer(html: () => string, during?: () => Promise<void>): PageCapturer {
  return {
    async capture(url) {
      await during?.();
      const body = new TextEncoder().encode(html());
      return {
        finalUrl: url,
        httpStatus: 200,
        raw: { body, contentType: "text/html; charset=utf-8" },
        renderedHtml: html(),
        snapshotHtml: html(),
        screenshot: { body: new TextEncoder().encode(`jpeg of ${html()}`), contentType: "image/jpeg" },
        timings: {},
      } satisfies PageCapture;
    },
    close: async () => {},
  };
}

function depsWith(capturer: PageCapturer, hostGate?: HostGate): ProcessCaptureDeps {
  return {
    repository: storage.repository,
    blobs: storage.blobs,
    capturer,
    extract: extractArticle,
    captureOptions: OPTIONS,
    maxAttempts: 3,
    logger: createLogger({}, "silent"),
    ...(hostGate ? { hostGate } : {}),
  };
}

async function succeeded(deps: ProcessCaptureDeps, captureId: string) {
  const outcome = await processCapture(deps, captureId);
  assert.equal(outcome.kind, "succeeded", JSON.stringify(outcome));
  return (await storage.repository.getCapture(captureId)) ?? assert.fail("capture record missing");
}

describe("recording a capture when the URL changed during the load", () => {
  it("compares with a version committed meanwhile, not the one read before", async () => {
    const url = "https://news.example/harbour-homes";
    const first = await succeeded(
      depsWith(fixedCapturer(() => articlePage(12))),
      await queuedCapture(storage.repository, url),
    );

    // While this capture loads the page (12 homes again), another one commits 40 homes.
    const meanwhile = await queuedCapture(storage.repository, url);
    const late = await queuedCapture(storage.repository, url);
    let other: Awaited<ReturnType<typeof succeeded>> | undefined;
    const capture = await succeeded(
      depsWith(
        fixedCapturer(
          () => articlePage(12),
          async () => {
            other = await succeeded(depsWith(fixedCapturer(() => articlePage(40))), meanwhile);
          },
        ),
      ),
      late,
    );

    assert.equal(other?.changed, true);
    // Unchanged against the version read before the load, but a change back against the latest.
    assert.equal(capture.changed, true, "the page went back to 12 homes");
    const versions = await storage.repository.listVersions(urlIdFor(url));
    assert.deepEqual(
      versions.map((v) => v.versionId),
      [first.versionId, other?.versionId, capture.versionId],
    );
    assert.equal(versions.at(-1)?.previousVersionId, other?.versionId);
    assert.equal(versions.at(-1)?.revertOf, first.versionId);
    const record = await storage.repository.getUrl(urlIdFor(url));
    assert.equal(record?.latestVersionId, capture.versionId);
    assert.equal(record?.versionCount, 3);
    assert.equal(record?.captureCount, 3);
  });

  it("keeps a recapture policy a person changed during the load", async () => {
    const url = "https://news.example/policy-changed";
    const urlId = urlIdFor(url);
    const captureId = await queuedCapture(storage.repository, url);
    await storage.repository.setRecapture(urlId, "adaptive", null);
    await succeeded(
      depsWith(
        fixedCapturer(
          () => articlePage(7),
          async () => {
            await storage.repository.setRecapture(urlId, "off", null);
          },
        ),
      ),
      captureId,
    );
    const record = await storage.repository.getUrl(urlId);
    assert.equal(record?.recapture, "off");
    assert.equal(record?.nextCaptureAt, undefined, "not scheduled by the policy read before the change");
    assert.equal(record?.captureCount, 1);
  });
});

describe("the host's politeness slot", () => {
  /** One slot, and the order in which it was taken and given back among the capture's steps. */
  function recordingGate(events: string[]): HostGate & { held: number } {
    const gate = {
      held: 0,
      async acquire() {
        if (gate.held > 0) return { granted: false as const, retryAfterMs: 1000 };
        gate.held++;
        events.push("acquired");
        return { granted: true as const, slot: 0 };
      },
      async release() {
        events.push("released");
        gate.held--;
      },
    };
    return gate;
  }

  it("is given back once the browser is done, before the capture's records are written", async () => {
    const events: string[] = [];
    const gate = recordingGate(events);
    const deps = depsWith(
      fixedCapturer(() => articlePage(3)),
      gate,
    );
    const finishCapture = deps.repository.finishCapture.bind(deps.repository);
    deps.repository = Object.create(deps.repository, {
      finishCapture: {
        value: async (...args: Parameters<typeof finishCapture>) => {
          events.push("finished");
          return finishCapture(...args);
        },
      },
    });
    await succeeded(deps, await queuedCapture(storage.repository, "https://news.example/slot"));
    assert.deepEqual(events, ["acquired", "released", "finished"]);
    assert.equal(gate.held, 0);
  });

  it("is given back when the capture fails, and when it will be retried", async () => {
    const events: string[] = [];
    const gate = recordingGate(events);
    const failing = (retryable: boolean): PageCapturer => ({
      capture: async () => {
        throw new CaptureError("timeout", "The page took too long.", { retryable });
      },
      close: async () => {},
    });
    const retried = await processCapture(
      depsWith(failing(true), gate),
      await queuedCapture(storage.repository, "https://news.example/slot-retry"),
    );
    assert.equal(retried.kind, "retry");
    assert.equal(gate.held, 0);
    const failed = await processCapture(
      depsWith(failing(false), gate),
      await queuedCapture(storage.repository, "https://news.example/slot-fail"),
    );
    assert.equal(failed.kind, "failed");
    assert.equal(gate.held, 0);
    assert.deepEqual(events, ["acquired", "released", "acquired", "released"]);
  });
});
