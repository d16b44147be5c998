/**
 * Taking a settled page: late banners out of the way, one DOM serialisation, then in parallel the
 * screenshot in the browser, the self-contained snapshot in Node (`snapshot/build-snapshot.ts`) and
 * the main document's raw body.
 */
import type { Page, Response } from "playwright-core";
import type { ConsentAttempt } from "../../domain/model.ts";
import { CaptureError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import type { PageCapture, PageCaptureOptions } from "../../ports.ts";
import { buildSnapshot } from "../snapshot/build-snapshot.ts";
import { renderedHtmlOf } from "../snapshot/html-serializer.ts";
import type { SerializedDocument } from "../snapshot/types.ts";
import { VIEWPORT } from "./fresh-context.ts";
import { serializeDomInPage } from "./in-page/serialize-dom.ts";
import { tidyPage } from "./in-page/tidy-page.ts";
import { vetMainResponse } from "./navigation.ts";
import type { PageSession } from "./page-watcher.ts";
import { bodyOf } from "./response-bodies.ts";
import { checkDomSize, EVALUATE_TIMEOUT_MS, runInPage } from "./run-in-page.ts";
import { withTimeout } from "./timing.ts";

const SCREENSHOT_QUALITY = 80;
const SCREENSHOT_TIMEOUT_MS = 20_000;
/**
 * Cap on the serialised markup, which extraction, the snapshot and storage all handle afterwards
 * (outside the capture's own time limit). Far above any article page; the element cap usually
 * comes first, this one catches a few giant text nodes or attributes.
 */
const SERIALIZED_HTML_MAX_CHARS = 50_000_000;

/** The page as it was taken once. */
export interface TakenPage {
  dom: SerializedDocument;
  mainResponse: Response;
  screenshot: Buffer;
  snapshot: string;
  rawBody: Buffer;
}

/** What a take needs from its capture. */
export interface TakeContext {
  options: PageCaptureOptions;
  /** The response the navigation got; the page may have navigated again since. */
  response: Response;
  /** The capture's phase timings; `screenshot` and `snapshot` are written here. */
  timings: Record<string, number>;
  /** Ends the current phase under `name`. */
  lap(name: string): void;
  log: Logger | undefined;
}

/** Takes the page once (see the module's summary); `session` watches it from the serialisation on. */
export async function takePage(page: Page, session: PageSession, context: TakeContext): Promise<TakenPage> {
  const { options, response, timings, lap, log } = context;
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
    withTimeout(bodyOf(mainResponse), EVALUATE_TIMEOUT_MS, () => {
      throw new CaptureError("timeout", "The page's HTML never finished loading.");
    }),
  ]);
  lap("take");
  return { dom, mainResponse, screenshot, snapshot, rawBody };
}

/** A take as the capturer's result; `timings` is the capture's own object, still being written. */
export function asPageCapture(
  { dom, mainResponse, screenshot, snapshot, rawBody }: TakenPage,
  timings: Record<string, number>,
  consent: ConsentAttempt | null,
  freshContext: boolean,
): PageCapture {
  return {
    ...(consent ? { consent } : {}),
    freshContext,
    finalUrl: mainResponse.url(),
    httpStatus: mainResponse.status(),
    headers: mainResponse.headers(),
    // Views, not copies: the body is the one the exchange recorder holds (response-bodies.ts), and
    // nothing writes to either; a copy doubled the page's largest bodies in memory for nothing.
    raw: { body: viewOf(rawBody), contentType: mainResponse.headers()["content-type"] ?? "" },
    renderedHtml: renderedHtmlOf(dom),
    snapshotHtml: snapshot,
    screenshot: { body: viewOf(screenshot), contentType: "image/jpeg" },
    timings,
  };
}

function viewOf(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
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
