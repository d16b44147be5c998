/**
 * Typed errors. Each carries a stable snake_case `code` that the HTTP edge maps to a status;
 * only errors whose status is < 500 expose their message to callers.
 */
import type { PageCapture } from "./ports.ts";

export class PalimpsestError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The caller sent something we refuse; maps to 4xx. */
export class InvalidRequestError extends PalimpsestError {
  readonly status: number;
  constructor(code: string, message: string, options?: { cause?: unknown; status?: number }) {
    super(code, message, options);
    this.status = options?.status ?? 400;
  }
}

/** The URL itself is unacceptable (syntax, scheme, credentials, length, address). */
export class InvalidUrlError extends InvalidRequestError {}

export class NotFoundError extends InvalidRequestError {
  constructor(code: string, message: string) {
    super(code, message, { status: 404 });
  }
}

/**
 * A capture could not be completed; `code` is the reason recorded on the capture. Whether it is
 * tried again is decided by the code alone, in `shared/domain/capture/retry-policy.ts`.
 */
export class CaptureError extends PalimpsestError {
  declare readonly code: CaptureFailureCode;
  /** The main document's HTTP status, for `http_error`. */
  readonly httpStatus: number | undefined;
  /** What the page showed, for an `http_error` page that was taken all the same (a 404, a 403). */
  readonly evidence: PageCapture | undefined;
  /** The answer's `Retry-After` header, as sent, for a 429 or 503. */
  readonly retryAfter: string | undefined;
  constructor(
    code: CaptureFailureCode,
    message: string,
    options?: {
      cause?: unknown;
      httpStatus?: number;
      evidence?: PageCapture;
      retryAfter?: string;
    },
  ) {
    super(code, message, options);
    this.httpStatus = options?.httpStatus;
    this.evidence = options?.evidence;
    this.retryAfter = options?.retryAfter;
  }
}

export type CaptureFailureCode =
  | "dns_failure"
  | "connection_failed"
  | "timeout"
  | "http_error"
  | "browser_crash"
  | "blocked"
  | "too_large"
  | "too_many_redirects"
  | "unsupported_content"
  | "slow_response"
  | "storage_error"
  | "internal_error";

/** Configuration is missing or malformed: fail fast at cold start. */
export class ConfigError extends PalimpsestError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("config_error", message, options);
  }
}

/** An evidence package could not be signed (the key is unreadable, or KMS refused or failed). */
export class SigningError extends PalimpsestError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("signing_error", message, options);
  }
}

/** Why a plain HTTP fetch (a source's poll) failed; the capture codes where they mean the same. */
export type FetchFailureCode =
  | "dns_failure"
  | "connection_failed"
  | "timeout"
  | "http_error"
  | "blocked"
  | "too_large"
  | "too_many_redirects"
  | "unsupported_content";

/** A guarded HTTP fetch failed; `code` is what a source's `lastError` and the API report. */
export class FetchError extends PalimpsestError {
  /** Whether asking again soon could plausibly succeed. */
  readonly retryable: boolean;
  /** The final response's status, for `http_error`. */
  readonly httpStatus: number | undefined;
  constructor(
    code: FetchFailureCode,
    message: string,
    options?: { cause?: unknown; retryable?: boolean; httpStatus?: number },
  ) {
    super(code, message, options);
    this.retryable = options?.retryable ?? false;
    this.httpStatus = options?.httpStatus;
  }
}
