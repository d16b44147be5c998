/**
 * `PageCapturer` on a real headless Chromium: `@sparticuz/chromium` (the binary that fits in a
 * Lambda) driven by `playwright-core`.
 *
 * One browser per warm worker, launched lazily on the first capture and reused; every capture gets
 * a fresh, incognito browser context that is closed afterwards, so no cookies, storage or cache leak
 * from one page to the next. A browser found dead is relaunched on the next capture; a crash during
 * a capture ends that capture with a retryable `browser_crash`.
 *
 * A capture: navigate → check the main response → let the page settle (consent banners, lazy
 * content, then quiet) → serialise the DOM once → in parallel, screenshot in the browser and build
 * the self-contained snapshot in Node (see `snapshot-inliner.ts`) → check that the page did not
 * change meanwhile; one that did is settled again and taken again.
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
 * retryable `timeout`; the context is closed and the browser stays for the next capture), the
 * main frame's redirects (`maxRedirects`, `too_many_redirects`), the DOM's size when it is taken
 * (`maxDomElements`, and `SERIALIZED_HTML_MAX_CHARS` for its markup: `too_large`) and, through the
 * egress proxy, the bytes it downloads (`too_large`).
 */
import { lstat, mkdtemp, readdir, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sparticuzChromium from "@sparticuz/chromium";
import {
  type Browser,
  type BrowserContext,
  type Page,
  chromium as playwrightChromium,
  errors as playwrightErrors,
  type Request,
  type Response,
} from "playwright-core";
import { CaptureError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { PageCapture, PageCaptureHooks, PageCaptureOptions, PageCapturer } from "../ports.ts";
import { createEgressProxy, type EgressProxy, type EgressSession } from "./egress-proxy.ts";
import {
  buildSnapshot,
  type CollectedResource,
  renderedHtmlOf,
  serializeDomInPage,
  withoutFragment,
} from "./snapshot-inliner.ts";

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
   * The egress proxy every request of the browser goes through (see `egress-proxy.ts`). The
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
}

const VIEWPORT = { width: 1280, height: 800 } as const;
const SCREENSHOT_QUALITY = 80;
/**
 * The page counts as settled after this long with no main-frame request starting or ending and no
 * content added to or removed from the DOM — as long as no timer the page set around its last
 * activity is still due (see `trackPageActivity`) — when the page has a source of activity the
 * tracker cannot follow (a WebSocket, an EventSource, a worker: see `ACCOUNTED_QUIET_MS`). Short,
 * because the timers cover the usual reason a page goes quiet before it is done ("fetch, then
 * render a moment later"). Also the window around a page's last activity in which the timers it
 * sets count as the page finishing that activity.
 */
const QUIET_MS = 150;
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
const AFTER_NUDGE_QUIET_MS = ACCOUNTED_QUIET_MS;
/**
 * A chain of animation-frame or idle callbacks (each requested from the previous one) younger than
 * this is waited for: "render two frames from now". An older one is an animation loop, not loading.
 */
const CALLBACK_CHAIN_MAX_MS = 200;
/** How often an idle wait looks again while callbacks or fonts are pending: about a frame. */
const PENDING_POLL_MS = 16;
/** Timers set for longer than this are polling, carousels or analytics, not the page loading. */
const TRACKED_TIMER_MAX_DELAY_MS = 1_000;
/**
 * Intervals up to this are polls ("until the data is there, then render") and their next tick is
 * waited for; slower ones are clocks and carousels, which tick every second whatever the page does.
 */
const TRACKED_INTERVAL_MAX_MS = 250;
/** Most time one idle wait spends on the DOM and timers once the network is quiet. */
const IN_PAGE_WAIT_MAX_MS = 1_500;
/**
 * Most time one idle wait waits for the DOM to stop changing: past it the page counts as churning
 * (a ticker or a counter rewritten every frame) and its DOM changes are no longer waited for.
 */
const DOM_CHURN_MAX_MS = 500;
/** A request in flight this long is treated as a long poll or a stuck beacon, not as loading. */
const STALLED_REQUEST_MS = 3_000;
/** Bounds on scrolling for lazy content; infinite-scroll pages would otherwise never end. */
const SCROLL_MAX_STEPS_PER_ROUND = 40;
const SCROLL_MAX_ROUNDS = 4;
const SCROLL_MAX_MS = 5_000;
/** Caps on steps that a page with a hung main thread could otherwise stall forever. */
const EVALUATE_TIMEOUT_MS = 10_000;
const SCREENSHOT_TIMEOUT_MS = 20_000;
const BODY_COLLECTION_GRACE_MS = 2_000;
const LAUNCH_TIMEOUT_MS = 30_000;
/**
 * Closing a context takes a few ms; one that takes longer than this is stuck on a wedged renderer,
 * and the browser is closed instead, so that the next capture starts on a fresh one.
 */
const CONTEXT_CLOSE_TIMEOUT_MS = 5_000;
/**
 * Most times one step in the page is run again because the page navigated under it. Above the
 * highest redirect cap (20), which stops a page that keeps navigating sooner.
 */
const NAVIGATION_RETRIES_MAX = 22;
/**
 * Cap on the serialised markup, which extraction, the snapshot and storage all handle afterwards
 * (outside the capture's own time limit). Far above any article page; the element cap usually
 * comes first, this one catches a few giant text nodes or attributes.
 */
const SERIALIZED_HTML_MAX_CHARS = 50_000_000;

/** Resource types whose bodies can end up inlined in the snapshot. */
const COLLECTED_RESOURCE_TYPES = new Set(["stylesheet", "image", "font", "other"]);
/** Requests that never "finish" by design and must not hold up the idle wait. */
const UNTRACKED_RESOURCE_TYPES = new Set(["eventsource", "websocket", "media", "manifest", "ping"]);

/** @sparticuz/chromium flags that must not reach our browser, with why. */
const DROPPED_LAUNCH_ARGS = new Set([
  "--single-process", // closing a browser context would kill the whole browser
  "--headless='shell'", // Playwright passes its own --headless
  "--disable-web-security", // page content is untrusted: keep the same-origin policy…
  "--allow-running-insecure-content", // …mixed-content blocking…
  "--disable-site-isolation-trials", // …and site isolation
  // GPU compositing through SwiftShader (software Vulkan) makes full-page screenshots about twice as
  // slow as Chromium's own software compositor; WebGL still falls back to SwiftShader without them.
  "--use-gl=angle",
  "--use-angle=swiftshader",
]);

/**
 * Chromium's flags for a capture browser: @sparticuz/chromium's serverless flags minus the ones that
 * make it unsafe or break context reuse. Its `--disable-features`/`--enable-features` are dropped
 * whole: Chromium honours only the last occurrence of each, so they would silently replace
 * Playwright's lists (which turn off phone-home features and select its screenshot path), and what
 * remains of them after re-enabling site isolation (`AudioServiceOutOfProcess`,
 * `SharedArrayBuffer` without cross-origin isolation) is not worth that.
 */
export function chromiumLaunchArgs(extraArgs: readonly string[] = []): string[] {
  const args = sparticuzChromium.args.filter(
    (arg) =>
      !DROPPED_LAUNCH_ARGS.has(arg) &&
      !arg.startsWith("--headless") &&
      !arg.startsWith("--disable-features=") &&
      !arg.startsWith("--enable-features="),
  );
  return [...args, ...extraArgs];
}

/**
 * Switches that send every request of the browser through the egress proxy and close the doors
 * around it. They come after `extraArgs`, so nothing passed there can override them.
 */
export function egressLaunchArgs(proxyUrl: string): string[] {
  return [
    `--proxy-server=${proxyUrl}`,
    // Chromium never proxies loopback by default: without this, 127.0.0.1 would go around the guard.
    "--proxy-bypass-list=<-loopback>",
    // WebRTC would otherwise send UDP (STUN, ICE) straight from the browser, past the proxy.
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--disable-quic",
    "--dns-prefetch-disable",
    "--disable-background-networking",
    "--no-pings",
  ];
}

let bundledExecutable: Promise<string> | undefined;

/**
 * Unpacks the Chromium bundled with @sparticuz/chromium (once per process) and returns its path.
 * Memoised because two concurrent unpacks race on the same file and fail with `spawn ETXTBSY`.
 * Worth calling at cold start: on Lambda the init phase runs with full CPU.
 */
export function resolveBundledChromium(): Promise<string> {
  bundledExecutable ??= sparticuzChromium.executablePath().catch((err: unknown) => {
    bundledExecutable = undefined; // let a later call retry
    throw err;
  });
  return bundledExecutable;
}

/**
 * Creates a capturer. Nothing starts until the first `capture()`; call `close()` on shutdown.
 * Captures may run concurrently; they share the browser, never a context.
 */
export function createChromiumPageCapturer(options: ChromiumPageCapturerOptions = {}): PageCapturer {
  const log = options.logger;
  const launchArgs = chromiumLaunchArgs(options.extraArgs);
  const settling = settlingPolicy(options.patientQuietMs);
  const egress = options.egress ?? createEgressProxy({ logger: log });
  // Browser-wide, the proxy refuses everything; each capture's context gets a session of its own.
  let fallbackEgress: Promise<EgressSession> | undefined;
  let browser: Browser | undefined;
  let launching: Promise<Browser> | undefined;
  let spare: { browser: Browser; ready: Promise<FreshPage> } | undefined;
  const browserTmps = new WeakMap<Browser, string>();
  let closed = false;

  async function launch(): Promise<Browser> {
    const started = performance.now();
    const executablePath = options.executablePath ?? (await resolveBundledChromium());
    // Playwright keeps its profile and artifacts directories in the temp dir and removes them when
    // the browser exits, even after a crash. Chromium's own temp files (shared memory, since /dev/shm
    // is off) go to a directory of ours, which goes with the browser.
    fallbackEgress ??= egress.openSession({ denyAll: true });
    const args = [...launchArgs, ...egressLaunchArgs((await fallbackEgress).proxyUrl)];
    const browserTmp = await mkdtemp(join(tmpdir(), "palimpsest-chromium-"));
    const start = () =>
      playwrightChromium.launch({
        executablePath,
        args,
        env: { ...process.env, TMPDIR: browserTmp },
        headless: true,
        timeout: LAUNCH_TIMEOUT_MS,
        // The host process owns shutdown (it calls close()); Playwright still kills the browser
        // when the process exits, so no signal handler of its own is needed.
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      });
    let launched: Browser;
    try {
      // A launch very occasionally dies on start-up (seen once as SIGSEGV); one retry absorbs that.
      launched = await start().catch((err: unknown) => {
        log?.warn("browser launch failed; retrying", { err });
        return start();
      });
    } catch (err) {
      await rm(browserTmp, { recursive: true, force: true });
      throw err;
    }
    browserTmps.set(launched, browserTmp);
    launched.on("disconnected", () => {
      if (!closed) log?.warn("browser disconnected; the next capture relaunches it");
      if (browser === launched) browser = undefined;
      if (spare?.browser === launched) spare = undefined;
      rm(browserTmp, { recursive: true, force: true }).catch(() => {});
    });
    log?.info("browser launched", {
      launchMs: Math.round(performance.now() - started),
      version: launched.version(),
    });
    return launched;
  }

  async function ensureBrowser(): Promise<{ browser: Browser; launched: boolean }> {
    if (browser?.isConnected()) return { browser, launched: false };
    if (!launching) {
      launching = launch().finally(() => {
        launching = undefined;
      });
    }
    const launched = await launching;
    if (closed) {
      await launched.close().catch(() => {});
      throw new Error("The capturer was closed during launch.");
    }
    browser = launched;
    return { browser: launched, launched: true };
  }

  /**
   * A fresh context for the next capture is opened as soon as the previous capture ends, off the
   * critical path (on Lambda, while the handler stores artifacts). It is never used twice.
   */
  function prepareSpare(current: Browser): void {
    if (closed || spare || !current.isConnected()) return;
    const ready = openFreshPage(current, egress);
    ready.catch(() => {}); // a failed spare just means the next capture opens its own
    spare = { browser: current, ready };
  }

  async function takeFreshPage(current: Browser): Promise<FreshPage> {
    const taken = spare;
    if (taken?.browser === current) {
      spare = undefined;
      const fresh = await taken.ready.catch(() => undefined);
      if (fresh && !fresh.page.isClosed()) return fresh;
    }
    return openFreshPage(current, egress);
  }

  return {
    async capture(url, captureOptions, hooks) {
      if (closed) throw new Error("The capturer is closed.");
      const target = new URL(url);
      if (target.protocol !== "http:" && target.protocol !== "https:") {
        throw new Error(`Only http(s) URLs can be captured, got ${target.protocol}`);
      }
      const started = performance.now();
      let current: { browser: Browser; launched: boolean };
      try {
        current = await ensureBrowser();
      } catch (err) {
        if (closed) throw err;
        throw new CaptureError("browser_crash", "The browser could not be started.", {
          cause: err,
          retryable: true,
        });
      }
      const launchMs = current.launched ? performance.now() - started : 0;
      try {
        const result = await captureWithBrowser(
          current.browser,
          takeFreshPage,
          target,
          captureOptions,
          log,
          hooks,
          settling,
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
        prepareSpare(current.browser);
        await sweepLeakedTempFiles(browserTmps.get(current.browser));
      }
    },

    async close() {
      closed = true;
      spare = undefined;
      const open = browser ?? (await launching?.catch(() => undefined));
      browser = undefined;
      if (!open) return egress.close();
      await open.close().catch(() => {}); // closes every context, the spare's included
      await egress.close();
      const browserTmp = browserTmps.get(open);
      if (browserTmp) await rm(browserTmp, { recursive: true, force: true });
    },
  };
}

/** Chromium names its temp files like this (`base::CreateTemporaryFileInDir`). */
const CHROMIUM_TEMP_FILE = /^\.org\.chromium\.Chromium\./;
/**
 * Chromium creates a shared-memory file, reopens it by path, then unlinks it; a process that dies in
 * between (renderers are killed when their context closes) leaves the empty file behind. Measured:
 * about one per 50 captures, piling up in a warm worker. Files this old are past any reopen.
 */
const LEAKED_TEMP_FILE_AGE_MS = 5_000;

async function sweepLeakedTempFiles(dir: string | undefined): Promise<void> {
  if (!dir) return;
  try {
    const now = Date.now();
    for (const name of await readdir(dir)) {
      if (!CHROMIUM_TEMP_FILE.test(name)) continue;
      const path = join(dir, name);
      const stats = await lstat(path).catch(() => undefined);
      if (stats?.isFile() && stats.size === 0 && now - stats.mtimeMs > LEAKED_TEMP_FILE_AGE_MS) {
        await unlink(path).catch(() => {});
      }
    }
  } catch {
    // the directory went with its browser
  }
}

interface FreshPage {
  context: BrowserContext;
  page: Page;
  /** The egress session of this context alone: its blocks, failures and bytes are this capture's. */
  egress: EgressSession;
}

async function openFreshPage(browser: Browser, egress: EgressProxy): Promise<FreshPage> {
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
    return { context, page: await context.newPage(), egress: session };
  } catch (err) {
    await context.close().catch(() => {});
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// One capture

/** How long a capture lets the page be quiet before it is taken, and checks it after. */
interface Settling {
  /** Before the page is first taken. */
  early: Quiet;
  /** After `early.quietMs`, on a page with untracked activity: checked while the page is taken. */
  windowMs: number;
  /** The same on a page whose pending work the tracker saw whole. */
  accountedWindowMs: number;
  /** Before a page that changed while it was taken is taken again. */
  full: Quiet;
}

function settlingPolicy(patientQuietMs: number | undefined): Settling {
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

async function captureWithBrowser(
  browser: Browser,
  takeFreshPage: (browser: Browser) => Promise<FreshPage>,
  url: URL,
  options: PageCaptureOptions,
  log: Logger | undefined,
  hooks: PageCaptureHooks | undefined,
  settling: Settling,
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
  const onCrash = () => {
    crashed = true;
    stop(crashError());
  };
  browser.once("disconnected", onCrash);
  const deadline = setTimeout(() => {
    log?.info("capture deadline reached", { totalTimeoutMs: options.totalTimeoutMs, timings });
    stop(
      new CaptureError("timeout", `The capture took longer than ${formatDuration(options.totalTimeoutMs)}.`, {
        retryable: true,
      }),
    );
  }, options.totalTimeoutMs);

  let context: BrowserContext | undefined;
  let egress: EgressSession | undefined;
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
    egress = fresh.egress;
    if (finished) {
      // Stopped while the page was being opened, after the cleanup below ran: nobody else closes it.
      // Only the context: the next capture may be using the browser by now.
      await fresh.context.close().catch(() => {});
      throw new Error("The capture was stopped while its page was opened.");
    }
    const page = fresh.page;
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
    const takePage = async () => {
      // Late banners go, and the page returns to the top, before the one serialisation.
      await runInPage(page, tidyPage, { clickConsent: false, scrollToTop: true });
      await checkDomSize(page, options);
      await session.watchFromNow();
      const markAttribute = `data-palimpsest-${Math.random().toString(36).slice(2, 10)}`;
      const dom = await runInPage(page, serializeDomInPage, markAttribute);
      if (dom.html.length > SERIALIZED_HTML_MAX_CHARS) {
        throw new CaptureError(
          "too_large",
          `The page's HTML has more than ${SERIALIZED_HTML_MAX_CHARS.toLocaleString("en-US")} characters.`,
        );
      }
      lap("serialize");

      // The page may have navigated again since (a consent reload, a script redirect).
      const mainResponse = session.mainResponse() ?? response;
      if (mainResponse !== response) vetMainResponse(mainResponse);
      const serializeDone = performance.now();
      const [screenshot, snapshot, rawBody] = await Promise.all([
        session
          .whileScreenshotting(() => takeScreenshot(page, dom.pageHeight, options))
          .then((body) => {
            timings.screenshot = Math.round(performance.now() - serializeDone);
            return body;
          }),
        session.collectedResources().then((resources) => {
          const built = buildSnapshot({
            dom,
            resources,
            pageUrl: mainResponse.url(),
            resourceMaxBytes: options.inlineResourceMaxBytes,
            totalMaxBytes: options.inlineTotalMaxBytes,
          });
          timings.snapshot = Math.round(performance.now() - serializeDone);
          log?.debug("snapshot built", { ...built.stats, resources: resources.size });
          return built.html;
        }),
        // A document that never finishes streaming has no body to give.
        withTimeout(mainResponse.body(), EVALUATE_TIMEOUT_MS, () => {
          throw new CaptureError("timeout", "The page's HTML never finished loading.", { retryable: true });
        }),
      ]);
      lap("take");
      return { dom, mainResponse, screenshot, snapshot, rawBody };
    };
    type Taken = Awaited<ReturnType<typeof takePage>>;

    const asCapture = ({ dom, mainResponse, screenshot, snapshot, rawBody }: Taken): PageCapture => ({
      finalUrl: mainResponse.url(),
      httpStatus: mainResponse.status(),
      raw: { body: new Uint8Array(rawBody), contentType: mainResponse.headers()["content-type"] ?? "" },
      renderedHtml: renderedHtmlOf(dom),
      snapshotHtml: snapshot,
      screenshot: { body: new Uint8Array(screenshot), contentType: "image/jpeg" },
      timings,
    });

    let result = asCapture(await takePage());
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
      result = asCapture(await takePage());
      timings.retaken = 1;
      log?.debug("page changed while it was taken; taken again", { changed, timings });
    }
    return result;
  })();
  work.catch(() => {}); // after a crash the race below has already settled

  try {
    const result = await Promise.race([work, stopSignal]);
    // A page that went on to a forbidden host (a script redirect) is not archived as if it had not.
    const refused = egressError(egress, navigations, false);
    if (refused) throw refused;
    // Still gone when taken (a script may have moved on to a live page meanwhile).
    if (goneResponse && (result.httpStatus === 404 || result.httpStatus === 410)) {
      throw httpError(goneResponse, result);
    }
    return result;
  } catch (err) {
    // Taking the page that says the article is gone failed: the status is known all the same.
    if (goneResponse && !(err instanceof CaptureError && err.evidence)) {
      log?.warn("the removed page could not be taken", { error: (err as Error).message });
      throw httpError(goneResponse);
    }
    const gone = crashed || !browser.isConnected();
    throw (
      (gone ? undefined : egressError(egress, navigations, true)) ?? toCaptureError(err, url, options, gone)
    );
  } finally {
    finished = true;
    clearTimeout(deadline);
    browser.off("disconnected", onCrash);
    // Closing also ends whatever `work` was still doing: its next call into the page fails. It must
    // finish before Lambda freezes the process.
    if (context && browser.isConnected()) await closeContext(browser, context, log);
  }
}

/**
 * Closes a capture's context, which is quick; a context that does not close in time (a renderer
 * stuck in a loop) takes the browser with it, so that the next capture launches a fresh one.
 */
async function closeContext(
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

/** Fails the capture with `too_large` when the page has more elements than `maxDomElements`. */
async function checkDomSize(page: Page, options: PageCaptureOptions): Promise<void> {
  const elements = await runInPage(page, () => document.getElementsByTagName("*").length, null);
  if (elements > options.maxDomElements) {
    throw new CaptureError(
      "too_large",
      `The page has more than ${options.maxDomElements.toLocaleString("en-US")} elements.`,
    );
  }
}

/** Where an idle wait left the page. */
interface IdleState {
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
interface Quiet {
  /** On a page with activity the tracker cannot follow (or without the tracker). */
  quietMs: number;
  /** On a page whose pending work the tracker sees whole; no more than `quietMs`. */
  accountedQuietMs: number;
}

interface PageSession {
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
function watchPage(page: Page, options: PageCaptureOptions): PageSession {
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
  const resources = new Map<string, CollectedResource>();
  const pendingBodies = new Set<Promise<void>>();
  // Bodies are held in memory until the snapshot is built; collecting more than the snapshot may
  // use only costs memory, but the browser loads candidates the DOM no longer references.
  const collectionCap = options.inlineTotalMaxBytes * 2;
  let collectedBytes = 0;
  page.on("response", (response) => {
    const request = response.request();
    if (!isMainFrame(request)) return;
    if (request.isNavigationRequest()) {
      latestMain = response;
      return;
    }
    const type = request.resourceType();
    const status = response.status();
    if (!COLLECTED_RESOURCE_TYPES.has(type) || status < 200 || status >= 300) return;
    const contentType = response.headers()["content-type"] ?? "";
    if (type === "other" && !contentType.startsWith("image/")) return;
    const declared = Number(response.headers()["content-length"] ?? "0");
    if (declared > options.inlineResourceMaxBytes || collectedBytes >= collectionCap) return;
    const pending: Promise<void> = response
      .body()
      .then((body) => {
        if (
          body.byteLength > options.inlineResourceMaxBytes ||
          collectedBytes + body.byteLength > collectionCap
        ) {
          return;
        }
        collectedBytes += body.byteLength;
        const entry = { url: response.url(), contentType, body: new Uint8Array(body) };
        // Register every URL of the redirect chain: the DOM refers to the first one.
        for (let hop: Request | null = request; hop; hop = hop.redirectedFrom()) {
          resources.set(withoutFragment(hop.url()), entry);
        }
      })
      .catch(() => {}) // evicted or aborted: the URL stays absolute in the snapshot
      .finally(() => pendingBodies.delete(pending));
    pendingBodies.add(pending);
  });

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
    async collectedResources() {
      if (pendingBodies.size > 0) {
        await Promise.race([Promise.allSettled([...pendingBodies]), delay(BODY_COLLECTION_GRACE_MS)]);
      }
      return resources;
    },
  };
}

/** Navigates and vets the main response before waiting for the page to load. */
async function navigate(
  page: Page,
  url: URL,
  options: PageCaptureOptions,
  session: PageSession,
): Promise<Response> {
  const deadline = performance.now() + options.navigationTimeoutMs;
  let response: Response | null;
  try {
    // 'commit' returns as soon as the response headers are in, so a 404 or a PDF fails fast.
    response = await page.goto(url.href, { waitUntil: "commit", timeout: options.navigationTimeoutMs });
  } catch (err) {
    // A download (PDF, archive) aborts the navigation; the response seen on the way says why.
    const seen = session.mainResponse();
    if (seen) vetMainResponse(seen);
    throw err;
  }
  if (!response)
    throw new CaptureError("internal_error", "The browser did not report a response for the page.");
  if (!saysGone(response)) vetMainResponse(response);

  let domReady = false;
  page.once("domcontentloaded", () => {
    domReady = true;
  });
  try {
    await page.waitForLoadState("load", { timeout: Math.max(1, deadline - performance.now()) });
  } catch (err) {
    // A slow tracker or a hung image should not lose the article: once the document itself is in,
    // capture what is there. Without even DOMContentLoaded the document is incomplete.
    if (!(err instanceof playwrightErrors.TimeoutError)) throw err;
    domReady ||= await withTimeout(
      page.evaluate(() => document.readyState !== "loading"),
      1_000,
      () => false,
    ).catch(() => false);
    if (!domReady) throw err;
  }
  return response;
}

function vetMainResponse(response: Response): void {
  const status = response.status();
  if (status >= 400 || status === 204 || status === 205) throw httpError(response);
  const contentType = response.headers()["content-type"];
  const mime = contentType?.split(";")[0]?.trim().toLowerCase();
  // Without a Content-Type the browser sniffs; let it render and see.
  if (mime && mime !== "text/html" && mime !== "application/xhtml+xml") {
    throw new CaptureError("unsupported_content", `The URL serves ${mime}, not an HTML page.`);
  }
}

/** `http_error` for the page's response; `evidence` is what the page showed, when it was taken. */
function httpError(response: Response, evidence?: PageCapture): CaptureError {
  const status = response.status();
  const text = response.statusText();
  return new CaptureError("http_error", `The server answered HTTP ${status}${text ? ` ${text}` : ""}.`, {
    // Server errors and rate limits pass; a 404 or 410 will not change on redelivery.
    retryable: status >= 500 || status === 429 || status === 408,
    httpStatus: status,
    evidence,
  });
}

/**
 * A page that says the article is gone (404, 410) is still taken, as evidence of what the URL
 * showed; the capture then fails with `http_error` carrying it.
 */
function saysGone(response: Response): boolean {
  return response.status() === 404 || response.status() === 410;
}

/**
 * Lets the page finish what it does after `load`: consent banners out of the way first (they often
 * lock scrolling), then scrolling to the bottom so lazy content loads, repeated while the page grows,
 * each round followed by a wait for `quiet` (see `waitForIdle`). All bounded by `idleTimeoutMs`.
 */
async function settle(
  page: Page,
  session: PageSession,
  options: PageCaptureOptions,
  quiet: Quiet,
): Promise<IdleState> {
  const deadline = performance.now() + options.idleTimeoutMs;
  await runInPage(page, tidyPage, { clickConsent: true, scrollToTop: false });
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
  return idle;
}

/**
 * Runs a function in the page, bounded in time. If the page navigates meanwhile (a consent click
 * that reloads, a script redirect), waits for the new document and runs it once more there — as
 * often as the page navigates: `maxRedirects` ends a page that keeps doing so.
 */
async function runInPage<Arg, Result>(
  page: Page,
  fn: (arg: Arg) => Result | Promise<Result>,
  arg: Arg,
): Promise<Result> {
  for (let attempt = 0; ; attempt++) {
    try {
      // Arguments here are plain JSON, which Playwright passes through unchanged.
      const evaluation = page.evaluate(fn as (arg: unknown) => Result | Promise<Result>, arg as unknown);
      return await withTimeout(evaluation, EVALUATE_TIMEOUT_MS, () => {
        throw new CaptureError("timeout", "The page stopped responding during capture.", { retryable: true });
      });
    } catch (err) {
      const navigated = err instanceof Error && /Execution context was destroyed|navigat/i.test(err.message);
      if (!navigated || attempt >= NAVIGATION_RETRIES_MAX) throw err;
      await page.waitForLoadState("load", { timeout: EVALUATE_TIMEOUT_MS }).catch(() => {});
    }
  }
}

async function takeScreenshot(page: Page, pageHeight: number, options: PageCaptureOptions): Promise<Buffer> {
  const height = Math.max(1, Math.min(pageHeight, options.screenshotMaxHeight));
  return page.screenshot({
    type: "jpeg",
    quality: SCREENSHOT_QUALITY,
    fullPage: true,
    // Clipping keeps very long pages (infinite feeds) from producing huge images.
    clip:
      pageHeight > options.screenshotMaxHeight ? { x: 0, y: 0, width: VIEWPORT.width, height } : undefined,
    timeout: SCREENSHOT_TIMEOUT_MS,
  });
}

// ---------------------------------------------------------------------------------------------
// Functions that run inside the page. Each must be self-contained: Playwright sends its source text.

/** What the page's activity tracker reports, in milliseconds relative to the moment it answered. */
interface PageActivity {
  /** Since content was last added to or removed from the DOM (or since DOMContentLoaded). */
  sinceMutationMs: number;
  /** Since the page last posted a message to itself or a MessagePort (how schedulers yield). */
  sinceMessageMs: number;
  /** Pending short timers: how long ago each was set and how soon it is due. */
  timers: Array<{ ageMs: number; dueInMs: number }>;
  /** Pending animation-frame and idle callbacks whose chain began within the chain limit. */
  youngCallbacks: number;
  /** Whether web fonts are still loading. */
  fontsLoading: boolean;
  /**
   * Until the last running CSS transition or animation (or Web Animation) that ends within the
   * timer limit is over; 0 if none. Pages render on `transitionend` and `animationend`.
   */
  animationsDueInMs: number;
  /**
   * Sources of activity the tracker cannot follow that the page has open (WebSocket,
   * EventSource, workers, BroadcastChannel, peer connections): with any, quiet is all there is.
   */
  untracked: string[];
  /** How long after the last mark the DOM content first changed; null if it has not. */
  mutatedAfterMarkMs: number | null;
}

const ACTIVITY_KEY = "palimpsest:activity";

/**
 * The tracker's report, or null when the page has none (or does not answer in time). With `mark`,
 * the tracker starts noting the first DOM change from now on.
 */
async function readPageActivity(page: Page, mark = false): Promise<PageActivity | null> {
  const report = page
    .evaluate(
      ({ key, mark }) => {
        const read = (window as unknown as Record<symbol, ((mark: boolean) => PageActivity) | undefined>)[
          Symbol.for(key)
        ];
        return read ? read(mark) : null;
      },
      { key: ACTIVITY_KEY, mark },
    )
    .catch(() => null);
  return withTimeout(report, 1_000, () => null);
}

/**
 * Installed in every document before its own scripts (an init script): notes what the page still
 * has pending, so that the idle wait can tell a page that is done from one that is about to render
 * what it just fetched —
 * - when DOM content last changed (from DOMContentLoaded on; of attributes only `src` and
 *   `srcset`: animations change the others endlessly);
 * - which short timers are pending (`setTimeout` and `scheduler.postTask` with a delay up to
 *   `timerMaxDelayMs`, the next tick of a `setInterval` up to `intervalMaxMs`);
 * - which `requestAnimationFrame` and `requestIdleCallback` callbacks are pending, and since when
 *   their chain runs (a callback requested while another runs continues its chain);
 * - when the page last posted a message (`postMessage` on the window or a MessagePort);
 * - which CSS transitions and animations will end soon (pages render on their end events);
 * - whether fonts are loading, and whether the page opened anything whose events the tracker cannot
 *   foresee (WebSocket, EventSource, workers…).
 * Each wrapped function is a Proxy, which keeps it looking native to the page. Also counts what
 * watches scrolling, for `pageReactsToScroll`. Reads through `window[Symbol.for("palimpsest:activity")]()`.
 */
function trackPageActivity(limits: {
  timerMaxDelayMs: number;
  intervalMaxMs: number;
  callbackChainMaxMs: number;
}): void {
  const key = Symbol.for("palimpsest:activity");
  const scope = window as unknown as Record<string | symbol, unknown>;
  if (scope[key]) return;
  const timers = new Map<unknown, { setAt: number; dueAt: number }>();
  let lastMutation = performance.now();
  let lastMessage = Number.NEGATIVE_INFINITY;
  const wrap = (owner: object, name: string, handler: ProxyHandler<(...args: unknown[]) => unknown>) => {
    const original = (owner as Record<string, unknown>)[name];
    if (typeof original !== "function") return;
    (owner as Record<string, unknown>)[name] = new Proxy(
      original as (...args: unknown[]) => unknown,
      handler,
    );
  };

  // A timeout is pending until it runs. A short interval (a poll) counts as a timer due at its
  // next tick; each tick sets it again.
  const trackTimers = (name: "setTimeout" | "setInterval", maxDelayMs: number) => {
    const repeats = name === "setInterval";
    wrap(window, name, {
      apply(target, thisArg, args: unknown[]) {
        const [handler, timeout, ...rest] = args;
        const delay = Math.max(0, Number(timeout) || 0);
        if (typeof handler !== "function" || delay > maxDelayMs) return Reflect.apply(target, thisArg, args);
        let id: unknown;
        const run = function (this: unknown) {
          const now = performance.now();
          if (!repeats) timers.delete(id);
          else if (timers.has(id)) timers.set(id, { setAt: now, dueAt: now + delay });
          return Reflect.apply(handler, this, rest);
        };
        id = Reflect.apply(target, thisArg, [run, timeout]);
        const now = performance.now();
        timers.set(id, { setAt: now, dueAt: now + delay });
        return id;
      },
    });
  };
  trackTimers("setTimeout", limits.timerMaxDelayMs);
  trackTimers("setInterval", limits.intervalMaxMs);
  // Either clears either kind: timeouts and intervals share their ids.
  for (const name of ["clearTimeout", "clearInterval"]) {
    wrap(window, name, {
      apply(target, thisArg, args: unknown[]) {
        timers.delete(args[0]);
        return Reflect.apply(target, thisArg, args);
      },
    });
  }
  // Tasks posted with a delay (the Prioritized Task Scheduling API) are timers too.
  const scheduler = (window as unknown as { scheduler?: object }).scheduler;
  if (scheduler) {
    wrap(scheduler, "postTask", {
      apply(target, thisArg, args: unknown[]) {
        const delay = Math.max(0, Number((args[1] as { delay?: unknown } | undefined)?.delay) || 0);
        const posted = Reflect.apply(target, thisArg, args);
        if (delay <= limits.timerMaxDelayMs && posted instanceof Promise) {
          const key = {};
          const now = performance.now();
          timers.set(key, { setAt: now, dueAt: now + delay });
          posted.then(
            () => timers.delete(key),
            () => timers.delete(key),
          );
        }
        return posted;
      },
    });
  }

  // Frame and idle callbacks: pending ones by id (each kind numbers its own), with their chain's start.
  let runningChainStart: number | undefined;
  const pendingCallbacks: Array<Map<unknown, number>> = [];
  const trackCallbacks = (requestName: string, cancelName: string) => {
    const pending = new Map<unknown, number>();
    pendingCallbacks.push(pending);
    wrap(window, requestName, {
      apply(target, thisArg, args: unknown[]) {
        const [callback, ...rest] = args;
        if (typeof callback !== "function") return Reflect.apply(target, thisArg, args);
        const chainStart = runningChainStart ?? performance.now();
        let id: unknown;
        const run = function (this: unknown, ...callbackArgs: unknown[]) {
          pending.delete(id);
          const outer = runningChainStart;
          runningChainStart = chainStart;
          try {
            return Reflect.apply(callback, this, callbackArgs);
          } finally {
            runningChainStart = outer;
          }
        };
        id = Reflect.apply(target, thisArg, [run, ...rest]);
        pending.set(id, chainStart);
        return id;
      },
    });
    wrap(window, cancelName, {
      apply(target, thisArg, args: unknown[]) {
        pending.delete(args[0]);
        return Reflect.apply(target, thisArg, args);
      },
    });
  };
  trackCallbacks("requestAnimationFrame", "cancelAnimationFrame");
  trackCallbacks("requestIdleCallback", "cancelIdleCallback");

  const notePost = {
    apply(target: (...args: unknown[]) => unknown, thisArg: unknown, args: unknown[]) {
      lastMessage = performance.now();
      return Reflect.apply(target, thisArg, args);
    },
  };
  wrap(window, "postMessage", notePost);
  if (typeof MessagePort === "function") wrap(MessagePort.prototype, "postMessage", notePost);

  // Open sources of events the tracker cannot foresee, until closed (a worker until terminated).
  const untracked = new Map<object, string>();
  for (const [name, closer] of [
    ["WebSocket", "close"],
    ["EventSource", "close"],
    ["Worker", "terminate"],
    ["SharedWorker", ""],
    ["BroadcastChannel", "close"],
    ["RTCPeerConnection", "close"],
    ["WebTransport", "close"],
  ] as const) {
    const opener = scope[name];
    if (typeof opener !== "function") continue;
    if (closer) {
      wrap(opener.prototype as object, closer, {
        apply(target, thisArg, args: unknown[]) {
          untracked.delete(thisArg as object);
          return Reflect.apply(target, thisArg, args);
        },
      });
    }
    scope[name] = new Proxy(opener as new (...args: unknown[]) => object, {
      construct(target, args, newTarget) {
        const opened = Reflect.construct(target, args, newTarget);
        untracked.set(opened, name);
        return opened;
      },
    });
  }
  /** The untracked sources still open: a socket or stream its server closed is done too. */
  const openUntracked = () => {
    const open = new Set<string>();
    for (const [source, name] of untracked) {
      const { readyState, CLOSED, connectionState } = source as {
        readyState?: unknown;
        CLOSED?: unknown;
        connectionState?: unknown;
      };
      const closed = (readyState !== undefined && readyState === CLOSED) || connectionState === "closed";
      if (closed) untracked.delete(source);
      else open.add(name);
    }
    return [...open];
  };

  // What may load more when the reader scrolls: elements given to an IntersectionObserver and
  // scroll or wheel listeners. A page with neither is not scrolled through (see `settle`).
  let scrollWatchers = 0;
  if (typeof IntersectionObserver === "function") {
    wrap(IntersectionObserver.prototype, "observe", {
      apply(target, thisArg, args: unknown[]) {
        scrollWatchers++;
        return Reflect.apply(target, thisArg, args);
      },
    });
  }
  wrap(EventTarget.prototype, "addEventListener", {
    apply(target, thisArg, args: unknown[]) {
      if (args[0] === "scroll" || args[0] === "wheel") scrollWatchers++;
      return Reflect.apply(target, thisArg, args);
    },
  });
  Object.defineProperty(scope, Symbol.for("palimpsest:scroll-watchers"), {
    value: () =>
      scrollWatchers +
      (window.onscroll || window.onwheel || document.onscroll ? 1 : 0) +
      document.querySelectorAll("[onscroll], [onwheel]").length,
  });
  /** Until the last finite animation that ends within the timer limit is over (endless ones never are). */
  const animationsDueIn = () => {
    let due = 0;
    for (const animation of document.getAnimations?.() ?? []) {
      if (animation.playState !== "running") continue;
      const end = Number(animation.effect?.getComputedTiming().endTime);
      const current = Number(animation.currentTime ?? 0);
      if (!Number.isFinite(end) || !Number.isFinite(current)) continue;
      const remaining = (end - current) / Math.abs(animation.playbackRate || 1);
      if (remaining > 0 && remaining <= limits.timerMaxDelayMs) due = Math.max(due, remaining);
    }
    return due;
  };
  let markedAt: number | undefined;
  let firstMutationAfterMark: number | undefined;
  const observe = () => {
    lastMutation = performance.now();
    new MutationObserver(() => {
      lastMutation = performance.now();
      if (markedAt !== undefined) firstMutationAfterMark ??= lastMutation;
    }).observe(document, {
      childList: true,
      subtree: true,
      characterData: true,
      // Which image an element shows (a lazy loader's data-src → src); other attributes are left
      // out, animations change them endlessly.
      attributeFilter: ["src", "srcset"],
    });
  };
  if (document.readyState === "loading")
    document.addEventListener("DOMContentLoaded", observe, { once: true });
  else observe();
  Object.defineProperty(scope, key, {
    value: (mark: boolean) => {
      const now = performance.now();
      if (mark) {
        markedAt = now;
        firstMutationAfterMark = undefined;
      }
      let youngCallbacks = 0;
      for (const pending of pendingCallbacks) {
        for (const chainStart of pending.values()) {
          if (now - chainStart < limits.callbackChainMaxMs) youngCallbacks++;
        }
      }
      return {
        mutatedAfterMarkMs:
          markedAt !== undefined && firstMutationAfterMark !== undefined
            ? firstMutationAfterMark - markedAt
            : null,
        sinceMutationMs: now - lastMutation,
        sinceMessageMs: Number.isFinite(lastMessage) ? now - lastMessage : 1e9,
        timers: Array.from(timers.values(), (t) => ({
          ageMs: now - t.setAt,
          dueInMs: Math.max(0, t.dueAt - now),
        })),
        youngCallbacks,
        fontsLoading: document.fonts?.status === "loading",
        animationsDueInMs: animationsDueIn(),
        untracked: openUntracked(),
      };
    },
  });
}

/**
 * Gets consent banners out of the way: clicks a clearly-accepting button inside an element that
 * looks like a banner (when `clickConsent`), then removes fixed overlays that still look like one and
 * undoes the scroll lock they set. Optionally scrolls back to the top
 * (so sticky headers sit where a reader sees them). Returns how many banners it dealt with.
 */
function tidyPage(options: { clickConsent: boolean; scrollToTop: boolean }): number {
  const KEYWORDS =
    /cookie|consent|gdpr|\bcmp\b|cmp-|-cmp|privacy|onetrust|didomi|cookiebot|usercentrics|truste|sp_message|fc-consent|qc-cmp/i;
  const ACCEPT =
    /^(accept|accept all|accept all cookies|accept cookies|accept and close|accept & close|allow|allow all|allow all cookies|allow cookies|i accept|agree|i agree|agree and close|agree & close|yes, i agree|ok|okay|got it|i understand|alle akzeptieren|akzeptieren|zustimmen|alle zulassen|tout accepter|accepter|j'accepte|aceptar|aceptar todo|accetta|accetta tutto|accetto|accepteren|alles accepteren|akkoord|godkänn|aceitar|aceitar tudo|zaakceptuj)$/i;
  // A banner is short; an element holding the whole article (or the page) is not one.
  const MAX_BANNER_TEXT = 5_000;
  const isBanner = (el: Element) => {
    if (el === document.body || el === document.documentElement || !el.isConnected) return false;
    const className = typeof el.className === "string" ? el.className : "";
    const label = `${el.id} ${className} ${el.getAttribute("aria-label") ?? ""}`;
    return KEYWORDS.test(label) && (el.textContent ?? "").length < MAX_BANNER_TEXT;
  };
  const candidates = () =>
    Array.from(document.querySelectorAll("[id], [class], [aria-label]")).filter(isBanner);
  let handled = 0;

  if (options.clickConsent) {
    for (const banner of candidates()) {
      if (!banner.isConnected) continue;
      const controls = banner.querySelectorAll(
        "button, [role='button'], input[type='button'], input[type='submit'], a",
      );
      for (const control of Array.from(controls)) {
        const text = (control.textContent || (control as HTMLInputElement).value || "")
          .replace(/\s+/g, " ")
          .trim();
        if (!ACCEPT.test(text) || control.getClientRects().length === 0) continue;
        // Never follow a link or submit a form: that would navigate away from the article.
        if (control instanceof HTMLAnchorElement) {
          const href = (control.getAttribute("href") ?? "").trim();
          if (href !== "" && !href.startsWith("#") && !/^javascript:/i.test(href)) continue;
        }
        if ((control instanceof HTMLButtonElement || control instanceof HTMLInputElement) && control.form) {
          if (control.type === "submit") continue;
        }
        (control as HTMLElement).click();
        handled++;
        break;
      }
    }
  }

  let removed = 0;
  for (const banner of candidates()) {
    // The keyword may sit on an inner element of a fixed wrapper: look a few levels up, but only
    // while the banner is most of the wrapper (a "Privacy" link must not take a sticky header along).
    const bannerText = (banner.textContent ?? "").length;
    let target: Element | null = banner;
    for (let depth = 0; target && depth < 4; depth++, target = target.parentElement) {
      if (target === document.body || target === document.documentElement || !target.isConnected) break;
      if ((target.textContent ?? "").length > bannerText * 2 + 20) break;
      const position = getComputedStyle(target).position;
      const modal =
        target.getAttribute("aria-modal") === "true" || /dialog/.test(target.getAttribute("role") ?? "");
      if (position === "fixed" || position === "sticky" || modal) {
        if ((target.textContent ?? "").length < MAX_BANNER_TEXT) {
          target.remove();
          removed++;
        }
        break;
      }
    }
  }
  if (removed > 0) {
    // Banners lock scrolling while shown; the page never gets to undo that for a removed one.
    for (const el of [document.documentElement, document.body]) {
      if (el && getComputedStyle(el).overflowY === "hidden")
        el.style.setProperty("overflow-y", "visible", "important");
    }
  }
  if (options.scrollToTop) window.scrollTo({ top: 0, behavior: "instant" });
  return handled + removed;
}

/**
 * Whether scrolling could load more: something watches for it (counted by `trackPageActivity`),
 * or images are still lazy — those are made eager instead, which loads them without scrolling.
 */
function pageReactsToScroll(): { watchers: number; eagerImages: number } {
  const count = (window as unknown as Record<symbol, (() => number) | undefined>)[
    Symbol.for("palimpsest:scroll-watchers")
  ];
  let eagerImages = 0;
  for (const img of Array.from(document.images)) {
    if (img.loading === "lazy") {
      img.loading = "eager";
      eagerImages++;
    }
  }
  // Without the tracker (it could not run) nothing is known: scroll, as a reader would.
  return { watchers: count ? count() : 1, eagerImages };
}

/** Scrolls down a viewport at a time from the current position; returns the number of steps. */
async function scrollTowardsBottom(limits: { maxSteps: number; maxMs: number }): Promise<number> {
  const scroller = document.scrollingElement ?? document.documentElement;
  const started = performance.now();
  const step = Math.max(200, window.innerHeight);
  // One frame a step: IntersectionObserver entries are computed in the rendering update that
  // follows the frame's animation callbacks, so a task queued from the callback runs after they were
  // taken at this position; the page's own callbacks may run later, they report this position all
  // the same. The timer keeps a throttled page from stalling the loop.
  const nextFrame = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 100);
      requestAnimationFrame(() => {
        clearTimeout(timer);
        setTimeout(resolve, 0);
      });
    });
  let steps = 0;
  while (steps < limits.maxSteps && performance.now() - started < limits.maxMs) {
    const bottom = scroller.scrollHeight - window.innerHeight;
    const y = scroller.scrollTop;
    if (y >= bottom - 1) break;
    // 'instant' overrides `scroll-behavior: smooth`, which would turn every step into an animation.
    window.scrollTo({ top: Math.min(y + step, bottom), behavior: "instant" });
    steps++;
    await nextFrame();
    if (scroller.scrollTop <= y) break; // scrolling is locked; more steps would change nothing
  }
  // One more frame, so that the callbacks of the last position have run and started their loads.
  if (steps > 0) await nextFrame();
  return steps;
}

// ---------------------------------------------------------------------------------------------
// Errors and helpers

function crashError(cause?: unknown): CaptureError {
  return new CaptureError("browser_crash", "The browser crashed while capturing the page.", {
    cause,
    retryable: true,
  });
}

const NET_ERRORS: Array<[RegExp, (host: string) => CaptureError]> = [
  [
    /^ERR_NAME_NOT_RESOLVED$|^ERR_NAME_RESOLUTION_FAILED$/,
    (host) =>
      new CaptureError("dns_failure", `The host name ${host} could not be resolved.`, { retryable: true }),
  ],
  [
    /^ERR_CONNECTION_REFUSED$/,
    (host) => new CaptureError("connection_failed", `${host} refused the connection.`, { retryable: true }),
  ],
  [
    /^ERR_CONNECTION_(RESET|CLOSED|ABORTED|FAILED)$|^ERR_EMPTY_RESPONSE$|^ERR_ADDRESS_UNREACHABLE$|^ERR_NETWORK_CHANGED$|^ERR_INTERNET_DISCONNECTED$|^ERR_HTTP2_|^ERR_QUIC_|^ERR_SOCKET_|^ERR_INVALID_(RESPONSE|HTTP_RESPONSE|CHUNKED_ENCODING)$|^ERR_CONTENT_(LENGTH_MISMATCH|DECODING_FAILED)$|^ERR_INCOMPLETE_CHUNKED_ENCODING$/,
    (host) => new CaptureError("connection_failed", `The connection to ${host} failed.`, { retryable: true }),
  ],
  [
    /^ERR_(CERT_|SSL_)|^ERR_BAD_SSL_CLIENT_AUTH_CERT$/,
    (host) =>
      new CaptureError(
        "connection_failed",
        `The TLS connection to ${host} could not be established securely.`,
      ),
  ],
  [
    /^ERR_(CONNECTION_)?TIMED_OUT$/,
    (host) => new CaptureError("timeout", `The connection to ${host} timed out.`, { retryable: true }),
  ],
  [
    /^ERR_BLOCKED_BY_|^ERR_UNSAFE_PORT$|^ERR_ACCESS_DENIED$/,
    (host) => new CaptureError("blocked", `The browser refused to load the page from ${host}.`),
  ],
  [
    /^ERR_TOO_MANY_REDIRECTS$/,
    () =>
      new CaptureError("too_many_redirects", "The page redirected more than 20 times (the browser's limit)."),
  ],
];

function toCaptureError(
  err: unknown,
  url: URL,
  options: PageCaptureOptions,
  browserGone: boolean,
): CaptureError {
  if (err instanceof CaptureError) return err;
  if (browserGone) return crashError(err);
  const message = err instanceof Error ? err.message : String(err);
  const net = /net::(ERR_[A-Z0-9_]+)/.exec(message)?.[1];
  if (net) {
    for (const [pattern, make] of NET_ERRORS) {
      if (pattern.test(net)) return withCause(make(url.hostname), err);
    }
    return new CaptureError("connection_failed", `The page could not be loaded (${net}).`, {
      cause: err,
      retryable: true,
    });
  }
  if (err instanceof playwrightErrors.TimeoutError) {
    return new CaptureError("timeout", `The page did not load within ${options.navigationTimeoutMs} ms.`, {
      cause: err,
      retryable: true,
    });
  }
  if (/Download is starting/i.test(message)) {
    return new CaptureError("unsupported_content", "The URL serves a download, not an HTML page.", {
      cause: err,
    });
  }
  if (
    /Target crashed|Target page, context or browser has been closed|Browser has been closed/i.test(message)
  ) {
    return crashError(err);
  }
  return new CaptureError("internal_error", "The page could not be captured.", {
    cause: err,
    retryable: true,
  });
}

/**
 * The capture's failure as the egress proxy saw it: over the byte budget; the page, or any redirect
 * hop of it, on a forbidden host; or — when the navigation itself `failed` — the page's host could
 * not be resolved or reached by the proxy (which the browser would otherwise report as the proxy's
 * 502 or a failed tunnel). Undefined when the proxy explains nothing.
 */
function egressError(
  session: EgressSession | undefined,
  navigations: readonly string[],
  failed: boolean,
): CaptureError | undefined {
  if (!session) return undefined;
  if (session.exceeded) {
    return new CaptureError(
      "too_large",
      `The page needed more than ${Math.round(session.maxBytes / 1024 / 1024)} MiB of downloads.`,
    );
  }
  for (const hop of navigations) {
    const block = session.blockFor(hop);
    if (!block) continue;
    return new CaptureError("blocked", `The page, or a redirect from it, was refused. ${block.reason}`);
  }
  const last = navigations.at(-1);
  const failure = failed && last !== undefined ? session.failureFor(last) : undefined;
  if (!failure) return undefined;
  const host = failure.host;
  if (failure.code === "dns_failure") {
    return new CaptureError("dns_failure", `The host name ${host} could not be resolved.`, {
      retryable: true,
    });
  }
  if (failure.code === "timeout") {
    return new CaptureError("timeout", `The connection to ${host} timed out.`, { retryable: true });
  }
  return new CaptureError("connection_failed", `The connection to ${host} failed.`, { retryable: true });
}

function withCause(error: CaptureError, cause: unknown): CaptureError {
  return new CaptureError(error.code as ConstructorParameters<typeof CaptureError>[0], error.message, {
    cause,
    retryable: error.retryable,
  });
}

/** `90 s`, `1.25 s`, `800 ms`: a limit as a message shows it. */
function formatDuration(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : `${Number((ms / 1_000).toFixed(3))} s`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Settles with `promise`, or with `onTimeout()` after `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (err) {
        reject(err);
      }
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
