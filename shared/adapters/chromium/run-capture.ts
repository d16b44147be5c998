/**
 * One capture on a running browser: navigate → check the main response → let the page settle →
 * take it → check that it did not change meanwhile; one that did is settled again and taken again.
 * The whole capture races its deadline and the browser crashing; whichever ends it, its context is
 * closed on the way out.
 */
import type { Browser, BrowserContext, Response } from "playwright-core";
import { CaptureError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import type { PageCapture, PageCaptureHooks, PageCaptureOptions } from "../../ports.ts";
import type { EgressSession } from "../egress/types.ts";
import { crashError, egressError, toCaptureError } from "./capture-errors.ts";
import {
  certificatesVia,
  decodedSizesVia,
  type ExchangeRecorder,
  recordExchanges,
} from "./exchange-recorder.ts";
import { closeContext, type FreshPage, handToCapture } from "./fresh-context.ts";
import { httpError, navigate, saysGone } from "./navigation.ts";
import { watchPage } from "./page-watcher.ts";
import type { RendererMemoryWatch } from "./renderer-memory.ts";
import { type ResponseLimits, watchResponses } from "./response-watch.ts";
import { checkDomSize } from "./run-in-page.ts";
import { settle } from "./settling.ts";
import type { Settling } from "./settling-policy.ts";
import { asPageCapture, takePage } from "./take-page.ts";
import { formatDuration } from "./timing.ts";

/** Captures `url` in a fresh context of `browser`; see the module's summary. */
export async function captureWithBrowser(
  browser: Browser,
  takeFreshPage: (browser: Browser) => Promise<FreshPage>,
  url: URL,
  options: PageCaptureOptions,
  log: Logger | undefined,
  hooks: PageCaptureHooks | undefined,
  settling: Settling,
  memory: RendererMemoryWatch | undefined,
  responseLimits: ResponseLimits | undefined,
  recording?: { maxBytes: number },
): Promise<PageCapture> {
  const timings: Record<string, number> = {};
  let crashed = false;
  /** Set once the race below has settled: the capture is over, whatever `work` still does. */
  let finished = false;
  let signalStop: (err: CaptureError) => void = () => {};
  const stopSignal = new Promise<never>((_, reject) => {
    signalStop = reject;
  });
  stopSignal.catch(() => {}); // only observed through the race below
  /** Ends the capture now with `err` (the first call wins); the context is closed on the way out. */
  const stop = (err: CaptureError) => signalStop(err);
  const endMemoryWatch = memory?.begin();
  const onCrash = () => {
    crashed = true;
    // A renderer that ran out of memory (or was killed for it) is the page's doing: `too_large`.
    stop(memory?.explainCrash(performance.now()) ?? crashError());
  };
  browser.once("disconnected", onCrash);
  const deadline = setTimeout(() => {
    log?.info("capture deadline reached", { totalTimeoutMs: options.totalTimeoutMs, timings });
    stop(
      new CaptureError("timeout", `The capture took longer than ${formatDuration(options.totalTimeoutMs)}.`),
    );
  }, options.totalTimeoutMs);

  let context: BrowserContext | undefined;
  let endResponseWatch: (() => void) | undefined;
  let egress: EgressSession | undefined;
  let recorder: ExchangeRecorder | undefined;
  let endSizes: (() => void) | undefined;
  /** Every URL the main frame set out to load, redirect hops included. */
  const navigations: string[] = [];
  /** The page's 404 or 410: taken all the same, then reported as `http_error` with what it showed. */
  let goneResponse: Response | undefined;
  const work = (async () => {
    let phase = performance.now();
    const lap = (name: string) => {
      const now = performance.now();
      timings[name] = Math.round(now - phase);
      phase = now;
    };
    const fresh = await takeFreshPage(browser);
    context = fresh.context;
    const freshContext = handToCapture(fresh.context);
    egress = fresh.egress;
    if (finished) {
      // Stopped while the page was being opened, after the cleanup below ran: nobody else closes it.
      // Only the context: the next capture may be using the browser by now.
      await fresh.context.close().catch(() => {});
      throw new Error("The capture was stopped while its page was opened.");
    }
    const page = fresh.page;
    // Before anything loads: every exchange of the capture, from the first request on.
    if (recording) {
      const session = fresh.egress;
      const sizes = fresh.devtools ? decodedSizesVia(fresh.devtools.cdp) : undefined;
      endSizes = sizes?.end;
      recorder = recordExchanges(context, {
        maxBytes: recording.maxBytes,
        addressesFor: (target) => session.addressesFor(target),
        ...(fresh.devtools ? { certificateChain: certificatesVia(fresh.devtools.cdp) } : {}),
        ...(sizes ? { decodedBytes: sizes.sizeOf } : {}),
      });
    }
    if (fresh.devtools && responseLimits) {
      const { cdp, mainFrameId } = fresh.devtools;
      endResponseWatch = watchResponses(cdp, mainFrameId, responseLimits, stop);
    }
    page.on("crash", onCrash);
    page.on("request", (request) => {
      try {
        if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {
          navigations.push(request.url());
          // Every main-frame navigation after the first is a redirect: an HTTP one (each hop is a
          // request of its own), a meta refresh or a script's. Chromium follows HTTP redirects by
          // itself, so the capture is stopped here rather than asked to stop following.
          if (navigations.length - 1 > options.maxRedirects) {
            stop(
              new CaptureError(
                "too_many_redirects",
                `The page redirected more than ${options.maxRedirects} times.`,
              ),
            );
          }
        }
      } catch {
        // service-worker requests have no frame
      }
    });
    context.on("page", (popup) => {
      if (popup !== page) popup.close().catch(() => {});
    });
    const session = watchPage(page, options);
    lap("context");

    const response = await navigate(page, url, options, session);
    if (saysGone(response)) goneResponse = response;
    lap("navigate");
    // A huge document is refused before settling walks and scrolls it, and again before it is taken.
    await checkDomSize(page, options);

    const settled = await settle(page, session, options, settling.early);
    lap("settle");
    // Held to the full quiet window: the page has activity its tracker cannot follow.
    if (settled.settled && !settled.accounted) timings.untracked = 1;

    // Serialise and screenshot once the page has settled, and check while that runs that it stays
    // so: a page whose pending work the tracker saw whole, up to the end of the take or
    // ACCOUNTED_CHECK_MS, whichever is later; any other, up to the end of the full quiet window.
    // Most pages are done by then, and the check costs them nothing. One that was not is given the
    // full window and taken again.
    const take = () => takePage(page, session, { options, response, timings, lap, log });

    let result = asPageCapture(await take(), timings, settled.consent, freshContext);
    // Work on the page may start while the rest of the quiet window is checked (not on a page that
    // says the article is gone: that one ends as an error).
    if (!goneResponse && !finished && !egressError(egress, navigations, false)) hooks?.onTaken?.(result);
    // A page that never went quiet within the bounds (a ticker rewriting itself every frame) is
    // taken as it is: waiting again would only end at the same bound.
    const changed = settled.settled
      ? await session.changedWhileTaken(
          settled,
          settled.accounted ? settling.accountedWindowMs : settling.windowMs,
        )
      : undefined;
    lap("verify");
    if (changed) {
      await session.waitForIdle(performance.now() + options.idleTimeoutMs, settling.full);
      result = asPageCapture(await take(), timings, settled.consent, freshContext);
      timings.retaken = 1;
      log?.debug("page changed while it was taken; taken again", { changed, timings });
    }
    if (recorder) {
      // Set on the result itself: `onTaken` may have handed out this very object already.
      result.traffic = await recorder.finish();
      lap("record");
    }
    return result;
  })();
  work.catch(() => {}); // after a crash the race below has already settled

  try {
    const result = await Promise.race([work, stopSignal]);
    // A page that went on to a forbidden host (a script redirect) is not archived as if it had not.
    const refused = egressError(egress, navigations, false);
    if (refused) throw refused;
    // Still gone (or refused) when taken (a script may have moved on to a live page meanwhile).
    if (goneResponse && result.httpStatus >= 400) {
      throw httpError(goneResponse, result);
    }
    return result;
  } catch (err) {
    // The egress proxy answers a forbidden hop with 403, a status whose page is otherwise taken as
    // evidence (a bot wall): the refusal is what happened, not the page.
    const refused = egressError(egress, navigations, false);
    if (refused) throw refused;
    // Taking the page that says the article is gone failed: the status is known all the same.
    if (goneResponse && !(err instanceof CaptureError && err.evidence)) {
      log?.warn("the removed page could not be taken", { error: (err as Error).message });
      throw httpError(goneResponse);
    }
    const gone = crashed || !browser.isConnected();
    const error =
      (gone ? undefined : egressError(egress, navigations, true)) ?? toCaptureError(err, url, options, gone);
    // The page's calls may fail on the crash before the crash itself is reported.
    throw (error.code === "browser_crash" && memory?.explainCrash(performance.now())) || error;
  } finally {
    finished = true;
    clearTimeout(deadline);
    endMemoryWatch?.();
    endResponseWatch?.();
    recorder?.stop();
    endSizes?.();
    browser.off("disconnected", onCrash);
    // Closing also ends whatever `work` was still doing: its next call into the page fails. It must
    // finish before Lambda freezes the process.
    if (context && browser.isConnected()) await closeContext(browser, context, log);
  }
}
