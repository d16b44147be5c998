/**
 * `PageCapturer` on a real headless Chromium: `@sparticuz/chromium` (the binary that fits in a
 * Lambda) driven by `playwright-core`.
 *
 * One browser per warm worker, launched lazily on the first capture and reused; every capture gets
 * a fresh, incognito browser context that is closed afterwards, so no cookies, storage or cache leak
 * from one page to the next. A browser found dead is relaunched on the next capture; a crash during
 * a capture ends that capture with `browser_crash` (retried). The browser runs with a minimal
 * environment, never the capturer's (which holds AWS credentials on Lambda).
 *
 * A capture: navigate → check the main response → let the page settle (consent banners, lazy
 * content, then quiet) → serialise the DOM once → in parallel, screenshot in the browser and build
 * the self-contained snapshot in Node (see `snapshot/build-snapshot.ts`) → check that the page did
 * not change meanwhile; one that did is settled again and taken again.
 *
 * Waits no longer than the page needs. An init script in every page tracks the work it still has
 * pending: short timers and intervals, animation-frame and idle callback chains, messages it posts
 * itself (how schedulers slice work), ending CSS animations, fonts loading; the network is
 * followed from outside. A page with nothing pending is taken once the network and the DOM have
 * been still for 20 ms (a static page about 25 ms after `load`) and checked until at least 60 ms
 * later. A page with a source of events no tracker can foresee open (a WebSocket, an EventSource,
 * a worker) is held to a fixed quiet window instead: taken after 50 ms of quiet and checked until
 * 150 ms have passed.
 *
 * Non-goals of the settling: content that appears only after a timer longer than a second, or
 * from a poll still ticking without a result 150 ms after the page's last activity, and content
 * in iframes (not in the snapshot anyway).
 *
 * Limits, each ending the capture with its own reason: the whole capture (`totalTimeoutMs`, a
 * `timeout`, retried; the context is closed and the browser stays for the next capture), the
 * main frame's redirects (`maxRedirects`, `too_many_redirects`), the DOM's size when it is taken
 * (`maxDomElements`, and `SERIALIZED_HTML_MAX_CHARS` for its markup: `too_large`), the renderer's
 * memory (`maxRendererMemoryBytes`, `too_large`, see `renderer-memory.ts`), the page's HTML
 * arriving too slowly or stopping (`slow_response`) and any response inflating past its budget
 * (`too_large`, see `response-watch.ts`) and, through the
 * egress proxy, the bytes it downloads (`too_large`).
 *
 * The rooms of this folder, one job each:
 * - `browser-launch.ts` (which Chromium, its switches and environment), `browser-pool.ts` (the
 *   browser of a warm worker, relaunches, the next capture's context), `fresh-context.ts`;
 * - `run-capture.ts` (one capture, its deadline and crashes), `navigation.ts`, `settling.ts` and
 *   `settling-policy.ts` (its numbers), `page-watcher.ts` (the idle watcher) with
 *   `resource-collector.ts`, `take-page.ts` (serialise, screenshot, snapshot);
 * - `in-page/` (the scripts that run inside the page, each self-contained), `run-in-page.ts` (how
 *   they are called);
 * - `exchange-recorder.ts` (every HTTP exchange, for the evidence package) and
 *   `response-bodies.ts` (each body read once, whoever asks);
 * - `renderer-memory.ts` (the renderers' memory cap), `response-watch.ts` (per-response limits);
 * - `capture-errors.ts` (what went wrong, as a `CaptureError`), `timing.ts`.
 */

