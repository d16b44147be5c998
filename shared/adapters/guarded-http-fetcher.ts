/**
 * Plain HTTP GETs under the capture browser's egress rules, for what needs no browser: a source's
 * poll of its feed or sitemap, and a scheduled recapture's conditional GET of an article (its HTTP
 * probe, shared/domain/capture/probe-capture.ts).
 *
 * Every hop, the first and each redirect, goes through `vetDestination` — the same guard the
 * submit check and the browser's egress proxy use (http(s) only, allowed ports, no local names,
 * every resolved address public unicast unless ALLOW_PRIVATE_HOSTS lists it). The host is resolved
 * once per hop, and the connection is pinned to the checked address through the socket's `lookup`,
 * so nothing can resolve the name a second time (DNS rebinding). TLS still verifies the
 * certificate against the host name.
 *
 * Why not through the egress proxy: it listens on a port per session, which a poll of one document
 * would open and close, and its accounting is built for a browser's many requests; the guard
 * itself (`vetDestination`) is what makes the rules identical, and both call it.
 *
 * Caps, each failing with a FetchError code: bytes on the wire and after Content-Encoding is undone
 * (a gzip bomb stops at the cap), the whole fetch's time (every hop included: a body that trickles
 * in ends there), silence on the connection (a Content-Length that promises more than is sent, on
 * a connection held open, ends at the stall limit), and redirects.
 */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { isIPv6 } from "node:net";
import type { Readable, Transform } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import { destinationOf, vetDestination } from "../domain/url.ts";
import { FetchError } from "../errors.ts";
import type { HttpFetcher, HttpFetchResult, ResolveHost } from "../ports.ts";
import { resolveHostIpv4First } from "./resolve-host.ts";

export interface GuardedHttpFetcherOptions {
  /** ALLOW_PRIVATE_HOSTS, parsed with `parseAllowedPrivateHosts`. @default none */
  allowedPrivateHosts?: ReadonlySet<string>;
  /** @default `dns.lookup`, IPv4 first */
  resolveHost?: ResolveHost;
  /** Bytes received on the wire. @default 10 MiB */
  maxBytes?: number;
  /** Bytes after Content-Encoding is undone. @default 4 × maxBytes */
  maxDecodedBytes?: number;
  /** The whole fetch, every redirect included. @default 30000 */
  timeoutMs?: number;
  /** Silence on the connection (no header or body byte) this long ends the fetch. @default 10000 */
  stallTimeoutMs?: number;
  /** @default 5 */
  maxRedirects?: number;
  /** @default "Mozilla/5.0 (compatible; Palimpsest/0.1; +feeds)" */
  userAgent?: string;
  /** Sent as `Accept-Language` (a recapture's probe asks as the browser does: en-US). @default none */
  acceptLanguage?: string;
}

export const DEFAULT_FETCH_MAX_BYTES = 10 * 1024 * 1024;

const DEFAULT_ACCEPT =
  "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5";

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** The response's decoder for its Content-Encoding, or null for identity; unknown ones throw. */
function decoderFor(encoding: string | undefined): Transform | null {
  const value = (encoding ?? "identity").trim().toLowerCase();
  if (value === "" || value === "identity") return null;
  if (value === "gzip" || value === "x-gzip") return createGunzip();
  if (value === "deflate") return createInflate();
  if (value === "br") return createBrotliDecompress();
  throw new FetchError(
    "unsupported_content",
    `The server answered in an encoding it was not asked for: ${value}.`,
  );
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Response headers as captures keep them: names in lower case, repeated values joined by newlines. */
function lowerCaseHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join("\n") : value;
  }
  return out;
}

function networkError(err: unknown): FetchError {
  if (err instanceof FetchError) return err;
  const code = (err as { code?: string }).code ?? "";
  return new FetchError("connection_failed", `The connection failed (${code || (err as Error).message}).`, {
    cause: err,
    retryable: true,
  });
}

