/**
 * The idle watcher: follows one page's main-frame network from outside and its pending work
 * through the page's tracker (`in-page/track-page-activity.ts`), to tell when the page has
 * settled and whether it changed while it was taken.
 */
import type { Page, Request, Response } from "playwright-core";
import type { PageCaptureOptions } from "../../ports.ts";
import type { CollectedResource } from "../snapshot/types.ts";
import type { PageActivity } from "./in-page/track-page-activity.ts";
import { collectResources } from "./resource-collector.ts";
import { readPageActivity } from "./run-in-page.ts";
import {
  CALLBACK_CHAIN_MAX_MS,
  DOM_CHURN_MAX_MS,
  type IdleState,
  IN_PAGE_WAIT_MAX_MS,
  PENDING_POLL_MS,
  QUIET_MS,
  type Quiet,
  STALLED_REQUEST_MS,
} from "./settling-policy.ts";
import { delay } from "./timing.ts";

/** Requests that never "finish" by design and must not hold up the idle wait. */
const UNTRACKED_RESOURCE_TYPES = new Set(["eventsource", "websocket", "media", "manifest", "ping"]);

export interface PageSession {
  /** The latest main-frame document response (pages may navigate again, e.g. after consent). */
  mainResponse(): Response | undefined;
  /**
   * Resolves when the page has settled — no request in flight, nothing loaded and no DOM content
   * changed for the quiet asked for, no timer of its last activity still due, no young chain of
   * frame or idle callbacks pending, no font loading — or at `deadline`.
   */
  waitForIdle(deadline: number, quiet: Quiet): Promise<IdleState>;
  /** Makes the next idle wait see at least `quietMs` with nothing happening from now on. */
  noteActivity(quietMs: number): void;
  /**
   * Starts watching for activity from now on (network and DOM), for `changedWhileTaken`. Call it right
   * before serialising what an idle wait found settled.
   */
  watchFromNow(): Promise<void>;
  /**
   * What made the page stop being as settled as the idle wait found it, from `watchFromNow()` until
   * `windowMs` later or until now, whichever is later: a request or a DOM content change in that
   * window, a timer of the last activity still pending or, on an accounted page, a source the
   * tracker cannot follow opened. Undefined if nothing did. Waits for the window's end first; on
   * an accounted page, also (briefly) for callbacks and animations that started meanwhile.
   */
  changedWhileTaken(idle: IdleState, windowMs: number): Promise<string | undefined>;
  /** Bodies collected so far, waiting briefly for ones still being read. */
  collectedResources(): Promise<Map<string, CollectedResource>>;
  /** Takes a screenshot; the image requests it sets off do not count as the page changing. */
  whileScreenshotting<T>(screenshot: () => Promise<T>): Promise<T>;
}

/**
 * How long the page's pending timers still hold it busy: timers set before, or within `QUIET_MS`
 * after, its last activity are the page finishing what that activity started; timers set later are
 * a loop (polling, tickers) and are not waited on.
 */
function pendingTimerWait(activity: PageActivity, at: number, settledSince: number): number {
  let wait = 0;
  for (const timer of activity.timers) {
    if (at - timer.ageMs <= settledSince + QUIET_MS) wait = Math.max(wait, timer.dueInMs + 1);
  }
  return wait;
}

