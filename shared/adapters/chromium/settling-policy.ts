/**
 * How long a page must be quiet before it is taken, and how long it is checked after: the numbers
 * of the settling, and the shapes the idle watcher (`page-watcher.ts`) and the settling
 * (`settling.ts`) share. See `page-capturer.ts` for the whole story.
 */

/**
 * The page counts as settled after this long with no main-frame request starting or ending and no
 * content added to or removed from the DOM — as long as no timer the page set around its last
 * activity is still due (see `trackPageActivity`) — when the page has a source of activity the
 * tracker cannot follow (a WebSocket, an EventSource, a worker: see `ACCOUNTED_QUIET_MS`). Short,
 * because the timers cover the usual reason a page goes quiet before it is done ("fetch, then
 * render a moment later"). Also the window around a page's last activity in which the timers it
 * sets count as the page finishing that activity.
 */
export const QUIET_MS = 150;
/**
 * The quiet after which the serialisation and screenshot start on such a page, before the full
 * `QUIET_MS` has passed: the rest of the window is checked while they run, and a page that was not
 * done after all is settled again and taken again.
 */
const EARLY_QUIET_MS = 50;
/**
 * The quiet that is enough for a page whose every pending piece of work the tracker sees: short
 * timers, animation-frame and idle callbacks, messages posted to itself, ending animations, fonts
 * loading, and the network. Nothing then runs later without first showing up there, so the page is taken once the
 * network and the DOM have been still this long (the time for the browser to report a request that
 * a task has just started, and for a load's handlers to run) and it is checked, as soon as it is
 * taken, that nothing changed meanwhile.
 */
const ACCOUNTED_QUIET_MS = 20;
/**
 * How long after it is taken an accounted page is still checked, at least (the take itself usually
 * lasts longer): what the tracker cannot see, IndexedDB and the other asynchronous browser APIs,
 * usually answers within it.
 */
const ACCOUNTED_CHECK_MS = 60;
/**
 * The least quiet after scrolling or making images eager: the loads they set off may be reported
 * by the browser just after the step in the page has returned.
 */
export const AFTER_NUDGE_QUIET_MS = ACCOUNTED_QUIET_MS;
/**
 * A chain of animation-frame or idle callbacks (each requested from the previous one) younger than
 * this is waited for: "render two frames from now". An older one is an animation loop, not loading.
 */
export const CALLBACK_CHAIN_MAX_MS = 200;
/** How often an idle wait looks again while callbacks or fonts are pending: about a frame. */
export const PENDING_POLL_MS = 16;
/** Timers set for longer than this are polling, carousels or analytics, not the page loading. */
export const TRACKED_TIMER_MAX_DELAY_MS = 1_000;
/**
 * Intervals up to this are polls ("until the data is there, then render") and their next tick is
 * waited for; slower ones are clocks and carousels, which tick every second whatever the page does.
 */
export const TRACKED_INTERVAL_MAX_MS = 250;
/** Most time one idle wait spends on the DOM and timers once the network is quiet. */
export const IN_PAGE_WAIT_MAX_MS = 1_500;
/**
 * Most time one idle wait waits for the DOM to stop changing: past it the page counts as churning
 * (a ticker or a counter rewritten every frame) and its DOM changes are no longer waited for.
 */
export const DOM_CHURN_MAX_MS = 500;
/** A request in flight this long is treated as a long poll or a stuck beacon, not as loading. */
export const STALLED_REQUEST_MS = 3_000;

/** Where an idle wait left the page. */
export interface IdleState {
  /** The last network or DOM activity it saw (performance.now() of this process). */
  settledSince: number;
  /** False when it gave up at a deadline or cap rather than finding the page quiet. */
  settled: boolean;
  /** True when the tracker saw all the page's pending work, and none was left (see `ACCOUNTED_QUIET_MS`). */
  accounted: boolean;
  /** True when scheduled work (callbacks, messages, animations) was left pending as a loop. */
  scheduledLoop?: boolean;
}

/** How much quiet an idle wait asks for. */
export interface Quiet {
  /** On a page with activity the tracker cannot follow (or without the tracker). */
  quietMs: number;
  /** On a page whose pending work the tracker sees whole; no more than `quietMs`. */
  accountedQuietMs: number;
}

/** How long a capture lets the page be quiet before it is taken, and checks it after. */
export interface Settling {
  /** Before the page is first taken. */
  early: Quiet;
  /** After `early.quietMs`, on a page with untracked activity: checked while the page is taken. */
  windowMs: number;
  /** The same on a page whose pending work the tracker saw whole. */
  accountedWindowMs: number;
  /** Before a page that changed while it was taken is taken again. */
  full: Quiet;
}

/** The default settling, or with `patientQuietMs` a patient one (see the capturer's options). */
export function settlingPolicy(patientQuietMs: number | undefined): Settling {
  if (patientQuietMs !== undefined) {
    const patient = { quietMs: patientQuietMs, accountedQuietMs: patientQuietMs };
    return { early: patient, windowMs: 0, accountedWindowMs: 0, full: patient };
  }
  return {
    early: { quietMs: EARLY_QUIET_MS, accountedQuietMs: ACCOUNTED_QUIET_MS },
    windowMs: QUIET_MS - EARLY_QUIET_MS,
    accountedWindowMs: ACCOUNTED_CHECK_MS,
    full: { quietMs: QUIET_MS, accountedQuietMs: QUIET_MS },
  };
}
