/**
 * What `processCapture` records when the URL changes under it, on the embedded S3 and DynamoDB
 * behind the real adapters. The URL and its latest version are read while the page loads, so these
 * tests change them during the load — with a capturer that serves fixed pages and does the change
 * before it returns — and check that nothing decided from the earlier read is recorded.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type ProcessCaptureDeps, processCapture } from "../../shared/domain/capture/index.ts";
import { urlIdFor } from "../../shared/domain/ids.ts";
import type { ArticleEditedEvent, PageCapture, PageCapturer } from "../../shared/ports.ts";
import { testCaptureOptions } from "../support/capture-options.ts";
import {
  captureDeps,
  type EmbeddedStorage,
  queuedCapture,
  startEmbeddedStorage,
} from "../support/embedded-storage.ts";

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
      return pageFor(url, html());
    },
    close: async () => {},
  };
}

/** What a browser would make of `html` at `url`. */
function pageFor(url: string, html: string): PageCapture {
  const body = new TextEncoder().encode(html);
  return {
    finalUrl: url,
    httpStatus: 200,
    raw: { body, contentType: "text/html; charset=utf-8" },
    renderedHtml: html,
    snapshotHtml: html,
    screenshot: { body: new TextEncoder().encode(`jpeg of ${html}`), contentType: "image/jpeg" },
    timings: {},
  };
}

