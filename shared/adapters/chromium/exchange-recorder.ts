/**
 * Records every HTTP exchange of a capture as the browser made it, for the evidence package
 * (WACZ, `shared/domain/evidence/`): the page, each redirect hop, subresources, iframes of any
 * origin (the context's `response` events cover out-of-process frames too), fetch/XHR — request
 * headers as sent, the status line, response headers as received and the body.
 *
 * Why the browser's own network view and not a recording proxy that terminates TLS (warcprox,
 * Scoop): a TLS-terminating proxy would have to make the browser trust a certificate authority of
 * ours, would speak HTTP/1.1 or its own HTTP/2 to the browser rather than what the browser
 * negotiated with the site, and would put new code where the egress guard lives, which must stay
 * exactly as strict. The browser sees http and https alike, in clear, with the protocol it really
 * used; the egress proxy stays a byte-counting tunnel and adds only what it alone knows: the
 * address each host resolved to and was connected to (the browser sees only the proxy).
 *
 * What this view cannot give, said here so nobody relies on it: bodies come back with their
 * content coding removed (Chromium decodes gzip/br before DevTools sees them), so a decoded body
 * is written with `Content-Length` set to its decoded length and the server's `Content-Encoding`,
 * `Content-Length` and `Transfer-Encoding` kept as `X-Archive-Orig-…` headers (pywb's convention),
 * which is what a replay needs and still says what the server sent.
 *
 * Memory is bounded by `maxBytes` of bodies per capture; past it, an exchange keeps its headers and
 * its record says `WARC-Truncated: length`, and the capture's provenance lists it. Budget is granted
 * as bodies finish, so part of it is held back for documents (the page's own HTML and its
 * iframes'): heavy images that finish first cannot leave the page itself headers-only. A
 * truncated record's headers are rewritten as a decoded one's are (`X-Archive-Orig-…`, and
 * `Content-Length: 0` for the empty body), so no replay decodes gzip from nothing. Bodies are
 * read once, shared with the snapshot's resource collector (`response-bodies.ts`).
 */
import type { BrowserContext, CDPSession, Request, Response } from "playwright-core";
import type {
  HeaderLines,
  HostProvenance,
  RecordedExchange,
  RecordedTraffic,
  TlsDetails,
} from "../../domain/evidence/model.ts";
import { bodyOf } from "./response-bodies.ts";
import { delay } from "./timing.ts";

/** How long `finish()` waits for bodies still being read: the page has settled by then. */
const BODY_GRACE_MS = 1_500;
/** How much longer `finish()` waits for an exchange's headers once it stopped waiting for bodies. */
const HEADERS_GRACE_MS = 500;
/**
 * The part of the budget only documents may use: a quarter of it, at most 5 MiB (an article's HTML
 * is rarely over 1 MiB; the rest of a large budget stays for its images).
 */
const DOCUMENT_RESERVE_MAX = 5 * 1024 * 1024;
/** Resource types whose bodies are the page's (or an iframe's) own document. */
const DOCUMENT_TYPES = new Set(["document"]);
/** Headers the browser's decoding made untrue of the recorded body. */
const DECODING_HEADERS = new Set(["content-encoding", "content-length", "transfer-encoding"]);

export interface ExchangeRecorderOptions {
  /** Body bytes kept per capture (`EVIDENCE_MAX_BYTES`). */
  maxBytes: number;
  /** The addresses the egress proxy connected to for a URL's host and port. */
  addressesFor?: (url: string) => readonly string[];
  /** The certificate chain (base64 DER, leaf first) the browser holds for an https origin. */
  certificateChain?: (origin: string) => Promise<readonly string[]>;
  /**
   * A response's body size once decoded, as the browser counted it (see `decodedSizesVia`): a
   * body past the budget is then never copied out of the browser at all. Content-Length only
   * gives the encoded size, and a gzip bomb is small on the wire.
   */
  decodedBytes?: (url: string) => number | undefined;
}

export interface ExchangeRecorder {
  /**
   * Stops recording and gives what was recorded, waiting briefly for bodies still being read
   * (those that do not arrive are kept as headers, `WARC-Truncated: unspecified`).
   */
  finish(): Promise<RecordedTraffic>;
  /** Stops recording without waiting (a failed capture). */
  stop(): void;
}

