/**
 * Browser contexts: every capture gets a fresh, incognito context of its own (no cookies, storage
 * or cache shared with another page), with its own egress session and the page tracker installed,
 * and closes it afterwards.
 */
import type { Browser, BrowserContext, CDPSession, Page } from "playwright-core";
import type { Logger } from "../../logger.ts";
import type { EgressProxy, EgressSession } from "../egress/types.ts";
import { trackPageActivity } from "./in-page/track-page-activity.ts";
import {
  CALLBACK_CHAIN_MAX_MS,
  TRACKED_INTERVAL_MAX_MS,
  TRACKED_TIMER_MAX_DELAY_MS,
} from "./settling-policy.ts";
import { withTimeout } from "./timing.ts";

/** The page's viewport; the screenshot is as wide. */
export const VIEWPORT = { width: 1280, height: 800 } as const;
/**
 * Closing a context takes a few ms; one that takes longer than this is stuck on a wedged renderer,
 * and the browser is closed instead, so that the next capture starts on a fresh one.
 */
const CONTEXT_CLOSE_TIMEOUT_MS = 5_000;

/**
 * Every context handed to a capture so far. Weak, so a closed context is forgotten with it; the
 * fact it keeps is what a capture records as `freshContext` (a retry after a bot challenge says it
 * ran with no cookie, storage or cache from the challenged one because its context was new).
 */
const handedOut = new WeakSet<BrowserContext>();

/**
 * Records that `context` is handed to a capture, and says whether it is fresh: no capture was
 * handed it before. The pool's spare is never used twice, so every capture's context is, unless
 * that rule breaks: then the capture says so rather than claiming a clean slate.
 */
export function handToCapture(context: BrowserContext): boolean {
  if (handedOut.has(context)) return false;
  handedOut.add(context);
  return true;
}

/** A context ready for one capture, and its page. */
export interface FreshPage {
  context: BrowserContext;
  page: Page;
  /** The egress session of this context alone: its blocks, failures and bytes are this capture's. */
  egress: EgressSession;
  /** A DevTools session on the page with the Network domain on, for `watchResponses` (when watched). */
  devtools: { cdp: CDPSession; mainFrameId: string } | undefined;
}

/**
 * Opens a capture's context on `browser` with an egress session of its own, the page tracker
 * installed and one page (and, with `watchResponses`, a DevTools session on it); the session
 * closes with the context.
 */
export async function openFreshPage(
  browser: Browser,
  egress: EgressProxy,
  watchResponses: boolean,
): Promise<FreshPage> {
  // Headless Chromium announces itself as HeadlessChrome, which many news sites block.
  const major = browser.version().split(".")[0] ?? "0";
  const session = await egress.openSession();
  const context = await browser
    .newContext({
      // A proxy of its own per context; loopback goes through it too.
      proxy: { server: session.proxyUrl, bypass: "<-loopback>" },
      viewport: VIEWPORT,
      deviceScaleFactor: 1,
      userAgent: `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${major}.0.0.0 Safari/537.36`,
      locale: "en-US",
      serviceWorkers: "block",
      acceptDownloads: false,
      // Fewer animations: pages settle sooner and screenshots do not catch a transition midway.
      reducedMotion: "reduce",
    })
    .catch(async (err: unknown) => {
      await session.close();
      throw err;
    });
  // Contexts also close when the browser goes, spares included.
  context.once("close", () => void session.close());
  try {
    await context.addInitScript(trackPageActivity, {
      timerMaxDelayMs: TRACKED_TIMER_MAX_DELAY_MS,
      intervalMaxMs: TRACKED_INTERVAL_MAX_MS,
      callbackChainMaxMs: CALLBACK_CHAIN_MAX_MS,
    });
    const page = await context.newPage();
    return { context, page, egress: session, devtools: watchResponses ? await devtoolsOf(page) : undefined };
  } catch (err) {
    await context.close().catch(() => {});
    throw err;
  }
}

/**
 * A DevTools session on `page` with the Network domain on. Opened with the context, so off the
 * capture's critical path when this is the next capture's spare. Its body buffers are kept tiny:
 * this session never asks for a body (Playwright's own session keeps them).
 */
async function devtoolsOf(page: Page): Promise<{ cdp: CDPSession; mainFrameId: string }> {
  const cdp = await page.context().newCDPSession(page);
  const [, tree] = await Promise.all([
    cdp.send("Network.enable", { maxTotalBufferSize: 1, maxResourceBufferSize: 1 }),
    cdp.send("Page.getFrameTree"),
  ]);
  return { cdp, mainFrameId: tree.frameTree.frame.id };
}

/**
 * Closes a capture's context, which is quick; a context that does not close in time (a renderer
 * stuck in a loop) takes the browser with it, so that the next capture launches a fresh one.
 */
export async function closeContext(
  browser: Browser,
  context: BrowserContext,
  log: Logger | undefined,
): Promise<void> {
  const closed = await withTimeout(
    context.close().then(
      () => true,
      () => true,
    ),
    CONTEXT_CLOSE_TIMEOUT_MS,
    () => false,
  );
  if (closed || !browser.isConnected()) return;
  log?.warn("browser context did not close; closing the browser", { timeoutMs: CONTEXT_CLOSE_TIMEOUT_MS });
  await browser.close().catch(() => {});
}
