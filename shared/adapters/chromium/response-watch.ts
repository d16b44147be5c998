/**
 * The per-response limits of a capture, watched from the browser's side through the DevTools
 * protocol, because most pages come over HTTPS and the egress proxy sees only the bytes of a
 * tunnel. The browser decodes Content-Encoding itself, so this is also the only place where a
 * body's decoded size can be counted.
 *
 * What each limit stops, with its own code, on the first attempt (retry-policy.ts):
 * - the page's HTML trickling in (a byte a second) past `documentDeadlineMs` from its headers,
 *   or stopping mid-way for `stallMs` (a Content-Length that promises more than is ever sent, on a
 *   connection held open): `slow_response`; cut off short of it (the connection closed early):
 *   `connection_failed` at once, which is retried, since networks do cut bodies short;
 * - the page's HTML decoding to more than `maxDocumentBytes`, or every response of the page
 *   together to more than `maxDecodedBytes` (a gzip bomb: a few hundred KB on the wire, gigabytes
 *   once inflated): `too_large`.
 *
 * Without them, such a page holds the worker until the navigation's timeout, which is retried.
 */
import type { CDPSession } from "playwright-core";
import { CaptureError } from "../../errors.ts";
import { formatDuration } from "./timing.ts";

export interface ResponseLimits {
  /** The page's HTML must have arrived whole this long after its headers. @default 20000 */
  documentDeadlineMs: number;
  /** The page's HTML may pause this long between two bytes. @default 10000 */
  stallMs: number;
  /**
   * The page's HTML, decoded. The serialised page is refused past 50 million characters anyway
   * (take-page.ts); this ends the capture as soon as the source alone is past that.
   * @default 50 MiB
   */
  maxDocumentBytes: number;
  /** Every response of the page's main frame together, decoded. @default 400 MiB */
  maxDecodedBytes: number;
}

export const DEFAULT_RESPONSE_LIMITS: ResponseLimits = {
  documentDeadlineMs: 20_000,
  stallMs: 10_000,
  maxDocumentBytes: 50 * 1024 * 1024,
  maxDecodedBytes: 400 * 1024 * 1024,
};

/** How often a document still arriving is checked against its deadline and stall limit. */
const CHECK_INTERVAL_MS = 250;

interface DocumentInFlight {
  headersAt: number;
  lastDataAt: number;
  bytes: number;
}

/**
 * Starts watching the responses of the page behind `cdp` (a session with the Network domain
 * enabled, see fresh-context.ts); `stop` is called once with the first limit broken. Returns the
 * function that ends the watch.
 */
export function watchResponses(
  cdp: CDPSession,
  mainFrameId: string,
  limits: ResponseLimits,
  stop: (error: CaptureError) => void,
): () => void {
  const documents = new Map<string, DocumentInFlight>();
  let decoded = 0;
  let stopped = false;
  const fail = (error: CaptureError) => {
    if (stopped) return;
    stopped = true;
    end();
    stop(error);
  };
  const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;

  const onResponse = (event: { requestId: string; type?: string; frameId?: string }) => {
    if (event.type !== "Document" || event.frameId !== mainFrameId) return;
    const now = performance.now();
    documents.set(event.requestId, { headersAt: now, lastDataAt: now, bytes: 0 });
  };
  const onData = (event: { requestId: string; dataLength: number }) => {
    decoded += event.dataLength;
    const document = documents.get(event.requestId);
    if (document) {
      document.bytes += event.dataLength;
      document.lastDataAt = performance.now();
      if (document.bytes > limits.maxDocumentBytes) {
        fail(
          new CaptureError(
            "too_large",
            `The page's HTML decodes to more than ${mib(limits.maxDocumentBytes)}.`,
          ),
        );
        return;
      }
    }
    if (decoded > limits.maxDecodedBytes) {
      fail(
        new CaptureError(
          "too_large",
          `The page's responses decode to more than ${mib(limits.maxDecodedBytes)} together.`,
        ),
      );
    }
  };
  const onFinished = (event: { requestId: string }) => {
    documents.delete(event.requestId);
  };
  // A document cut off after its headers (the connection closed short of its Content-Length, or
  // mid-chunk) would otherwise leave the page waiting for its load until the navigation's
  // timeout. Not one the page left for another (`canceled`).
  const onFailed = (event: { requestId: string; errorText?: string; canceled?: boolean }) => {
    if (!documents.delete(event.requestId) || event.canceled) return;
    const reason = /ERR_[A-Z_]+/.exec(event.errorText ?? "")?.[0] ?? "the connection closed";
    fail(new CaptureError("connection_failed", `The page's HTML ended before it was complete (${reason}).`));
  };

  const check = () => {
    const now = performance.now();
    for (const document of documents.values()) {
      if (now - document.headersAt > limits.documentDeadlineMs) {
        fail(
          new CaptureError(
            "slow_response",
            `The page's HTML was still arriving ${formatDuration(limits.documentDeadlineMs)} after its headers.`,
          ),
        );
        return;
      }
      if (now - document.lastDataAt > limits.stallMs) {
        fail(
          new CaptureError(
            "slow_response",
            `The server stopped sending the page's HTML for ${formatDuration(limits.stallMs)} before its end.`,
          ),
        );
        return;
      }
    }
  };
  const timer = setInterval(check, CHECK_INTERVAL_MS);
  timer.unref();

  cdp.on("Network.responseReceived", onResponse);
  cdp.on("Network.dataReceived", onData);
  cdp.on("Network.loadingFinished", onFinished);
  cdp.on("Network.loadingFailed", onFailed);
  function end() {
    clearInterval(timer);
    cdp.off("Network.responseReceived", onResponse);
    cdp.off("Network.dataReceived", onData);
    cdp.off("Network.loadingFinished", onFinished);
    cdp.off("Network.loadingFailed", onFailed);
  }
  return end;
}