/**
 * Responses that stream for as long as the page lives (the idle watcher ignores them too): their
 * bodies are not waited for, or every page with one would pay the whole grace.
 */
const STREAMING_TYPES = new Set(["eventsource", "websocket", "media", "manifest", "ping"]);

interface Pending {
  order: number;
  /** Waited for by `finish()` (not a stream). */
  awaited: boolean;
  exchange: Promise<RecordedExchange | undefined>;
  tls: Promise<{ host: string; details: TlsDetails } | undefined>;
}

/** Starts recording the exchanges of `context` (a fresh capture context, before it loads anything). */
export function recordExchanges(context: BrowserContext, options: ExchangeRecorderOptions): ExchangeRecorder {
  const pending: Pending[] = [];
  const seen = new WeakSet<Request>();
  const truncated: RecordedTraffic["truncated"] = [];
  let recordedBytes = 0;
  let userAgent = "";
  /** Resolves when `finish()` stops waiting for bodies. */
  let giveUp: () => void = () => {};
  const givenUp = new Promise<undefined>((resolve) => {
    giveUp = () => resolve(undefined);
  });

  const reserve = Math.min(Math.floor(options.maxBytes / 4), DOCUMENT_RESERVE_MAX);
  /** The bytes an exchange of this kind may still take: documents may use the reserve too. */
  const room = (document: boolean): number =>
    (document ? options.maxBytes : options.maxBytes - reserve) - recordedBytes;
  /** Keeps a body within the budget, or says why not. */
  const admit = (bytes: number, document: boolean): boolean => {
    if (bytes > room(document)) return false;
    recordedBytes += bytes;
    return true;
  };

  async function toExchange(response: Response): Promise<RecordedExchange | undefined> {
    const request = response.request();
    const status = response.status();
    const [requestHeaders, responseHeaders, httpVersion] = await Promise.all([
      request.headersArray(),
      response.headersArray(),
      httpVersionOf(response),
    ]);
    if (!userAgent) {
      userAgent = requestHeaders.find((h) => h.name.toLowerCase() === "user-agent")?.value ?? "";
    }
    const exchange: RecordedExchange = {
      url: response.url(),
      startedAt: new Date(request.timing().startTime).toISOString(),
      request: {
        method: request.method(),
        httpVersion,
        headers: requestLines(requestHeaders, request.url()),
        ...bodyOfRequest(request),
      },
      response: {
        httpVersion,
        status,
        statusText: response.statusText(),
        headers: responseHeaders.map((h) => [h.name, h.value] as const),
        body: new Uint8Array(0),
      },
    };
    const address = options.addressesFor?.(response.url())[0];
    if (address) exchange.remoteAddress = address;
    if (!hasBody(request.method(), status)) return exchange;

    const document = DOCUMENT_TYPES.has(request.resourceType());
    const declared = Number(headerValue(responseHeaders, "content-length") ?? "0");
    if (declared > room(document)) return truncate(exchange, "length");
    const finished = await Promise.race([
      response.finished().then(
        () => true,
        () => true,
      ),
      givenUp,
    ]);
    if (!finished) return truncate(exchange, "unspecified");
    // Held against the budget while it is read, so bodies read at once cannot overshoot it together.
    const expected = options.decodedBytes?.(response.url()) ?? declared;
    if (expected > room(document)) return truncate(exchange, "length");
    recordedBytes += expected;
    const body = await Promise.race([bodyOf(response).catch(() => undefined), givenUp]);
    recordedBytes -= expected;
    if (!body) return truncate(exchange, "unspecified");
    if (!admit(body.byteLength, document)) return truncate(exchange, "length");
    exchange.response.body = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    exchange.response.headers = decodedHeaders(exchange.response.headers, body.byteLength);
    return exchange;
  }

  function truncate(exchange: RecordedExchange, reason: "length" | "unspecified"): RecordedExchange {
    exchange.truncated = reason;
    exchange.response.headers = truncatedHeaders(exchange.response.headers);
    truncated.push({ url: exchange.url, reason });
    return exchange;
  }

  const record = (response: Response) => {
    const request = response.request();
    if (seen.has(request)) return;
    seen.add(request);
    const order = pending.length;
    const exchange = toExchange(response).catch(() => undefined);
    const tls = tlsOf(response);
    pending.push({ order, awaited: !STREAMING_TYPES.has(request.resourceType()), exchange, tls });
  };
  const onResponse = (response: Response) => {
    // Redirect hops come as responses of their own; any the events missed are taken from the chain.
    for (let hop = response.request().redirectedFrom(); hop; hop = hop.redirectedFrom()) {
      if (seen.has(hop)) break;
      void hop.response().then(
        (r) => r && record(r),
        () => {},
      );
    }
    record(response);
  };
  context.on("response", onResponse);
  const stop = () => {
    context.off("response", onResponse);
    giveUp();
  };

  return {
    stop,
    async finish() {
      context.off("response", onResponse);
      const awaited = pending.filter((p) => p.awaited).map((p) => p.exchange);
      await Promise.race([Promise.allSettled(awaited), delay(BODY_GRACE_MS)]);
      giveUp();
      // Bodies no longer hold anything up; headers the browser never completes do not either.
      const late = delay(HEADERS_GRACE_MS).then(() => undefined);
      const settled = await Promise.all(
        pending.map(async (p) => ({
          order: p.order,
          exchange: await Promise.race([p.exchange, late]),
          tls: await Promise.race([p.tls, late]),
        })),
      );
      const exchanges = settled
        .filter((s): s is typeof s & { exchange: RecordedExchange } => s.exchange !== undefined)
        .sort((a, b) => a.exchange.startedAt.localeCompare(b.exchange.startedAt) || a.order - b.order)
        .map((s) => s.exchange);
      return {
        exchanges,
        hosts: await hostsOf(exchanges, settled, options),
        userAgent,
        browserVersion: context.browser()?.version() ?? "",
        recordedBytes,
        maxBytes: options.maxBytes,
        truncated,
      };
    },
  };
}

