/**
 * Error mapping: what went wrong in a capture, as the `CaptureError` the worker records — from
 * Chromium's network errors, Playwright's, the browser going away, and what the egress proxy saw.
 */
import { errors as playwrightErrors } from "playwright-core";
import { CaptureError } from "../../errors.ts";
import type { PageCaptureOptions } from "../../ports.ts";
import type { EgressSession } from "../egress/types.ts";

/** `browser_crash`: retried; the next attempt relaunches the browser or reuses one that is still there. */
export function crashError(cause?: unknown): CaptureError {
  return new CaptureError("browser_crash", "The browser crashed while capturing the page.", { cause });
}

const NET_ERRORS: Array<[RegExp, (host: string) => CaptureError]> = [
  [
    /^ERR_NAME_NOT_RESOLVED$|^ERR_NAME_RESOLUTION_FAILED$/,
    (host) => new CaptureError("dns_failure", `The host name ${host} could not be resolved.`),
  ],
  [
    /^ERR_CONNECTION_REFUSED$/,
    (host) => new CaptureError("connection_failed", `${host} refused the connection.`),
  ],
  [
    /^ERR_CONNECTION_(RESET|CLOSED|ABORTED|FAILED)$|^ERR_EMPTY_RESPONSE$|^ERR_ADDRESS_UNREACHABLE$|^ERR_NETWORK_CHANGED$|^ERR_INTERNET_DISCONNECTED$|^ERR_HTTP2_|^ERR_QUIC_|^ERR_SOCKET_|^ERR_INVALID_(RESPONSE|HTTP_RESPONSE|CHUNKED_ENCODING)$|^ERR_CONTENT_(LENGTH_MISMATCH|DECODING_FAILED)$|^ERR_INCOMPLETE_CHUNKED_ENCODING$/,
    (host) => new CaptureError("connection_failed", `The connection to ${host} failed.`),
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
    (host) => new CaptureError("timeout", `The connection to ${host} timed out.`),
  ],
  [
    /^ERR_BLOCKED_BY_|^ERR_UNSAFE_PORT$|^ERR_ACCESS_DENIED$/,
    (host) => new CaptureError("blocked", `The browser refused to load the page from ${host}.`),
  ],
  [
    // A redirect to file://, chrome://, data: or any scheme but http(s): refused the same way on
    // every attempt, so it is `blocked`, not a connection failure worth retrying.
    /^ERR_UNSAFE_REDIRECT$|^ERR_DISALLOWED_URL_SCHEME$|^ERR_UNKNOWN_URL_SCHEME$|^ERR_INVALID_REDIRECT$/,
    (host) =>
      new CaptureError(
        "blocked",
        `${host} redirected the page to an address that is not http(s) (a local file or a browser page); it is not followed.`,
      ),
  ],
  [
    /^ERR_TOO_MANY_REDIRECTS$/,
    () =>
      new CaptureError("too_many_redirects", "The page redirected more than 20 times (the browser's limit)."),
  ],
];

/**
 * Whatever ended a capture, as the `CaptureError` it is recorded with: a `CaptureError` as it is,
 * anything after the browser went away as `browser_crash`, Chromium's `net::ERR_*` by kind,
 * Playwright's timeouts, downloads and closed targets; the rest `internal_error`.
 */
export function toCaptureError(
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
    return new CaptureError("connection_failed", `The page could not be loaded (${net}).`, { cause: err });
  }
  if (err instanceof playwrightErrors.TimeoutError) {
    return new CaptureError("timeout", `The page did not load within ${options.navigationTimeoutMs} ms.`, {
      cause: err,
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
  return new CaptureError("internal_error", "The page could not be captured.", { cause: err });
}

/**
 * The capture's failure as the egress proxy saw it: over the byte budget; the page, or any redirect
 * hop of it, on a forbidden host; or — when the navigation itself `failed` — the page's host could
 * not be resolved or reached by the proxy (which the browser would otherwise report as the proxy's
 * 502 or a failed tunnel). Undefined when the proxy explains nothing.
 */
export function egressError(
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
    return new CaptureError("dns_failure", `The host name ${host} could not be resolved.`);
  }
  if (failure.code === "timeout") {
    return new CaptureError("timeout", `The connection to ${host} timed out.`);
  }
  return new CaptureError("connection_failed", `The connection to ${host} failed.`);
}

function withCause(error: CaptureError, cause: unknown): CaptureError {
  return new CaptureError(error.code, error.message, { cause });
}
