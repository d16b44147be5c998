/**
 * The settling: what a capture does between `load` and taking the page — consent banners out of the
 * way, scrolling for lazy content while anything watches scrolling, and waiting for quiet.
 */
import type { Page } from "playwright-core";
import type { ConsentAttempt } from "../../domain/model.ts";
import type { PageCaptureOptions } from "../../ports.ts";
import { dismissConsent } from "./consent.ts";
import { pageReactsToScroll } from "./in-page/page-reacts-to-scroll.ts";
import { scrollTowardsBottom } from "./in-page/scroll-towards-bottom.ts";
import { tidyPage } from "./in-page/tidy-page.ts";
import type { PageSession } from "./page-watcher.ts";
import { runInPage } from "./run-in-page.ts";
import { AFTER_NUDGE_QUIET_MS, type IdleState, type Quiet } from "./settling-policy.ts";

/** Bounds on scrolling for lazy content; infinite-scroll pages would otherwise never end. */
const SCROLL_MAX_STEPS_PER_ROUND = 40;
const SCROLL_MAX_ROUNDS = 4;
const SCROLL_MAX_MS = 5_000;

/**
 * Lets the page finish what it does after `load`: consent banners out of the way first (they often
 * lock scrolling), then scrolling to the bottom so lazy content loads, repeated while the page grows,
 * each round followed by a wait for `quiet` (see `waitForIdle`). All bounded by `idleTimeoutMs`.
 */
export async function settle(
  page: Page,
  session: PageSession,
  options: PageCaptureOptions,
  quiet: Quiet,
): Promise<IdleState & { consent: ConsentAttempt | null }> {
  const deadline = performance.now() + options.idleTimeoutMs;
  // Consent dialogs are answered in every frame (see consent.ts); tidyPage then removes what
  // still covers the page.
  let consent = await dismissConsent(page);
  await runInPage(page, tidyPage, { clickConsent: false, scrollToTop: false });
  const scrollDeadline = Math.min(deadline, performance.now() + SCROLL_MAX_MS);
  let idle: IdleState = { settledSince: performance.now(), settled: false, accounted: false };
  // A page where nothing watches scrolling has nothing more to load by it and is not scrolled
  // through (a long static article is taken a whole scroll loop sooner). Watchers that a script adds
  // later are looked for again once the page is quiet.
  let foundNothing = false;
  for (let round = 0; round < SCROLL_MAX_ROUNDS; round++) {
    const reacts = await runInPage(page, pageReactsToScroll, null);
    const nothing = reacts.watchers === 0 && reacts.eagerImages === 0;
    if (nothing && foundNothing) break; // looked again after the quiet: still nothing
    if (reacts.eagerImages > 0) session.noteActivity(AFTER_NUDGE_QUIET_MS);
    const remaining = scrollDeadline - performance.now();
    const steps =
      remaining > 0 && reacts.watchers > 0
        ? await runInPage(page, scrollTowardsBottom, {
            maxSteps: SCROLL_MAX_STEPS_PER_ROUND,
            maxMs: remaining,
          })
        : 0;
    // Requests the last scroll step set off may be reported just after it ends.
    if (steps > 0) session.noteActivity(AFTER_NUDGE_QUIET_MS);
    idle = await session.waitForIdle(deadline, quiet);
    if (performance.now() >= deadline || remaining <= 0) break;
    if (steps === 0 && reacts.watchers > 0) break; // at the bottom, or scrolling is locked
    foundNothing = nothing;
  }
  // Consent platforms load after the page and often show their dialog late: one more look.
  if (consent === null || !consent.dismissed) {
    const late = await dismissConsent(page);
    if (late !== null && late.action !== "none") {
      consent = late;
      idle = await session.waitForIdle(deadline, quiet);
    } else consent ??= late;
  }
  return { ...idle, consent };
}