/** Playwright knows the protocol Chromium used but exposes it only on its (internal) channel. */
async function httpVersionOf(response: Response): Promise<string> {
  const internal = response as unknown as { httpVersion?: () => Promise<string> };
  const version = (await internal.httpVersion?.().catch(() => undefined)) ?? "HTTP/1.1";
  // Playwright says HTTP/2.0; RFC 9113's name (and what an HTTP/2 status line shows) is HTTP/2.
  return version === "HTTP/2.0" ? "HTTP/2" : version === "h3" ? "HTTP/3" : version;
}

/**
 * The request's header lines; HTTP/2 pseudo-headers (`:authority`…) are not header lines in a
 * WARC request record, so `:authority` becomes the `Host` an HTTP/1.1 request line needs.
 */
function requestLines(headers: { name: string; value: string }[], url: string): HeaderLines {
  const lines = headers.filter((h) => !h.name.startsWith(":")).map((h) => [h.name, h.value] as const);
  if (!lines.some(([name]) => name.toLowerCase() === "host")) {
    const authority = headers.find((h) => h.name === ":authority")?.value ?? new URL(url).host;
    lines.unshift(["Host", authority]);
  }
  return lines;
}

function bodyOfRequest(request: Request): { body?: Uint8Array } {
  const posted = request.postDataBuffer();
  return posted ? { body: new Uint8Array(posted) } : {};
}

/** Redirects, HEAD, 204 and 304 carry no body (and Playwright refuses to read one). */
function hasBody(method: string, status: number): boolean {
  return method !== "HEAD" && status !== 204 && status !== 304 && !(status >= 300 && status < 400);
}

function headerValue(headers: { name: string; value: string }[], name: string): string | undefined {
  return headers.find((h) => h.name.toLowerCase() === name)?.value;
}

/** See the module's summary: the recorded body is the decoded one, and its headers say so. */
function decodedHeaders(headers: HeaderLines, decodedLength: number): HeaderLines {
  const encoding = headers.find(([name]) => name.toLowerCase() === "content-encoding")?.[1];
  const chunked = headers.some(
    ([name, value]) => name.toLowerCase() === "transfer-encoding" && /chunked/i.test(value),
  );
  if ((!encoding || /^identity$/i.test(encoding)) && !chunked) return headers;
  const kept: (readonly [string, string])[] = [];
  for (const [name, value] of headers) {
    if (DECODING_HEADERS.has(name.toLowerCase())) kept.push([`X-Archive-Orig-${name}`, value]);
    else kept.push([name, value]);
  }
  kept.push(["Content-Length", String(decodedLength)]);
  return kept;
}

