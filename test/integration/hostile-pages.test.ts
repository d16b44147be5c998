/**
 * Hostile pages, with the real browser against servers on 127.0.0.1: a redirect out of http(s),
 * and (below) bodies that never end, lie about their length or inflate without bound, and pages
 * that eat the renderer's memory. Each ends the capture quickly with its own code and is failed on
 * the first attempt, because every further attempt would fail the same way and hold the worker again.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
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
import { HOSTILE, leaveTo, serveHostilePages } from "../support/hostile-pages.ts";
import { loopbackEgress, NO_DNS } from "../support/loopback-browser.ts";

/** A navigation timeout far above the response limits, so that which one ended a capture is clear. */
const NAVIGATION_TIMEOUT_MS = 30_000;
const OPTIONS = testCaptureOptions({ navigationTimeoutMs: NAVIGATION_TIMEOUT_MS, totalTimeoutMs: 40_000 });
/** Short enough to keep the tests quick; the stall limit well inside the deadline. */
const RESPONSE_LIMITS = { documentDeadlineMs: 6_000, stallMs: 1_500 };
/** Ending well before this means a response limit ended the capture, not the navigation's timeout. */
const SOON = NAVIGATION_TIMEOUT_MS / 2;

let site: FixtureSite;
let capturer: PageCapturer;
let storage: EmbeddedStorage;

before(async () => {
  [site, storage] = await Promise.all([startFixtureSite(), startEmbeddedStorage()]);
  capturer = createChromiumPageCapturer({
    extraArgs: [NO_DNS],
    egress: loopbackEgress(),
    responseLimits: RESPONSE_LIMITS,
  });
  const { bombBytes } = await serveHostilePages(site);
  assert.ok(bombBytes < 1_000_000, `the gzip bomb is ${bombBytes} bytes`);
});

after(async () => {
  await capturer?.close();
  await Promise.all([site?.close(), storage?.close()]);
});

/** The capture's error, which must be a CaptureError with `code`. */
async function captureFails(path: string, code: string): Promise<CaptureError> {
  const err = await capturer.capture(site.url(path), OPTIONS).then(
    () => assert.fail(`${path} was captured`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof CaptureError, `expected a CaptureError, got ${String(err)}`);
  assert.equal(err.code, code, `${err.message} (${String(err.cause)})`);
  return err;
}

/** Runs the capture worker once on `path`: it must fail for good at once, with `code`. */
async function failsOnFirstAttempt(path: string, code: string): Promise<void> {
  const captureId = await queuedCapture(storage.repository, site.url(path));
  const outcome = await processCapture(captureDeps(storage, capturer, OPTIONS), captureId);
  assert.equal(outcome.kind, "failed", JSON.stringify(outcome));
  const record = await storage.repository.getCapture(captureId);
  assert.equal(record?.attempts, 1);
  assert.equal(record?.error?.code, code);
}

describe("a body that never ends, lies or inflates", () => {
  it("trickling HTML ends at the document's deadline with `slow_response`, once", async () => {
    const started = performance.now();
    const err = await captureFails(HOSTILE.trickle, "slow_response");
    assert.match(err.message, /^The page's HTML was still arriving 6 s after its headers\.$/);
    assert.ok(performance.now() - started < SOON, "ended at the deadline, not the navigation's timeout");
    await failsOnFirstAttempt(HOSTILE.trickle, "slow_response");
  });

  it("HTML shorter than its Content-Length on an open connection ends at the stall limit, once", async () => {
    const started = performance.now();
    const err = await captureFails(HOSTILE.liarOpen, "slow_response");
    assert.match(err.message, /stopped sending the page's HTML for 1\.5 s/);
    assert.ok(performance.now() - started < SOON, "ended at the stall limit");
    await failsOnFirstAttempt(HOSTILE.liarOpen, "slow_response");
  });

  it("HTML cut short of its Content-Length fails at once as a connection failure", async () => {
    const started = performance.now();
    const err = await captureFails(HOSTILE.liarClose, "connection_failed");
    assert.match(err.message, /ERR_CONTENT_LENGTH_MISMATCH/);
    assert.ok(performance.now() - started < SOON, "not held until the navigation's timeout");
  });

  it("a gzip bomb stops at the decoded budget with `too_large`, once", async () => {
    const started = performance.now();
    const err = await captureFails(HOSTILE.bomb, "too_large");
    assert.match(err.message, /^The page's HTML decodes to more than 50 MiB\.$/);
    assert.ok(performance.now() - started < SOON, "stopped before the navigation's timeout");
    await failsOnFirstAttempt(HOSTILE.bomb, "too_large");
  });
});

describe("a redirect out of http(s)", () => {
  for (const target of ["file:///etc/passwd", "chrome://version/", "data:text/html,<p>hi</p>"]) {
    it(`to ${target.split(":")[0]}: is blocked, once`, async () => {
      const path = leaveTo(target);
      const err = await captureFails(path, "blocked");
      assert.match(err.message, /not http\(s\)/);
      assert.equal(worthRetrying(err), false);
      await failsOnFirstAttempt(path, "blocked");
    });
  }
});

describe("a page that eats memory", () => {
  const MAX_MIB = 320;
  let small: PageCapturer;
  before(() => {
    small = createChromiumPageCapturer({
      extraArgs: [NO_DNS],
      egress: loopbackEgress(),
      maxRendererMemoryBytes: MAX_MIB * 1024 * 1024,
    });
  });
  after(async () => {
    await small?.close();
  });

  it("launches its browser with V8's heap limit for the renderers", async () => {
    await small.capture(site.url("/static-article.html"), OPTIONS);
    // The browser hands its --js-flags to every renderer (whose own titles /proc shows cut short).
    const browsers = readdirSync("/proc")
      .filter((name) => /^\d+$/.test(name))
      .map((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0");
        } catch {
          return [];
        }
      })
      .filter(
        (args) =>
          args.some((arg) => arg.startsWith("--proxy-server=")) &&
          !args.some((arg) => arg.startsWith("--type=")),
      );
    assert.ok(
      browsers.some(
        (args) =>
          args.filter((arg) => arg.startsWith("--js-flags=")).join() ===
          `--js-flags=--max-old-space-size=${MAX_MIB}`,
      ),
      "a browser with the heap limit, in its one --js-flags",
    );
  });

  for (const path of [HOSTILE.eatHeap, HOSTILE.eatBuffers]) {
    it(`${path}: fails \`too_large\` quickly, once, and the browser stays`, async () => {
      const started = performance.now();
      const err = await small.capture(site.url(path), OPTIONS).then(
        () => assert.fail("captured"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof CaptureError, String(err));
      assert.equal(err.code, "too_large", `${err.message} (${String(err.cause)})`);
      assert.match(err.message, new RegExp(`more than ${MAX_MIB} MiB of memory`));
      assert.ok(performance.now() - started < SOON, "stopped well before the capture's deadline");

      const captureId = await queuedCapture(storage.repository, site.url(path));
      const outcome = await processCapture(captureDeps(storage, small, OPTIONS), captureId);
      assert.equal(outcome.kind, "failed", JSON.stringify(outcome));
      assert.equal((await storage.repository.getCapture(captureId))?.error?.code, "too_large");

      const next = await small.capture(site.url("/static-article.html"), OPTIONS);
      assert.equal(next.httpStatus, 200);
      assert.equal(next.timings.launch, 0, "the browser itself survived");
    });
  }
});
