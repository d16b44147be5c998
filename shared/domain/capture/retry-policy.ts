/**
 * The retry policy of a failed capture, per failure code, in one place: another attempt is made
 * only where another attempt can come out differently. A hostile page (one that trickles its HTML
 * forever, lies about its length, inflates to gigabytes, eats the renderer's memory or redirects
 * to `file://`) fails the same way every time, so each attempt would only hold the worker again:
 * those fail once.
 *
 * The adapters say what happened (the code, and the HTTP status for `http_error`); only this table
 * says whether it is worth another try.
 */
import type { CaptureError, CaptureFailureCode } from "../../errors.ts";

/** Whether a failure with this code is worth another attempt, given the error. */
type RetryRule = boolean | ((error: CaptureError) => boolean);

/** Each code, and why it is or is not retried. */
export const RETRY_POLICY: Readonly<Record<CaptureFailureCode, RetryRule>> = {
  // A resolver or a zone that failed may answer on the next attempt.
  dns_failure: true,
  // Refused, reset or dropped connections are how restarts and overloads look.
  connection_failed: true,
  // The site (or the network to it) was slow as a whole: it may not be the next time.
  timeout: true,
  // Server errors, rate limits and request timeouts pass; a 404 or a 403 will not change.
  http_error: (error) =>
    error.httpStatus === undefined ||
    error.httpStatus >= 500 ||
    error.httpStatus === 429 ||
    error.httpStatus === 408,
  // A crash that was not the page's own doing (that one is `too_large`): the next browser may do.
  browser_crash: true,
  // The guard refuses the same destination every time.
  blocked: false,
  // A page over a byte, element or memory budget is over it every time.
  too_large: false,
  too_many_redirects: false,
  unsupported_content: false,
  // A server that sends its HTML a byte at a time, or stops in the middle, does so on purpose or
  // is broken; it was given the whole per-response deadline already.
  slow_response: false,
  storage_error: true,
  // A bug may be a race; one that is not fails the same way on every attempt and ends anyway.
  internal_error: true,
};

/** Whether a capture that failed with `error` deserves another attempt (see `RETRY_POLICY`). */
export function worthRetrying(error: CaptureError): boolean {
  const rule = RETRY_POLICY[error.code as CaptureFailureCode];
  if (rule === undefined) return false;
  return typeof rule === "boolean" ? rule : rule(error);
}
