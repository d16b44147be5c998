/**
 * The capturer's limits on one capture — total time, redirects, DOM size — with the real browser
 * against the fixture site on 127.0.0.1: each ends the capture with its own reason, leaves the
 * browser usable, and is recorded on the capture when it fails for good.
 */
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { after, before, describe, it } from "node:test";
import { createChromiumPageCapturer } from "../../shared/adapters/chromium/page-capturer.ts";
import { processCapture } from "../../shared/domain/capture/index.ts";
import { worthRetrying } from "../../shared/domain/capture/retry-policy.ts";
import { CaptureError } from "../../shared/errors.ts";
import type { PageCapturer } from "../../shared/ports.ts";
import { testCaptureOptions } from "../support/capture-options.ts";
import {
  captureDeps,
  type EmbeddedStorage,
  queuedCapture,
  startEmbeddedStorage,
} from "../support/embedded-storage.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";
import { loopbackEgress, NO_DNS } from "../support/loopback-browser.ts";

const OPTIONS = testCaptureOptions({
  screenshotMaxHeight: 2_000,
  inlineTotalMaxBytes: 4_000_000,
  totalTimeoutMs: 20_000,
  maxRedirects: 3,
  maxDomElements: 1_000,
});

const ARTICLE = "<!DOCTYPE html><title>Arrived</title><h1>Arrived</h1><p>The article, at last.</p>";

let site: FixtureSite;
let capturer: PageCapturer;

before(async () => {
  site = await startFixtureSite();
  capturer = createChromiumPageCapturer({
    extraArgs: [NO_DNS],
    egress: loopbackEgress(),
  });
  // `/chain?n=<n>`: n HTTP redirects, then the article.
  site.setRoute("/chain", (req, res) => {
    const n = Number(new URL(req.url ?? "/", site.origin).searchParams.get("n") ?? "0");
    if (n > 0) {
      res.writeHead(302, { location: `/chain?n=${n - 1}` });
      res.end();
    } else {
      sendHtml(res, ARTICLE);
    }
  });
  // `/refresh?n=<n>`: n meta refreshes, then the article.
  site.setRoute("/refresh", (req, res) => {
    const n = Number(new URL(req.url ?? "/", site.origin).searchParams.get("n") ?? "0");
    sendHtml(
      res,
      n > 0
        ? `<!DOCTYPE html><meta http-equiv="refresh" content="0;url=/refresh?n=${n - 1}"><title>Moving</title>`
        : ARTICLE,
    );
  });
  // Redirects to itself forever.
  site.setRoute("/loop", (_req, res) => {
    res.writeHead(302, { location: "/loop" });
    res.end();
  });
  // A document that never finishes: a paragraph every 100 ms until the browser hangs up.
  site.setRoute("/endless", (_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
    res.write("<!DOCTYPE html><title>Endless</title><h1>Live</h1>");
    const timer = setInterval(() => res.write(`<p>Update ${Date.now()}</p>`), 100);
    res.on("close", () => clearInterval(timer));
  });
});

after(async () => {
  await capturer?.close();
  await site?.close();
});

function sendHtml(res: ServerResponse, body: string): void {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(body);
}

async function assertCaptureError(
  promise: Promise<unknown>,
  code: string,
  message: RegExp,
  retryable: boolean,
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof CaptureError, `expected a CaptureError, got ${String(err)}`);
    assert.equal(err.code, code, `${err.message} (${String(err.cause)})`);
    assert.match(err.message, message);
    assert.equal(worthRetrying(err), retryable, `retryable for ${err.message}`);
    return true;
  });
}

/** The capturer still works, on the same browser: the limit cost no relaunch. */
async function assertStillCaptures(): Promise<void> {
  const capture = await capturer.capture(site.url("/static-article.html"), OPTIONS);
  assert.equal(capture.httpStatus, 200);
  assert.equal(capture.timings.launch, 0, "no relaunch");
}