export function createGuardedHttpFetcher(options: GuardedHttpFetcherOptions = {}): HttpFetcher {
  const allowedPrivateHosts = options.allowedPrivateHosts ?? new Set<string>();
  const resolveHost = options.resolveHost ?? resolveHostIpv4First;
  const maxBytes = options.maxBytes ?? DEFAULT_FETCH_MAX_BYTES;
  const maxDecodedBytes = options.maxDecodedBytes ?? 4 * maxBytes;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const stallTimeoutMs = options.stallTimeoutMs ?? 10_000;
  const maxRedirects = options.maxRedirects ?? 5;
  const userAgent = options.userAgent ?? "Mozilla/5.0 (compatible; Palimpsest/0.1; +feeds)";
  const acceptLanguage = options.acceptLanguage;

  /** The address this hop may connect to, or why it may not connect at all. */
  async function vet(url: URL): Promise<string> {
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new FetchError(
        "blocked",
        `Only http and https can be fetched, not ${url.protocol.replace(/:$/, "")}.`,
      );
    }
    if (url.username !== "" || url.password !== "") {
      throw new FetchError("blocked", "URLs with a user name or password are not fetched.");
    }
    const verdict = await vetDestination(destinationOf(url), { resolveHost, allowedPrivateHosts });
    if (!verdict.allowed) {
      if (verdict.code === "unresolvable_host") {
        throw new FetchError("dns_failure", verdict.message, { cause: verdict.cause, retryable: true });
      }
      throw new FetchError("blocked", verdict.message);
    }
    const address = verdict.addresses[0];
    if (address === undefined)
      throw new FetchError("dns_failure", `The host ${url.hostname} has no addresses.`);
    return address;
  }

  /** One request to one checked address; resolves with the response (headers read, body not yet). */
  async function send(
    url: URL,
    address: string,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    const family = isIPv6(address) ? 6 : 4;
    // Loaded at the first fetch, not at import: an ESM import of node:http makes Node load its
    // bundled undici (for http's lazy WebSocket exports), a sizeable part of the API's cold init,
    // and the API fetches only when a source is followed.
    const { request } = url.protocol === "https:" ? await import("node:https") : await import("node:http");
    return new Promise((resolve, reject) => {
      const req = request(url, {
        method: "GET",
        headers,
        agent: false,
        signal,
        // The only address this connection may reach: the one the guard checked.
        lookup: (_host, lookupOptions, callback) => {
          if ((lookupOptions as { all?: boolean }).all) {
            (callback as unknown as (e: null, list: Array<{ address: string; family: number }>) => void)(
              null,
              [{ address, family }],
            );
          } else {
            callback(null, address, family);
          }
        },
      });
      let response: IncomingMessage | undefined;
      // The socket's idle timer runs while the headers and then the body are awaited.
      req.setTimeout(stallTimeoutMs, () => {
        const stalled = new FetchError("timeout", `The server sent nothing for ${stallTimeoutMs} ms.`, {
          retryable: true,
        });
        if (response) response.destroy(stalled);
        req.destroy(stalled);
      });
      req.once("response", (incoming) => {
        response = incoming;
        resolve(incoming);
      });
      req.once("error", reject);
      req.end();
    });
  }

  /** The body, counted on the wire and after decoding; each cap fails `too_large`. */
  async function readBody(response: IncomingMessage): Promise<Uint8Array> {
    const declared = Number(headerValue(response.headers, "content-length"));
    if (Number.isFinite(declared) && declared > maxBytes) {
      response.destroy();
      throw new FetchError("too_large", `The document is ${declared} bytes; at most ${maxBytes} are read.`);
    }
    let wire = 0;
    const decoder = decoderFor(headerValue(response.headers, "content-encoding"));
    response.on("data", (chunk: Buffer) => {
      wire += chunk.length;
      if (wire > maxBytes) {
        response.destroy(new FetchError("too_large", `The document is larger than ${maxBytes} bytes.`));
      }
    });
    const stream: Readable = decoder ? response.pipe(decoder) : response;
    if (decoder) response.once("error", (err) => decoder.destroy(err));
    const chunks: Buffer[] = [];
    let decoded = 0;
    try {
      for await (const chunk of stream) {
        decoded += (chunk as Buffer).length;
        if (decoded > maxDecodedBytes) {
          throw new FetchError("too_large", `The document decodes to more than ${maxDecodedBytes} bytes.`);
        }
        chunks.push(chunk as Buffer);
      }
    } catch (err) {
      response.destroy();
      if (err instanceof FetchError) throw err;
      if (decoder && !(err as { code?: string }).code?.startsWith("ECONN")) {
        throw new FetchError(
          "unsupported_content",
          "The body does not decode as its Content-Encoding says.",
          {
            cause: err,
          },
        );
      }
      throw networkError(err);
    }
    return Buffer.concat(chunks);
  }

  async function fetchOnce(input: string, fetchOptions: Parameters<HttpFetcher["fetch"]>[1] = {}) {
    let url: URL;
    try {
      url = new URL(input);
    } catch (cause) {
      throw new FetchError("blocked", "The URL could not be parsed.", { cause });
    }
    const headers: Record<string, string> = {
      "user-agent": userAgent,
      accept: fetchOptions.accept ?? DEFAULT_ACCEPT,
      "accept-encoding": "gzip, deflate, br",
      ...(acceptLanguage ? { "accept-language": acceptLanguage } : {}),
      ...(fetchOptions.etag ? { "if-none-match": fetchOptions.etag } : {}),
      ...(fetchOptions.lastModified ? { "if-modified-since": fetchOptions.lastModified } : {}),
    };
    const controller = new AbortController();
    const timer = setTimeout(
      () =>
        controller.abort(
          new FetchError("timeout", `The fetch took longer than ${timeoutMs} ms.`, { retryable: true }),
        ),
      timeoutMs,
    );
    const redirects: string[] = [];
    try {
      for (;;) {
        const address = await vet(url);
        if (controller.signal.aborted) throw controller.signal.reason;
        let response: IncomingMessage;
        try {
          response = await send(url, address, headers, controller.signal);
        } catch (err) {
          throw controller.signal.aborted ? controller.signal.reason : networkError(err);
        }
        const status = response.statusCode ?? 0;
        const location = headerValue(response.headers, "location");
        if (REDIRECTS.has(status) && location !== undefined) {
          response.resume();
          if (redirects.length >= maxRedirects) {
            throw new FetchError("too_many_redirects", `The URL redirected more than ${maxRedirects} times.`);
          }
          let next: URL;
          try {
            next = new URL(location, url);
          } catch (cause) {
            throw new FetchError("blocked", "The URL redirected to something that is not a URL.", { cause });
          }
          redirects.push(next.href);
          url = next;
          continue;
        }
        const etag = headerValue(response.headers, "etag");
        const lastModified = headerValue(response.headers, "last-modified");
        const validators = { ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
        if (status === 304) {
          response.resume();
          return {
            notModified: true,
            status: 304,
            finalUrl: url.href,
            ...validators,
            redirects,
          } satisfies HttpFetchResult;
        }
        if (status < 200 || status > 299) {
          response.resume();
          throw new FetchError("http_error", `The server answered HTTP ${status}.`, {
            httpStatus: status,
            retryable: status === 408 || status === 429 || status >= 500,
          });
        }
        let body: Uint8Array;
        try {
          body = await readBody(response);
        } catch (err) {
          throw controller.signal.aborted ? controller.signal.reason : err;
        }
        return {
          notModified: false,
          status,
          finalUrl: url.href,
          contentType: headerValue(response.headers, "content-type"),
          body,
          ...validators,
          address,
          redirects,
          headers: lowerCaseHeaders(response.headers),
        } satisfies HttpFetchResult;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  return { fetch: fetchOnce };
}