import { DEFAULT_EVIDENCE_MAX_BYTES } from "../../config.ts";
import { CaptureError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import type { PageCapturer } from "../../ports.ts";
import { createEgressProxy } from "../egress/egress-proxy.ts";
import type { EgressProxy } from "../egress/types.ts";
import { chromiumLaunchArgs } from "./browser-launch.ts";
import { createBrowserPool } from "./browser-pool.ts";
import { DEFAULT_MAX_RENDERER_BYTES, rendererHeapArgs } from "./renderer-memory.ts";
import { DEFAULT_RESPONSE_LIMITS, type ResponseLimits } from "./response-watch.ts";
import { captureWithBrowser } from "./run-capture.ts";
import { settlingPolicy } from "./settling-policy.ts";

export interface ChromiumPageCapturerOptions {
  /**
   * The Chromium binary to run (`CHROMIUM_PATH`).
   * @default the binary bundled with `@sparticuz/chromium`, unpacked into the temp directory once
   */
  executablePath?: string;
  logger?: Logger;
  /**
   * Extra command-line switches, appended last. Chromium keeps only the last `--enable-features`
   * and `--disable-features` it sees, so passing either replaces Playwright's own lists.
   */
  extraArgs?: string[];
  /**
   * The egress proxy every request of the browser goes through (see `egress/egress-proxy.ts`). The
   * capturer owns it from here on and closes it in `close()`.
   * @default a proxy that lets only public addresses through, resolving with the system resolver
   */
  egress?: EgressProxy;
  /**
   * When set, every page must have been quiet this long (no request, no DOM change, no pending
   * work the page tracker sees) before it is taken, and stay quiet while it is taken, however
   * clearly it is done sooner: a patient load, for benchmarks that check the default settling
   * against one. Unset in production.
   */
  patientQuietMs?: number;
  /**
   * Memory one renderer may use: V8's heap limit for its JavaScript, and the resident size past
   * which a watch kills it (Linux). A page that goes over fails `too_large`, once.
   * @default 1 GiB
   */
  maxRendererMemoryBytes?: number;
  /**
   * How long the page's HTML may take and pause, and how large it and all the page's responses may
   * decode to (see `response-watch.ts`).
   * @default `DEFAULT_RESPONSE_LIMITS`: 20 s, 10 s, 50 MiB, 400 MiB
   */
  responseLimits?: Partial<ResponseLimits>;
  /**
   * The watches over the renderers' memory and over each response. Off only in the benchmark that
   * measures what they cost; V8's heap limit applies either way.
   * @default true
   */
  hostileGuards?: boolean;
  /**
   * Record every HTTP exchange of each capture (`PageCapture.traffic`, see `exchange-recorder.ts`),
   * keeping at most `maxBytes` of bodies per capture. Off only where no evidence is wanted (the
   * benchmark that measures what recording costs).
   * @default on, 50 MiB
   */
  recording?: { maxBytes: number } | false;
}

/**
 * Creates a capturer. Nothing starts until the first `capture()`; call `close()` on shutdown.
 * Captures may run concurrently; they share the browser, never a context.
 */
export function createChromiumPageCapturer(options: ChromiumPageCapturerOptions = {}): PageCapturer {
  const log = options.logger;
  const settling = settlingPolicy(options.patientQuietMs);
  const egress = options.egress ?? createEgressProxy({ logger: log });
  const maxRendererBytes = options.maxRendererMemoryBytes ?? DEFAULT_MAX_RENDERER_BYTES;
  const responseLimits = { ...DEFAULT_RESPONSE_LIMITS, ...options.responseLimits };
  const extraArgs = options.extraArgs ?? [];
  const recording = options.recording ?? { maxBytes: DEFAULT_EVIDENCE_MAX_BYTES };
  const pool = createBrowserPool({
    executablePath: options.executablePath,
    launchArgs: [
      ...chromiumLaunchArgs(extraArgs.filter((arg) => !arg.startsWith("--js-flags="))),
      ...rendererHeapArgs(maxRendererBytes, extraArgs),
    ],
    maxRendererBytes,
    guards: options.hostileGuards ?? true,
    egress,
    log,
  });
  let closed = false;

  return {
    async capture(url, captureOptions, hooks) {
      if (closed) throw new Error("The capturer is closed.");
      const target = new URL(url);
      if (target.protocol !== "http:" && target.protocol !== "https:") {
        throw new Error(`Only http(s) URLs can be captured, got ${target.protocol}`);
      }
      const started = performance.now();
      let current: Awaited<ReturnType<typeof pool.acquire>>;
      try {
        current = await pool.acquire();
      } catch (err) {
        if (closed) throw err;
        throw new CaptureError("browser_crash", "The browser could not be started.", { cause: err });
      }
      const launchMs = current.launched ? performance.now() - started : 0;
      try {
        const result = await captureWithBrowser(
          current.browser,
          pool.takeFreshPage,
          target,
          captureOptions,
          log,
          hooks,
          settling,
          pool.memoryWatch(current.browser),
          options.hostileGuards === false ? undefined : responseLimits,
          recording || undefined,
        );
        result.timings.launch = Math.round(launchMs);
        result.timings.total = Math.round(performance.now() - started);
        log?.debug("page captured", {
          httpStatus: result.httpStatus,
          rawBytes: result.raw.body.byteLength,
          snapshotBytes: result.snapshotHtml.length,
          screenshotBytes: result.screenshot.body.byteLength,
          timings: result.timings,
        });
        return result;
      } finally {
        await pool.release(current.browser);
      }
    },

    async close() {
      closed = true;
      await pool.close();
      await egress.close();
    },
  };
}