describe("capture limits", () => {
  it("follows redirects up to maxRedirects and stops at the next one with `too_many_redirects`", async () => {
    const within = await capturer.capture(site.url("/chain?n=3"), OPTIONS);
    assert.equal(within.finalUrl, site.url("/chain?n=0"));
    assert.match(within.renderedHtml, /The article, at last/);

    const before = site.requestCount("/chain");
    await assertCaptureError(
      capturer.capture(site.url("/chain?n=50"), OPTIONS),
      "too_many_redirects",
      /^The page redirected more than 3 times\.$/,
      false,
    );
    // Stopped near the cap, not at the end of the chain (a hop or two may leave while it stops).
    const hops = site.requestCount("/chain") - before;
    assert.ok(hops < 20, `${hops} requests: the chain was not cut short`);

    await assertCaptureError(
      capturer.capture(site.url("/chain?n=1"), { ...OPTIONS, maxRedirects: 0 }),
      "too_many_redirects",
      /more than 0 times/,
      false,
    );
  });

  it("counts meta refreshes as redirects", async () => {
    const within = await capturer.capture(site.url("/refresh?n=2"), OPTIONS);
    assert.equal(within.finalUrl, site.url("/refresh?n=0"));

    await assertCaptureError(
      capturer.capture(site.url("/refresh?n=6"), OPTIONS),
      "too_many_redirects",
      /more than 3 times/,
      false,
    );
  });

  it("reports the browser's own redirect limit as `too_many_redirects`", async () => {
    await assertCaptureError(
      capturer.capture(site.url("/loop"), { ...OPTIONS, maxRedirects: 20 }),
      "too_many_redirects",
      /more than 20 times/,
      false,
    );
    await assertStillCaptures();
  });

  it("fails a page with more elements than maxDomElements with `too_large`", async () => {
    site.setPage(
      "/big-dom.html",
      // Inline and empty, so the page stays short and the roomy capture quick.
      `<!DOCTYPE html><title>Big</title><h1>Big</h1><p>${"<i></i>".repeat(1_500)}</p>`,
    );
    await assertCaptureError(
      capturer.capture(site.url("/big-dom.html"), OPTIONS),
      "too_large",
      /^The page has more than 1,000 elements\.$/,
      false,
    );
    const roomy = await capturer.capture(site.url("/big-dom.html"), { ...OPTIONS, maxDomElements: 10_000 });
    assert.equal(roomy.httpStatus, 200);

    // Elements added by script after load count as well: the check runs again before serialising.
    site.setPage(
      "/growing-dom.html",
      `<!DOCTYPE html><title>Growing</title><h1>Growing</h1><script>
addEventListener("load", () => setTimeout(() => {
  const list = document.createElement("ul");
  for (let i = 0; i < 2000; i++) list.append(document.createElement("li"));
  document.body.append(list);
}, 20));
</script>`,
    );
    await assertCaptureError(
      capturer.capture(site.url("/growing-dom.html"), OPTIONS),
      "too_large",
      /more than 1,000 elements/,
      false,
    );
    await assertStillCaptures();
  });

  it("ends a capture that runs past totalTimeoutMs with a retryable `timeout`, and keeps the browser", async () => {
    const started = performance.now();
    await assertCaptureError(
      capturer.capture(site.url("/endless"), { ...OPTIONS, totalTimeoutMs: 1_200 }),
      "timeout",
      /^The capture took longer than 1\.2 s\.$/,
      true,
    );
    const took = performance.now() - started;
    assert.ok(took >= 1_200 && took < 1_200 + 1_000, `ended after ${Math.round(took)} ms`);
    await assertStillCaptures();
  });

  it("ends a capture whose page hangs its main thread, and keeps the browser", async () => {
    site.setPage("/busy.html", "<!DOCTYPE html><title>Busy</title><p>Busy</p><script>for (;;) {}</script>");
    const started = performance.now();
    await assertCaptureError(
      capturer.capture(site.url("/busy.html"), { ...OPTIONS, totalTimeoutMs: 1_200 }),
      "timeout",
      /1\.2 s/,
      true,
    );
    assert.ok(performance.now() - started < 1_200 + 1_000, "the hung page did not hold the capture");
    await assertStillCaptures();
  });
});

describe("a capture failing on a limit", () => {
  let storage: EmbeddedStorage;
  before(async () => {
    storage = await startEmbeddedStorage();
  });
  after(async () => {
    await storage?.close();
  });

  it("is recorded as failed with the limit's code and message", async () => {
    const captureId = await queuedCapture(storage.repository, site.url("/chain?n=9"));

    const outcome = await processCapture(captureDeps(storage, capturer, OPTIONS), captureId);

    // Not retried: more attempts would redirect just the same.
    assert.equal(outcome.kind, "failed", JSON.stringify(outcome));
    const record = await storage.repository.getCapture(captureId);
    assert.equal(record?.status, "failed");
    assert.deepEqual(record?.error, {
      code: "too_many_redirects",
      message: "The page redirected more than 3 times.",
    });
  });
});
