/**
 * Calls into the page from Node: one of the in-page scripts (`in-page/`), bounded in time and run
 * again on the new document when the page navigates under it.
 */
import type { Page } from "playwright-core";
import { CaptureError } from "../../errors.ts";
import type { PageCaptureOptions } from "../../ports.ts";
import {
  PAGE_ACTIVITY_KEY,
  type PageActivity,
  readPageActivityInPage,
} from "./in-page/track-page-activity.ts";
import { withTimeout } from "./timing.ts";

/** Cap on one step in the page: a page with a hung main thread could otherwise stall it forever. */
export const EVALUATE_TIMEOUT_MS = 10_000;
/**
 * Most times one step in the page is run again because the page navigated under it. Above the
 * highest redirect cap (20), which stops a page that keeps navigating sooner.
 */
const NAVIGATION_RETRIES_MAX = 22;

/**
 * Runs a function in the page, bounded in time. If the page navigates meanwhile (a consent click
 * that reloads, a script redirect), waits for the new document and runs it once more there — as
 * often as the page navigates: `maxRedirects` ends a page that keeps doing so.
 */
export async function runInPage<Arg, Result>(
  page: Page,
  fn: (arg: Arg) => Result | Promise<Result>,
  arg: Arg,
): Promise<Result> {
  for (let attempt = 0; ; attempt++) {
    try {
      // Arguments here are plain JSON, which Playwright passes through unchanged.
      const evaluation = page.evaluate(fn as (arg: unknown) => Result | Promise<Result>, arg as unknown);
      return await withTimeout(evaluation, EVALUATE_TIMEOUT_MS, () => {
        throw new CaptureError("timeout", "The page stopped responding during capture.");
      });
    } catch (err) {
      const navigated = err instanceof Error && /Execution context was destroyed|navigat/i.test(err.message);
      if (!navigated || attempt >= NAVIGATION_RETRIES_MAX) throw err;
      await page.waitForLoadState("load", { timeout: EVALUATE_TIMEOUT_MS }).catch(() => {});
    }
  }
}

/**
 * The tracker's report, or null when the page has none (or does not answer in time). With `mark`,
 * the tracker starts noting the first DOM change from now on.
 */
export async function readPageActivity(page: Page, mark = false): Promise<PageActivity | null> {
  const report = page.evaluate(readPageActivityInPage, { key: PAGE_ACTIVITY_KEY, mark }).catch(() => null);
  return withTimeout(report, 1_000, () => null);
}

/** Fails the capture with `too_large` when the page has more elements than `maxDomElements`. */
export async function checkDomSize(page: Page, options: PageCaptureOptions): Promise<void> {
  const elements = await runInPage(page, () => document.getElementsByTagName("*").length, null);
  if (elements > options.maxDomElements) {
    throw new CaptureError(
      "too_large",
      `The page has more than ${options.maxDomElements.toLocaleString("en-US")} elements.`,
    );
  }
}