/** Follows the page's network: in-flight requests for the idle wait, bodies for the snapshot. */
export function watchPage(page: Page, options: PageCaptureOptions): PageSession {
  const mainFrame = page.mainFrame();
  // Subframes are left out: ad iframes refresh forever and their content is not in the snapshot.
  const isMainFrame = (request: Request) => {
    try {
      return request.frame() === mainFrame;
    } catch {
      return false; // service-worker requests have no frame
    }
  };

  const inFlight = new Map<Request, number>();
  let lastActivity = performance.now();
  /** Set by `watchFromNow()`; the first activity after it, if any. */
  let watchingSince: number | undefined;
  let firstActivityWhileWatching: { at: number; url: string } | undefined;
  /**
   * Image requests that started while the page was being screenshotted: a full-page screenshot
   * lays the whole page out at once, and images pick another `srcset` candidate or start loading
   * for it. The screenshot asked for them; they are not the page changing.
   */
  let screenshotting = 0;
  const forScreenshot = new WeakSet<Request>();
  const wakers = new Set<() => void>();
  const touch = (request: Request) => {
    lastActivity = performance.now();
    if (watchingSince !== undefined && !forScreenshot.has(request)) {
      firstActivityWhileWatching ??= { at: lastActivity, url: request.url() };
    }
    for (const wake of wakers) wake();
  };
  page.on("request", (request) => {
    if (UNTRACKED_RESOURCE_TYPES.has(request.resourceType()) || !isMainFrame(request)) return;
    if (screenshotting > 0 && request.resourceType() === "image") forScreenshot.add(request);
    inFlight.set(request, performance.now());
    touch(request);
  });
  const done = (request: Request) => {
    if (inFlight.delete(request)) touch(request);
  };
  page.on("requestfinished", done);
  page.on("requestfailed", done);

  /** Set by `noteActivity`: no idle wait ends before this. */
  let quietNotBefore = Number.NEGATIVE_INFINITY;

  /**
   * Resolves when no request has been in flight, and none started or ended, for `quietMs` (and
   * `noteActivity`'s time is up).
   */
  const waitForNetworkQuiet = (deadline: number, quietMs: number) =>
    new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(timer);
        wakers.delete(check);
        resolve();
      };
      function check() {
        clearTimeout(timer);
        const now = performance.now();
        if (now >= deadline || page.isClosed()) return finish();
        let oldestActive: number | undefined;
        for (const startedAt of inFlight.values()) {
          if (now - startedAt < STALLED_REQUEST_MS)
            oldestActive = Math.min(oldestActive ?? startedAt, startedAt);
        }
        let wait: number;
        if (oldestActive === undefined) {
          const quietAt = Math.max(lastActivity + quietMs, quietNotBefore);
          if (now >= quietAt) return finish();
          wait = quietAt - now;
        } else {
          wait = STALLED_REQUEST_MS - (now - oldestActive); // or earlier, when a request ends
        }
        timer = setTimeout(check, Math.max(1, Math.min(wait, deadline - now)));
      }
      wakers.add(check);
      check();
    });

  let latestMain: Response | undefined;
  page.on("response", (response) => {
    const request = response.request();
    if (isMainFrame(request) && request.isNavigationRequest()) latestMain = response;
  });
  const resources = collectResources(page, isMainFrame, options);

  return {
    mainResponse: () => latestMain,
    noteActivity(quietMs) {
      quietNotBefore = Math.max(quietNotBefore, performance.now() + quietMs);
    },
    async waitForIdle(deadline, { quietMs, accountedQuietMs }) {
      const inPageDeadline = () => Math.min(deadline, networkQuietAt + IN_PAGE_WAIT_MAX_MS);
      let networkQuietAt = Number.POSITIVE_INFINITY;
      let churningSince: number | undefined;
      /** Since when this wait has found scheduled work pending (and nothing else), if it has. */
      let scheduledSince: number | undefined;
      // Starts from the shorter quiet; a page that turns out to have untracked activity (or no
      // tracker) is then held to the longer one.
      let required = Math.min(quietMs, accountedQuietMs);
      for (;;) {
        await waitForNetworkQuiet(deadline, required);
        const now = performance.now();
        if (now >= deadline || page.isClosed()) {
          return { settledSince: lastActivity, settled: false, accounted: false };
        }
        networkQuietAt = Math.min(networkQuietAt, now);
        if (now >= inPageDeadline()) return { settledSince: lastActivity, settled: false, accounted: false };
        const activity = await readPageActivity(page);
        const accounted = activity !== null && activity.untracked.length === 0;
        if (!accounted && required < quietMs) {
          required = quietMs;
          continue;
        }
        // A page without the tracker (it navigated meanwhile, or its thread is stuck) has only the
        // network to go by.
        if (!activity) return { settledSince: lastActivity, settled: true, accounted: false };
        const at = performance.now();
        const domQuietFor = activity.sinceMutationMs;
        // Churn is judged against the longer quiet: a ticker rewriting itself every 40 ms is a
        // ticker whichever quiet the page is held to.
        if (domQuietFor >= quietMs) churningSince = undefined;
        else churningSince ??= at;
        const churning = churningSince !== undefined && at - churningSince >= DOM_CHURN_MAX_MS;
        // The DOM's changes count as activity unless the page turned out to be churning.
        const settledSince = churning ? lastActivity : Math.max(lastActivity, at - domQuietFor);
        let wait =
          !churning && domQuietFor < required
            ? required - domQuietFor
            : pendingTimerWait(activity, at, settledSince);
        if (wait <= 0 && activity.fontsLoading) wait = PENDING_POLL_MS;
        // Work the page has scheduled: frame and idle callbacks, messages it posts itself (how
        // schedulers, React's among them, run work in slices) and animations about to end (pages
        // render on their end events). Each may be a loop that never ends — an animation loop
        // restarted from a timer looks young forever, a carousel transitions every second — so
        // it is waited for CALLBACK_CHAIN_MAX_MS at most, from when this wait first met it.
        const scheduled =
          activity.youngCallbacks > 0 || activity.sinceMessageMs < required || activity.animationsDueInMs > 0;
        let scheduledLoop = false;
        if (wait <= 0 && scheduled) {
          scheduledSince ??= at;
          if (at - scheduledSince < CALLBACK_CHAIN_MAX_MS) {
            wait = Math.max(
              PENDING_POLL_MS,
              required - activity.sinceMessageMs,
              // Ending animations fire their events in the frame after they end.
              activity.animationsDueInMs > 0 ? activity.animationsDueInMs + PENDING_POLL_MS : 0,
            );
            wait = Math.min(wait, scheduledSince + CALLBACK_CHAIN_MAX_MS - at);
          } else {
            scheduledLoop = true;
          }
        } else if (!scheduled) {
          scheduledSince = undefined;
        }
        if (wait <= 0) return { settledSince, settled: !churning, accounted, scheduledLoop };
        await delay(Math.max(1, Math.min(wait, inPageDeadline() - at)));
        if (performance.now() >= inPageDeadline()) return { settledSince, settled: false, accounted };
      }
    },
    async whileScreenshotting(screenshot) {
      screenshotting++;
      try {
        return await screenshot();
      } finally {
        screenshotting--;
      }
    },
    async watchFromNow() {
      watchingSince = performance.now();
      firstActivityWhileWatching = undefined;
      await readPageActivity(page, true);
    },
    async changedWhileTaken(idle, windowMs) {
      const since = watchingSince;
      if (since === undefined) return "it was not watched";
      let windowEnd = Math.max(since + windowMs, performance.now());
      const now = performance.now();
      if (now < windowEnd) await delay(windowEnd - now);
      if (page.isClosed()) return "the page closed";
      let activity = await readPageActivity(page);
      if (idle.accounted && activity) {
        if (activity.untracked.length > 0) return `it opened ${activity.untracked.join(", ")}`;
        // Work that started meanwhile (scroll and resize handlers, mostly) may yet change the page:
        // it is let finish, briefly, and everything up to then counts.
        const until = performance.now() + CALLBACK_CHAIN_MAX_MS;
        const pending = (a: PageActivity) =>
          !idle.scheduledLoop && (a.youngCallbacks > 0 || a.animationsDueInMs > 0);
        while (pending(activity)) {
          const left = until - performance.now();
          if (left <= 0) break;
          await delay(Math.min(left, Math.max(PENDING_POLL_MS, activity.animationsDueInMs)));
          // A page that stops answering keeps what the last answer said.
          const next = await readPageActivity(page);
          if (!next) break;
          activity = next;
        }
        windowEnd = performance.now();
      }
      if (firstActivityWhileWatching !== undefined && firstActivityWhileWatching.at <= windowEnd) {
        return `a request (${firstActivityWhileWatching.url.slice(0, 200)})`;
      }
      if (!activity) return undefined; // the network is all there is to go by, and it was quiet
      if (activity.mutatedAfterMarkMs !== null && activity.mutatedAfterMarkMs <= windowEnd - since) {
        return "its DOM content";
      }
      return pendingTimerWait(activity, performance.now(), idle.settledSince) > 0
        ? "it set a timer that is still due"
        : undefined;
    },
    collectedResources: () => resources.collected(),
  };
}