/**
 * A truncated record holds no body: the server's framing and coding headers are kept as
 * `X-Archive-Orig-…` and `Content-Length: 0` says what the record holds (`WARC-Truncated` says why).
 */
export function truncatedHeaders(headers: HeaderLines): HeaderLines {
  const kept: (readonly [string, string])[] = headers.map(([name, value]) =>
    DECODING_HEADERS.has(name.toLowerCase()) ? [`X-Archive-Orig-${name}`, value] : [name, value],
  );
  kept.push(["Content-Length", "0"]);
  return kept;
}

async function tlsOf(response: Response): Promise<{ host: string; details: TlsDetails } | undefined> {
  if (!response.url().startsWith("https:")) return undefined;
  const details = await response.securityDetails().catch(() => null);
  if (!details) return undefined;
  return {
    host: new URL(response.url()).host,
    details: {
      ...(details.protocol ? { protocol: details.protocol } : {}),
      ...(details.subjectName ? { subjectName: details.subjectName } : {}),
      ...(details.issuer ? { issuer: details.issuer } : {}),
      ...(details.validFrom !== undefined ? { validFrom: details.validFrom } : {}),
      ...(details.validTo !== undefined ? { validTo: details.validTo } : {}),
    },
  };
}

/** Every host the capture reached: the addresses the egress proxy connected to, and TLS for https. */
async function hostsOf(
  exchanges: readonly RecordedExchange[],
  settled: readonly { tls: { host: string; details: TlsDetails } | undefined }[],
  options: ExchangeRecorderOptions,
): Promise<HostProvenance[]> {
  const hosts = new Map<string, { addresses: Set<string>; origin: string; tls?: TlsDetails }>();
  for (const exchange of exchanges) {
    const url = new URL(exchange.url);
    const entry = hosts.get(url.host) ?? { addresses: new Set<string>(), origin: url.origin };
    for (const address of options.addressesFor?.(exchange.url) ?? []) entry.addresses.add(address);
    hosts.set(url.host, entry);
  }
  for (const { tls } of settled) {
    const entry = tls ? hosts.get(tls.host) : undefined;
    if (entry && tls && !entry.tls) entry.tls = tls.details;
  }
  return Promise.all(
    [...hosts].map(async ([host, entry]): Promise<HostProvenance> => {
      const chain =
        entry.origin.startsWith("https:") && options.certificateChain
          ? await options.certificateChain(entry.origin).catch(() => [])
          : [];
      return {
        host,
        addresses: [...entry.addresses],
        ...(entry.tls ? { tls: entry.tls } : {}),
        ...(chain.length > 0 ? { tlsCertificateChain: chain.map(toPem) } : {}),
      };
    }),
  );
}

function toPem(der: string): string {
  const lines = der.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----`;
}

/**
 * The chain Chromium validated for an https origin, through the page's DevTools session (the
 * browser keeps it per origin, frames of other processes included).
 */
export function certificatesVia(cdp: CDPSession): (origin: string) => Promise<readonly string[]> {
  return async (origin) => (await cdp.send("Network.getCertificate", { origin })).tableNames;
}

/**
 * Decoded body sizes by URL, counted from the DevTools session's `Network.dataReceived` (whose
 * lengths are decoded bytes) on the page's own target. Returns the lookup and the function that
 * stops counting.
 */
export function decodedSizesVia(cdp: CDPSession): {
  sizeOf: (url: string) => number | undefined;
  end: () => void;
} {
  const urls = new Map<string, string>();
  const sizes = new Map<string, number>();
  const onResponse = (event: { requestId: string; response: { url: string } }) => {
    urls.set(event.requestId, event.response.url);
    sizes.set(event.response.url, 0);
  };
  const onData = (event: { requestId: string; dataLength: number }) => {
    const url = urls.get(event.requestId);
    if (url !== undefined) sizes.set(url, (sizes.get(url) ?? 0) + event.dataLength);
  };
  cdp.on("Network.responseReceived", onResponse);
  cdp.on("Network.dataReceived", onData);
  return {
    sizeOf: (url) => sizes.get(url),
    end() {
      cdp.off("Network.responseReceived", onResponse);
      cdp.off("Network.dataReceived", onData);
    },
  };
}
