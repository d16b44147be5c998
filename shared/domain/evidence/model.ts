/**
 * The evidence package's input: what a capture saw on the wire and what it made of it. Pure data;
 * `build-wacz.ts` turns it into a signed WACZ and `verify-wacz.ts` checks one.
 */

/** HTTP header lines in the order they were sent, names as spelled on the wire. */
export type HeaderLines = readonly (readonly [name: string, value: string])[];

/** One HTTP request and the response it got, as the browser exchanged them. */
export interface RecordedExchange {
  /** The absolute URL requested (for a redirect hop, the URL that answered with the redirect). */
  url: string;
  /** When the request was sent, ISO 8601 UTC (milliseconds kept: WARC/1.1 allows them). */
  startedAt: string;
  request: {
    method: string;
    /** `HTTP/1.1`, `HTTP/2`… as negotiated; the request line is written with it. */
    httpVersion: string;
    headers: HeaderLines;
    /** The request body (a POST's form or JSON), when there was one. */
    body?: Uint8Array;
  };
  response: {
    httpVersion: string;
    status: number;
    /** The reason phrase as received (may be empty, as in HTTP/2). */
    statusText: string;
    headers: HeaderLines;
    /** The body as received, transfer coding removed, content coding kept. */
    body: Uint8Array;
  };
  /** The address the connection went to (`WARC-IP-Address`). */
  remoteAddress?: string;
  /**
   * Why the response's body is not all there (`WARC-Truncated`): `length`, past the capture's
   * recording budget; `unspecified`, the browser no longer had it (evicted, or never finished).
   */
  truncated?: "length" | "unspecified";
}

/** TLS as the browser negotiated it with a host (what Chromium's security details say). */
export interface TlsDetails {
  protocol?: string;
  subjectName?: string;
  issuer?: string;
  /** Seconds since the epoch, as the certificate says. */
  validFrom?: number;
  validTo?: number;
}

/** A host the capture connected to: the addresses it resolved to and, for HTTPS, its TLS. */
export interface HostProvenance {
  host: string;
  addresses: readonly string[];
  /** The certificate chain (PEM, leaf first), when the browser could give it. */
  tlsCertificateChain?: readonly string[];
  tls?: TlsDetails;
}

/**
 * What the browser exchanged during one capture, as the capturer recorded it: the evidence
 * package's raw material, before anything Palimpsest derived from the page.
 */
export interface RecordedTraffic {
  /** Every exchange, in the order the requests were sent. */
  exchanges: RecordedExchange[];
  hosts: HostProvenance[];
  userAgent: string;
  browserVersion: string;
  /** Body bytes kept, against `maxBytes`. */
  recordedBytes: number;
  maxBytes: number;
  /** Exchanges kept without (all of) their body, and why. */
  truncated: { url: string; reason: "length" | "unspecified" }[];
}

/**
 * A response identical to one already archived, written as a `revisit` record (profile
 * identical-payload-digest): headers only, pointing at the original by URL, date and digest.
 */
export interface RevisitExchange {
  url: string;
  startedAt: string;
  response: { httpVersion: string; status: number; statusText: string; headers: HeaderLines };
  /** The `WARC-Payload-Digest` of the original response (`sha256:<hex>`). */
  payloadDigest: string;
  refersTo: { url: string; date: string; recordId?: string };
  remoteAddress?: string;
}

/** Something Palimpsest made from the page (snapshot, screenshot, article), kept as a `resource` record. */
export interface DerivedResource {
  /** `snapshot`, `screenshot`, `article`… names the record's target `urn:palimpsest:<name>:<page URL>`. */
  name: string;
  contentType: string;
  body: Uint8Array;
}

/** How the page was reached and by what: the provenance written as the `metadata` record. */
export interface CaptureProvenance {
  /** Each host the capture connected to, with the addresses it resolved to and, for HTTPS, its certificate chain (PEM, leaf first). */
  hosts: readonly HostProvenance[];
  userAgent: string;
  browserVersion: string;
  palimpsestVersion: string;
  /** Per-phase timings in milliseconds. */
  timings: Readonly<Record<string, number>>;
  /** The capture-validity verdict, when it was judged. */
  validity?: { verdict: string; reason: string };
  /** Anything else worth keeping beside the capture (ids, the requested URL, the final URL). */
  extra?: Readonly<Record<string, unknown>>;
}

/** Everything one capture's evidence package holds. */
export interface EvidenceInput {
  /** The page's URL as requested: where replay starts. */
  pageUrl: string;
  /** When the capture started (`mainPageDate`, `ts` of the page). */
  capturedAt: string;
  /** When the package is written (`created`, and the time of every zip entry). */
  createdAt: string;
  title: string | null;
  /** The extracted article text, for the page's full-text entry in `pages.jsonl`. */
  text?: string;
  exchanges: readonly RecordedExchange[];
  revisits?: readonly RevisitExchange[];
  resources: readonly DerivedResource[];
  provenance: CaptureProvenance;
  /**
   * Provenance known only later (the validity verdict, once the capture is judged), merged into
   * the metadata record. That record is written last: every other one is written while this is
   * awaited, so a package can be started before the capture is judged.
   */
  lateProvenance?: PromiseLike<Pick<CaptureProvenance, "validity">>;
}

/** What a signer puts in the package: the anonymous signature of the WACZ Signing and Verification spec. */
export interface SignedData {
  hash: string;
  signature: string;
  publicKey: string;
  created: string;
  software: string;
  version: string;
}
