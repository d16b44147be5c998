/**
 * A page that answered with a refusal status — 403, 429 or 503, the statuses bot protection
 * answers with — is taken all the same (as a 404 is), so that it can be told apart: a vendor's
 * challenge is a succeeded capture of class `challenge` (what the outlet served us, kept as
 * evidence, listed, and retried with backoff), not a dead link; a plain 429 or 503 is a transient
 * failure, retried no sooner than its `Retry-After` asks.
 */
import type { CaptureError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import type { CaptureRecord } from "../model.ts";
import { classifyCapture, retryAfterMs } from "../validity/index.ts";
import { pageUploads, storedTogether, uploader } from "./artifacts.ts";
import { failCapture } from "./failures.ts";
import { challengeRetriedOf, recordOnUrl, unlessCommitted } from "./record-on-url.ts";
import type { ProcessCaptureDeps, ProcessOutcome, UrlState } from "./types.ts";

/** Statuses whose page is taken and classified rather than failed outright. */
const REFUSALS = new Set([403, 429, 503]);
/** Statuses that mean "later": retried, no sooner than Retry-After. */
const TRANSIENT = new Set([429, 503]);
/** The longest a message may be delayed on the queue (SQS DelaySeconds); longer waits end the capture. */
const MAX_REQUEUE_DELAY_MS = 900_000;

/**
 * The outcome of an `http_error` with a refusal status, or null for any other error (which the
 * caller handles as before).
 */
export async function answerRefusal(
  deps: ProcessCaptureDeps,
  capture: CaptureRecord,
  known: Promise<UrlState>,
  error: CaptureError,
  log: Logger,
): Promise<ProcessOutcome | null> {
  const status = error.httpStatus;
  if (error.code !== "http_error" || status === undefined || !REFUSALS.has(status)) return null;
  const now = deps.now ?? (() => new Date());
  const page = error.evidence;
  if (page) {
    const verdict = classifyCapture({
      httpStatus: page.httpStatus,
      headers: page.headers ?? {},
      html: page.renderedHtml,
      title: null,
      text: "",
    });
    if (verdict.validity === "challenge") {
      const state = await known;
      const artifacts = await storedTogether(pageUploads(uploader(deps, state), page));
      const capturedAt = now().toISOString();
      const decide = unlessCommitted(capture, async () => ({ verdict }));
      const { decision } = await recordOnUrl(deps, capture, state, await decide(state), decide, capturedAt);
      const validity = decision.verdict?.validity ?? verdict.validity;
      const succeeded: CaptureRecord = {
        ...capture,
        status: "succeeded",
        finishedAt: capturedAt,
        finalUrl: page.finalUrl,
        httpStatus: status,
        changed: false,
        validity,
        validityReason: decision.verdict?.validityReason ?? verdict.validityReason,
        artifacts,
        timings: page.timings,
        ...challengeRetriedOf(state.url, capture.captureId, page, validity),
      };
      delete succeeded.error;
      await deps.repository.finishCapture(succeeded);
      log.info("capture met a challenge", { httpStatus: status, reason: verdict.validityReason });
      return { kind: "succeeded", capture: succeeded };
    }
  }
  if (!TRANSIENT.has(status)) return null;
  const waitMs = retryAfterMs(page?.headers?.["retry-after"] ?? error.retryAfter, now());
  if (waitMs === null) return null;
  // A wait the queue can hold is a delayed retry; a longer one ends this capture. Either way, if
  // the capture ends here, the URL is not due again before the server said.
  const notBefore = new Date(now().getTime() + waitMs).toISOString();
  return failCapture(deps, capture, error, error, log, {
    ...(waitMs <= MAX_REQUEUE_DELAY_MS ? { delayMs: waitMs } : {}),
    notBefore,
  });
}