function depsWith(capturer: PageCapturer): ProcessCaptureDeps {
  return captureDeps(storage, capturer, OPTIONS);
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

  it("lists versions in the order they were recorded when a later request commits first", async () => {
    const url = "https://news.example/out-of-order";
    const urlId = urlIdFor(url);
    const first = await succeeded(
      depsWith(fixedCapturer(() => articlePage(1))),
      await queuedCapture(storage.repository, url),
    );
    const requestedFirst = await queuedCapture(storage.repository, url);
    const requestedSecond = await queuedCapture(storage.repository, url);
    const second = await succeeded(depsWith(fixedCapturer(() => articlePage(2))), requestedSecond);
    const third = await succeeded(depsWith(fixedCapturer(() => articlePage(3))), requestedFirst);
    const versions = await storage.repository.listVersions(urlId);
    assert.deepEqual(
      versions.map((v) => v.versionId),
      [first.versionId, second.versionId, third.versionId],
    );
    assert.equal(versions[2]?.previousVersionId, second.versionId);
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

describe("a redelivered capture whose earlier attempt died part-way", () => {
  /** The repository, with `method` failing once for `captureId`'s records (a worker dying there). */
  function failingOnce(
    method: "finishCapture" | "recordCaptureOnUrl",
    captureId: string,
  ): ProcessCaptureDeps {
    const repository = storage.repository;
    let failed = false;
    const dying = (async (...args: unknown[]) => {
      const about = JSON.stringify(args[0]);
      if (!failed && about.includes(captureId)) {
        failed = true;
        throw new Error(`worker died in ${method}`);
      }
      return (repository[method] as (...a: unknown[]) => Promise<unknown>).apply(repository, args);
    }) as never;
    return {
      ...depsWith(fixedCapturer(() => articlePage(70))),
      repository: { ...repository, [method]: dying },
    };
  }

  it("leaves a version it committed where it is once another has followed it", async () => {
    const url = "https://news.example/redelivered-after-commit";
    const urlId = urlIdFor(url);
    await succeeded(
      depsWith(fixedCapturer(() => articlePage(60))),
      await queuedCapture(storage.repository, url),
    );
    // The first attempt commits 70 homes as the latest version, then dies before finishing.
    const dying = await queuedCapture(storage.repository, url);
    const outcome = await processCapture(failingOnce("finishCapture", dying), dying);
    assert.equal(outcome.kind, "retry");
    const committed = (await storage.repository.getUrl(urlId))?.latestVersionId;
    // Another capture records 80 homes on top of it.
    const next = await succeeded(
      depsWith(fixedCapturer(() => articlePage(80))),
      await queuedCapture(storage.repository, url),
    );
    assert.equal(
      (await storage.repository.getVersion(urlId, next.versionId ?? ""))?.previousVersionId,
      committed,
    );

    // The redelivery finishes the capture without moving the latest version back, and announces
    // the edit it committed (the dead attempt may not have): at least once.
    const events: ArticleEditedEvent[] = [];
    const redelivered = await succeeded(
      {
        ...depsWith(fixedCapturer(() => articlePage(90))),
        publisher: { publish: async (event) => void events.push(event) },
      },
      dying,
    );
    assert.equal(redelivered.versionId, committed, "the capture keeps the version it committed");
    assert.deepEqual(
      events.map((e) => [e.versionId, e.captureId]),
      [[committed, dying]],
    );
    const record = await storage.repository.getUrl(urlId);
    assert.equal(record?.latestVersionId, next.versionId, "the latest version stays the newest");
    assert.equal(record?.versionCount, 3);
  });

  it("sets aside a version it stored but never committed, and decides afresh", async () => {
    const url = "https://news.example/redelivered-orphan";
    const urlId = urlIdFor(url);
    await succeeded(
      depsWith(fixedCapturer(() => articlePage(60))),
      await queuedCapture(storage.repository, url),
    );
    // The first attempt stores its version (70 homes) and dies before making it the latest.
    const dying = await queuedCapture(storage.repository, url);
    assert.equal((await processCapture(failingOnce("recordCaptureOnUrl", dying), dying)).kind, "retry");
    const next = await succeeded(
      depsWith(fixedCapturer(() => articlePage(80))),
      await queuedCapture(storage.repository, url),
    );

    // Redelivered, the page now shows 80 homes too: unchanged against the latest.
    const redelivered = await succeeded(depsWith(fixedCapturer(() => articlePage(80))), dying);
    assert.equal(redelivered.changed, false);
    assert.equal(redelivered.versionId, next.versionId);
    const record = await storage.repository.getUrl(urlId);
    assert.equal(record?.latestVersionId, next.versionId);
    const versions = await storage.repository.listVersions(urlId);
    assert.equal(versions.length, 2, "no orphan left in the history");
    assert.equal(record?.versionCount, 2);
  });
});

describe("work started on the page as first taken", () => {
  /** Shows the capturer's hook the page with `first` homes, then returns `last` (the same if equal). */
  function takenTwice(first: number, last: number): PageCapturer {
    return {
      async capture(url, _options, hooks) {
        const taken = pageFor(url, articlePage(first));
        hooks?.onTaken?.(taken);
        return first === last ? taken : pageFor(url, articlePage(last));
      },
      close: async () => {},
    };
  }

  function countingPuts(deps: ProcessCaptureDeps): { deps: ProcessCaptureDeps; puts: () => number } {
    let puts = 0;
    const blobs = deps.blobs;
    return {
      deps: {
        ...deps,
        blobs: {
          ...blobs,
          putBlob: (...args) => {
            puts++;
            return blobs.putBlob(...args);
          },
        },
      },
      puts: () => puts,
    };
  }

  it("is kept when the page stayed quiet: each artifact is stored once", async () => {
    const { deps, puts } = countingPuts(depsWith(takenTwice(5, 5)));
    await succeeded(deps, await queuedCapture(storage.repository, "https://news.example/quiet-while-taken"));
    assert.equal(puts(), 5);
  });

  it("is redone when the page was taken again, and the second take is what is recorded", async () => {
    const { deps, puts } = countingPuts(depsWith(takenTwice(5, 6)));
    const capture = await succeeded(
      deps,
      await queuedCapture(storage.repository, "https://news.example/changed-while-taken"),
    );
    assert.equal(puts(), 10, "both takes uploaded; only the second recorded");
    const text = capture.artifacts?.text ?? assert.fail("no text artifact");
    assert.match(new TextDecoder().decode(await storage.blobs.getBlob(text)), /approved 6 new homes/);
  });
});
