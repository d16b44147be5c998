/**
 * Navigation: loading the page, and judging its main response — an error status, a download or a
 * non-HTML type ends the capture before anything waits for the page; a 404 or 410 (and a 403, 429
 * or 503, which a bot challenge answers with) is still taken, as evidence of what the URL showed.
 */
import { type Page, errors as playwrightErrors, type Response } from "playwright-core";
import { CaptureError } from "../../errors.ts";
import type { PageCapture, PageCaptureOptions } from "../../ports.ts";
import type { PageSession } from "./page-watcher.ts";
import { withTimeout } from "./timing.ts";

/** Navigates and vets the main response before waiting for the page to load. */
export async function navigate(
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

export function vetMainResponse(response: Response): void {
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
export function httpError(response: Response, evidence?: PageCapture): CaptureError {
  const status = response.status();
  const text = response.statusText();
  return new CaptureError("http_error", `The server answered HTTP ${status}${text ? ` ${text}` : ""}.`, {
    httpStatus: status,
    evidence,
    retryAfter: response.headers()["retry-after"],
  });
}

/**
 * Statuses whose page is still taken, as evidence of what the URL showed: one that says the
 * article is gone (404, 410), and the refusals bot protection answers with (403, 429, 503), whose
 * page tells a challenge from a dead link (shared/domain/validity/). The capture then fails with
 * `http_error` carrying the page.
 */
const TAKEN_DESPITE_STATUS = new Set([403, 404, 410, 429, 503]);

/** Whether the response's page is taken all the same (see TAKEN_DESPITE_STATUS). */
export function saysGone(response: Response): boolean {
  return TAKEN_DESPITE_STATUS.has(response.status());
}
