/** The retry policy: only failures that another attempt could change are retried. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { worthRetrying } from "../../shared/domain/capture/retry-policy.ts";
import { CaptureError, type CaptureFailureCode } from "../../shared/errors.ts";

const failure = (code: CaptureFailureCode, httpStatus?: number) =>
  new CaptureError(code, "x", httpStatus === undefined ? {} : { httpStatus });

describe("retry policy", () => {
  it("never retries what fails the same way every time", () => {
    for (const code of [
      "blocked",
      "too_large",
      "too_many_redirects",
      "unsupported_content",
      "slow_response",
    ] as const) {
      assert.equal(worthRetrying(failure(code)), false, code);
    }
  });

  it("retries what may pass on another attempt", () => {
    for (const code of [
      "dns_failure",
      "connection_failed",
      "timeout",
      "browser_crash",
      "storage_error",
      "internal_error",
    ] as const) {
      assert.equal(worthRetrying(failure(code)), true, code);
    }
  });

  it("retries server errors, rate limits and request timeouts, not a missing or forbidden page", () => {
    for (const status of [500, 502, 503, 429, 408]) {
      assert.equal(worthRetrying(failure("http_error", status)), true, String(status));
    }
    for (const status of [400, 401, 403, 404, 410, 451]) {
      assert.equal(worthRetrying(failure("http_error", status)), false, String(status));
    }
  });
});
