/**
 * Consent dialogs, answered in every frame: the page's own and the consent platforms' iframes
 * (Sourcepoint and TrustArc draw theirs in a frame of their own origin, out of reach of a script
 * in the page). Refuses where the dialog offers it, else accepts, else closes; never touches a
 * challenge or captcha frame. What was found and done is returned for the capture's record.
 */
import type { Frame, Page } from "playwright-core";
import type { ConsentAttempt } from "../../domain/model.ts";
import { type ConsentInFrame, dismissConsentInFrame } from "./in-page/dismiss-consent.ts";
import { withTimeout } from "./timing.ts";

/** Cap on the script in one frame: a hung frame must not hold the capture. */
const FRAME_TIMEOUT_MS = 2_000;
/** How long a dialog is given to go once answered, checked every DISMISS_POLL_MS. */
const DISMISS_WAIT_MS = 1_500;
const DISMISS_POLL_MS = 100;
/** Dialogs in two layers ("Are you sure?" after "Reject all") are answered this many times. */
const MAX_ROUNDS = 2;
/** Frames that are bot checks: never scripted, never clicked. */
const CHALLENGE_FRAME = /captcha|challenges\.cloudflare|turnstile|datadome|perimeterx|px-cdn|geo\.captcha/i;

/**
 * Looks for a consent dialog in the main frame, then in each iframe, and answers the first one
 * found; see the module's summary.
 *
 * @returns what was done (`action: "none"` when a dialog was seen but offered no usable control,
 *   `dismissed` whether it was gone afterwards), or null when no frame showed a consent dialog.
 */
export async function dismissConsent(page: Page): Promise<ConsentAttempt | null> {
  let unanswered: ConsentAttempt | null = null;
  for (const frame of framesInOrder(page)) {
    const found = await inFrame(frame, false);
    if (found === null || found.cmp === null) continue;
    const where = frameName(page, frame);
    if (found.action === "none") {
      unanswered ??= { cmp: found.cmp, action: "none", frame: where, dismissed: false };
      continue;
    }
    let last: ConsentInFrame = found;
    let dismissed = await waitUntilGone(frame);
    for (let round = 1; !dismissed && round < MAX_ROUNDS; round++) {
      const again = await inFrame(frame, false);
      if (again === null || again.cmp === null || again.action === "none") break;
      last = again;
      dismissed = await waitUntilGone(frame);
    }
    return {
      cmp: found.cmp,
      action: last.action,
      frame: where,
      ...(last.label ? { label: last.label.slice(0, 100) } : {}),
      dismissed,
    };
  }
  return unanswered;
}

/** The main frame first, then the others in document order, bot-check frames left out. */
function framesInOrder(page: Page): Frame[] {
  const main = page.mainFrame();
  return [
    main,
    ...page.frames().filter((f) => f !== main && !f.isDetached() && !CHALLENGE_FRAME.test(f.url())),
  ];
}

async function inFrame(frame: Frame, probe: boolean): Promise<ConsentInFrame | null> {
  if (frame.isDetached()) return null;
  const run = frame.evaluate(dismissConsentInFrame, { probe }).catch(() => null);
  return withTimeout(run, FRAME_TIMEOUT_MS, () => null);
}

/** Whether the frame's dialog went away (the frame itself may go: platforms remove their iframe). */
async function waitUntilGone(frame: Frame): Promise<boolean> {
  const until = performance.now() + DISMISS_WAIT_MS;
  for (;;) {
    if (frame.isDetached()) return true;
    const still = await inFrame(frame, true);
    // A frame that navigated away or stopped answering shows no dialog any more.
    if (still === null || still.cmp === null) return true;
    if (performance.now() >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, DISMISS_POLL_MS));
  }
}

/** `main`, or the iframe's origin (its path may carry ids). */
function frameName(page: Page, frame: Frame): string {
  if (frame === page.mainFrame()) return "main";
  try {
    return new URL(frame.url()).origin;
  } catch {
    return "iframe";
  }
}
