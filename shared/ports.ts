/**
 * Ports: what the domain needs from the outside world. `shared/adapters/` implements them for
 * S3, DynamoDB, SQS and Chromium; the local runner and the Lambdas wire the same adapters.
 */

import type { RecordedTraffic } from "./domain/evidence/model.ts";
import type { EffectiveNoiseRules, NoiseRules } from "./domain/extract/noise-rule-types.ts";
import type {
  ArtifactRef,
  CaptureRecord,
  ChallengeRetry,
  ConsentAttempt,
  Edit,
  EditEntry,
  RecapturePolicy,
  UrlProbeState,
  UrlRecord,
  Validity,
  VersionRecord,
} from "./domain/model.ts";
import type { SourceLink, SourceRecord } from "./domain/sources/model.ts";

/** What reading the archive needs of the blob store (the API function reads and never writes). */
export interface BlobReader {
  /** Reads a stored blob back (previous versions' articles, for diffing). */
  getBlob(ref: ArtifactRef): Promise<Uint8Array>;
  /** A short-lived GET link that serves the blob with its content type and file name. */
  presignGet(
    ref: ArtifactRef,
    options: { expiresInSeconds: number; disposition: "inline" | "attachment" },
  ): Promise<string>;
}

export interface BlobStore extends BlobReader {
  /**
   * Stores bytes under a content-addressed key; identical bytes are stored once. Digests in
   * `alreadyStored` (a committed version's artifacts) are known to be stored and are not sent again.
   */
  putBlob(
    body: Uint8Array,
    meta: { contentType: string; fileName: string },
    options?: { alreadyStored?: ReadonlySet<string> },
  ): Promise<ArtifactRef>;
}

export interface ArchiveRepository {
  getUrl(urlId: string): Promise<UrlRecord | null>;
  /** Creates the URL record if it does not exist yet; returns the stored record either way. */
  ensureUrl(url: UrlRecord): Promise<UrlRecord>;
  putCapture(capture: CaptureRecord): Promise<void>;
  /** Records many new captures at once (fresh ids, so no conditions are needed). */
  putCaptures(captures: CaptureRecord[]): Promise<void>;
  getCapture(captureId: string): Promise<CaptureRecord | null>;
  /**
   * Moves a capture from queued/running to running and counts the attempt. Returns null when the
   * capture is already finished (a redelivered message), so the worker does nothing twice.
   */
  startCapture(captureId: string, startedAt: string): Promise<CaptureRecord | null>;
  /**
   * Records how a queued or running capture ended: its status and what the finish decided (the
   * version, artifacts, error, timings); identity, request and attempt fields stay as stored. A
   * finished capture is final: finishing it again changes nothing.
   */
  finishCapture(capture: CaptureRecord): Promise<void>;
  listCaptures(urlId: string, options: { limit: number; cursor?: string }): Promise<Page<CaptureRecord>>;
  getVersion(urlId: string, versionId: string): Promise<VersionRecord | null>;
  /**
   * The URL's history, oldest first: its versions in the order they were recorded, from its first to
   * its latest (see `inRecordedOrder`); a stored version that never became the latest is not in it.
   */
  listVersions(urlId: string): Promise<VersionRecord[]>;
  /**
   * Stores a version record, once: returns false when one with its id is already stored (a
   * redelivered capture). It joins the URL's history when `recordCaptureOnUrl` makes it the latest.
   * With `replace`, a stored one is overwritten (an earlier attempt's, never made the latest).
   */
  putVersion(version: VersionRecord, options?: { replace?: boolean }): Promise<boolean>;
  /** Deletes a stored version that never became the latest (another capture moved the pointer first). */
  withdrawVersion(urlId: string, versionId: string): Promise<void>;
  /**
   * Sets (or, with null, clears) when the URL is next due; due URLs sit in a sparse, sharded
   * index that the sweeper reads.
   */
  setNextCapture(urlId: string, nextCaptureAt: string | null): Promise<void>;
  /** Changes the URL's recapture policy and its next time together. */
  setRecapture(
    urlId: string,
    policy: RecapturePolicy,
    nextCaptureAt: string | null,
  ): Promise<UrlRecord | null>;
  /**
   * URLs of one index shard due at or before `dueBy`, soonest first: those on their schedule, or
   * with `pending`, those with a pending capture (its parked slot or lease end). The two are kept
   * apart so a sweep tends pending captures without reading the scheduled backlog. A URL whose
   * capture was claimed before the split may still be listed among the scheduled ones, with its
   * `pendingCaptureId`, until a sweep extends or replaces that capture.
   */
  listDue(
    shard: number,
    dueBy: string,
    options: { limit: number; cursor?: string; pending?: boolean },
  ): Promise<Page<DueUrl>>;
  /**
   * Claims a due URL for one capture, on condition that its due key is still `claim.seen.dueAt` and
   * its pending capture still `claim.seen.pendingCaptureId` (none when absent). Overlapping sweeps
   * race here and exactly one wins. The URL then records `captureId` as its pending capture, shows
   * `startAt` as its next capture time, and is due again at `dueAt`: the capture's parked slot
   * (`parked`: a sweep sends its message then) or a lease after which a sweep checks on it.
   */
  claimDue(claim: DueClaim): Promise<boolean>;
  /**
   * Records `captureId` as the URL's pending capture when it has none (a submission), with the
   * same fields as a claim. False when another capture is pending: the new one then runs beside it
   * and leaves the URL's schedule to that one.
   */
  holdPending(claim: Omit<DueClaim, "seen">): Promise<boolean>;
  /**
   * Moves the due key of a URL whose pending capture is still `captureId` and whose due key is still
   * `seenDueAt` to `dueAt`, no longer parked (its message is sent, or it is still running).
   */
  extendPending(urlId: string, captureId: string, seenDueAt: string, dueAt: string): Promise<boolean>;
  /**
   * Ends the URL's pending capture `captureId` (or, when none is pending, a capture that never was
   * one) by setting the next capture time. When another capture is pending it owns the schedule, and
   * nothing is written: false.
   */
  releasePending(urlId: string, captureId: string, nextCaptureAt: string | null): Promise<boolean>;
  /** Captures across the archive, newest request first. */
  listRecentCaptures(options: { limit: number; cursor?: string }): Promise<Page<CaptureRecord>>;
  /** Flagged edits across the archive, newest first. */
  listEdits(options: { limit: number; cursor?: string }): Promise<Page<EditEntry>>;
  /**
   * Records a succeeded capture on its URL in one conditional write: counts it (once per capture,
   * however often called), makes `version` the latest, and sets the next capture time. The write
   * holds only while the URL still has the latest version and recapture policy of `seen`, so an
   * outcome decided from a stale read is never recorded; then the URL as it is now comes back.
   */
  recordCaptureOnUrl(
    update: CaptureOnUrl,
  ): Promise<{ recorded: true } | { recorded: false; current: UrlRecord | null }>;
  /** A URL's or a source's own noise rules; null when none are set. @default - no rules anywhere */
  getNoiseRules?(scope: NoiseRuleScope, id: string): Promise<NoiseRules | null>;
  /** Sets (or, with null, clears) a URL's or a source's noise rules. */
  putNoiseRules?(scope: NoiseRuleScope, id: string, rules: NoiseRules | null): Promise<void>;
  /** The rules in force for a URL: its own and those of the sources that found it, merged. */
  noiseRulesForUrl?(urlId: string): Promise<EffectiveNoiseRules>;
  /** Makes a source's rules apply to a URL it found (and, with null rules, stop applying). */
  applySourceNoiseRules?(sourceId: string, urlId: string, rules: NoiseRules | null): Promise<void>;
}

/** What noise rules are set on. */
export type NoiseRuleScope = "url" | "source";

/** A succeeded capture as its URL records it. */
export interface CaptureOnUrl {
  /** The URL as read when the capture's outcome was decided. */
  seen: UrlRecord;
  captureId: string;
  capturedAt: string;
  /** Counts the capture; false when a delivery of the same capture already counted it. */
  count: boolean;
  /** A version stored with `putVersion` that becomes the URL's latest. */
  version?: VersionRecord;
  /**
   * What the capture showed: recorded as the URL's `lastValidity`; one that is not `ok` starts (or
   * continues) the URL's `notOkSince`, an `ok` one ends it.
   */
  validity?: Validity;
  /**
   * `UrlRecord.unconfirmedTextSha256` to set, or null to clear it (absent: kept, for a capture
   * with no verdict of its own).
   */
  unconfirmedTextSha256?: string | null;
  /** When the URL is next due; null takes it off the schedule. */
  nextCaptureAt: string | null;
  /** The retry planned after a challenge (`UrlRecord.challengeRetry`); null clears it; absent keeps it. */
  challengeRetry?: ChallengeRetry | null;
  /** How the capture changes what its URL learned for HTTP probes (`UrlRecord.probe`), in the same update. */
  probe?: ProbeWrite;
}

/**
 * A change to a URL's `probe` state, each guarded by the same conditional write as the capture,
 * so that learning never goes back in time (a failed guard fails the whole write, and the caller
 * decides again against the URL as it is now):
 * - `http`: an HTTP probe moves on the state it read; only while `probe.browserAt` and
 *   `probe.httpCount` are still `from`'s (no browser capture learned, no other probe counted);
 * - `browser`: a browser capture's learning; only while no learning is newer than its `browserAt`;
 * - `clear`: forgets it (probes are off, or the URL is not recaptured): nothing stale is resumed.
 */
export type ProbeWrite =
  | { kind: "http"; state: UrlProbeState; from: Pick<UrlProbeState, "browserAt" | "httpCount"> }
  | { kind: "browser"; state: UrlProbeState }
  | { kind: "clear" };

export interface DueUrl {
  urlId: string;
  url: string;
  /** When the URL came due in the index: its next capture time, a parked slot, or a lease. */
  dueAt: string;
  /** The capture the URL waits for, if any: parked (its message not sent yet) or leased. */
  pendingCaptureId?: string;
  parked?: boolean;
}

/** What a sweep (or a submission) records on a URL it takes a capture of; see `claimDue`. */
export interface DueClaim {
  urlId: string;
  /** The URL as the due index listed it. */
  seen: { dueAt: string; pendingCaptureId?: string };
  captureId: string;
  /** When the capture is to start (its host slot): the URL's next capture time meanwhile. */
  startAt: string;
  /** When the URL is due again in the index: the parked slot, or the lease. */
  dueAt: string;
  /** The capture's message is not sent yet: the sweep that finds the URL due at `dueAt` sends it. */
  parked: boolean;
}

export interface Page<T> {
  items: T[];
  cursor?: string;
}

/** The event published for every flagged edit (EventBridge detail / webhook body). */
export interface ArticleEditedEvent {
  type: "ArticleEdited";
  urlId: string;
  url: string;
  versionId: string;
  previousVersionId: string;
  captureId: string;
  capturedAt: string;
  title: string | null;
  edit: Edit;
  summary: string;
  revertOf?: string;
}

export interface EditPublisher {
  /** Delivers the event to subscribers; retries transient failures itself and throws only when it gave up. */
  publish(event: ArticleEditedEvent): Promise<void>;
}

/**
 * Politeness towards the sites we archive: at most `maxConcurrent` captures of one host at a
 * time, and at least `minGapMs` between the starts of two captures of the same host.
 */
export interface HostGate {
  /** Takes a slot for the capture, or says how long to wait before asking again. */
  acquire(
    host: string,
    captureId: string,
    now: Date,
  ): Promise<{ granted: true; slot: number } | { granted: false; retryAfterMs: number }>;
  release(host: string, slot: number, captureId: string): Promise<void>;
}

/** Which schedule of a host a capture takes its start from. */
export type HostLane = "scheduled" | "interactive";

/**
 * The start schedule of each host (politeness decided before a message is queued): the next free
 * start per host and lane, changed atomically per host.
 */
export interface HostSlots {
  /**
   * Reads the next free start of `host` on `lane` (epoch ms; undefined before its first capture),
   * lets `plan` reserve starts from it, and stores the plan's `nextFree`. A concurrent reservation
   * of the same host makes `plan` run again on the new value, so no two starts are ever given twice.
   */
  reserve<T>(
    host: string,
    lane: HostLane,
    plan: (nextFree: number | undefined) => { nextFree: number; result: T },
  ): Promise<T>;
}

export interface CaptureQueue {
  enqueue(message: CaptureMessage, options?: { delaySeconds?: number }): Promise<void>;
  /**
   * Sends many messages with as few calls as the queue allows, each held back by its own
   * `delaySeconds` (at most 900, SQS's limit): how host shaping spreads a sweep over time.
   */
  enqueueBatch?(entries: Array<{ message: CaptureMessage; delaySeconds?: number }>): Promise<void>;
  /** About how many messages wait or are in flight (may lag by seconds). */
  depth?(): Promise<number>;
}

/**
 * How long the oldest message of the capture queue has waited. On AWS that is CloudWatch's
 * `ApproximateAgeOfOldestMessage` (SQS has no queue attribute for it); the local file queue knows
 * it directly.
 */
export interface QueueAgeReader {
  /** Seconds, or undefined when unknown (no datapoint yet, the metric service unreachable). */
  oldestMessageAgeSeconds(): Promise<number | undefined>;
}

export interface CaptureMessage {
  captureId: string;
  /**
   * The request that asked for the capture (the API's request id), carried through the queue so
   * the worker's log lines can be found beside the API's. @default - none (sweeps, polls)
   */
  correlationId?: string;
}

/** Resolves a host name to its addresses (A and AAAA). */
export type ResolveHost = (host: string) => Promise<string[]>;

export interface PageCaptureOptions {
  /** Cap on the navigation itself. */
  navigationTimeoutMs: number;
  /** Cap on waiting for the network to go idle after load. */
  idleTimeoutMs: number;
  /** Screenshot height cap in CSS pixels. */
  screenshotMaxHeight: number;
  /** Largest single resource inlined into the snapshot. */
  inlineResourceMaxBytes: number;
  /** Total budget of inlined resources per snapshot. */
  inlineTotalMaxBytes: number;
  /** Cap on the whole capture, from opening the page to the last artifact; past it, `timeout`. */
  totalTimeoutMs: number;
  /** Main-frame navigations after the first (HTTP redirects, script or meta refreshes) allowed. */
  maxRedirects: number;
  /** Elements the page's DOM may hold when it is serialised; past it, `too_large`. */
  maxDomElements: number;
}

/** Everything a browser load of one page yields. */
export interface PageCapture {
  /** The URL after redirects. */
  finalUrl: string;
  httpStatus: number;
  /**
   * The main document's response headers, names in lower case (repeated ones joined by newlines):
   * vendor headers tell a bot challenge apart. Absent from captures made before they were kept.
   */
  headers?: Record<string, string>;
  /** The main document's response body, as received. */
  raw: { body: Uint8Array; contentType: string };
  /** The rendered DOM as HTML before scripts were removed (input to extraction). */
  renderedHtml: string;
  /** Self-contained snapshot: scripts and handlers removed, styles and images inlined. */
  snapshotHtml: string;
  screenshot: { body: Uint8Array; contentType: string };
  timings: Record<string, number>;
  /** The consent dialog the capture answered (or could not), if the page showed one. */
  consent?: ConsentAttempt;
  /**
   * The page was loaded in a browser context no capture had been handed before (no cookie, storage
   * or cache from another page; chromium/fresh-context.ts). Absent where the capturer cannot tell,
   * which is read as not fresh.
   */
  freshContext?: boolean;
  /**
   * Every HTTP exchange of the capture as the browser made it, with the hosts it reached, its user
   * agent and version: the evidence package's raw material. Absent when recording is off.
   */
  traffic?: RecordedTraffic;
}

export interface PageCaptureHooks {
  /**
   * The page as first taken, before the capturer has checked that it stayed quiet while it was
   * taken: work on it can start now. `capture()` then resolves with this same object, or with
   * another if the page changed and was taken again (or fails, and it is discarded).
   */
  onTaken?(page: PageCapture): void;
}

export interface PageCapturer {
  /** Throws CaptureError with a reason code when the page cannot be captured. */
  capture(url: string, options: PageCaptureOptions, hooks?: PageCaptureHooks): Promise<PageCapture>;
  close(): Promise<void>;
}

/**
 * Signs evidence packages: ECDSA on P-256 with SHA-256. Locally a key kept under DATA_DIR, on AWS
 * an asymmetric KMS key whose private half never leaves KMS.
 */
export interface EvidenceSigner {
  /** The public key as DER SubjectPublicKeyInfo. */
  publicKey(): Promise<Uint8Array>;
  /** The signature of `message` (hashed with SHA-256 by the signer) as IEEE P1363 `r‖s`, 64 bytes. */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** What a guarded GET sends: the validators of the last full answer, and what it accepts. */
export interface HttpFetchOptions {
  /** Sent as `If-None-Match`. */
  etag?: string | undefined;
  /** Sent as `If-Modified-Since`. */
  lastModified?: string | undefined;
  /** @default a list that prefers feeds, then XML and HTML */
  accept?: string;
}

/** The answer of a guarded GET: a 304, or a 2xx body (other statuses throw `http_error`). */
export type HttpFetchResult =
  | {
      notModified: true;
      status: 304;
      finalUrl: string;
      etag?: string;
      lastModified?: string;
      /** Every URL redirected through, in order. */
      redirects: readonly string[];
    }
  | {
      notModified: false;
      status: number;
      /** The URL after redirects. */
      finalUrl: string;
      contentType: string | undefined;
      /** The body with any Content-Encoding undone. */
      body: Uint8Array;
      etag?: string;
      lastModified?: string;
      /** The address the last hop connected to (the one the guard checked). */
      address: string;
      /** Every URL redirected through, in order. */
      redirects: readonly string[];
      /** The response headers, names in lower case (repeated ones joined by newlines). */
      headers: Record<string, string>;
    };

/**
 * One plain HTTP GET (no browser) under the rules of captures: the URL guard for every hop, each
 * host resolved once and only the checked address connected to, caps on size, time and redirects.
 * Throws FetchError with a code.
 */
export interface HttpFetcher {
  fetch(url: string, options?: HttpFetchOptions): Promise<HttpFetchResult>;
}

/** A source due for its next poll, as the due index lists it. */
export interface DueSource {
  sourceId: string;
  nextPollAt: string;
}

/** What one poll decided, recorded on the source in one write. */
export interface PollRecord {
  polledAt: string;
  /** When the source is next due; ignored (left unscheduled) while it is paused. */
  nextPollAt: string;
  /** Null clears the last error. */
  error: SourceRecord["lastError"] | null;
  /** URLs newly linked by this poll, added to `articleCount`. */
  linked: number;
  /**
   * The `linkPattern` the poll read the source with (null: none). The document's validators and
   * digest (`etag`, `lastModified`, `bodySha256`) are written only while the source still has it:
   * a PATCH of the pattern during the poll dropped them so that the next poll reads the document
   * whole, and this poll's must not bring them back.
   */
  linkPattern: string | null;
  /**
   * The `nextPollAt` the poll's message was sent for (the sweep's lease). When given, the poll sets
   * the next time only while the source is still due then: a PATCH, a resume or an earlier delivery
   * of the same message that set another time keeps it. Absent for messages sent before it existed.
   */
  lease?: string;
  /** Fields the poll learned (validators, body digest, entries seen, title, format). */
  set?: Partial<
    Pick<SourceRecord, "etag" | "lastModified" | "bodySha256" | "seen" | "title" | "format" | "lastFoundAt">
  >;
}

/** Changes a caller may make to a source (`PATCH /v1/sources/{id}`). */
export type SourceSettings = Partial<
  Pick<SourceRecord, "pollEveryMinutes" | "recapture" | "linkPattern" | "paused">
>;

/** Sources, their due index and the URLs they found (see table-schema.ts for the keys). */
export interface SourceRepository {
  /** Stores a new source unless one already polls the same URL: then that one's id comes back. */
  createSource(
    source: SourceRecord,
  ): Promise<{ created: true } | { created: false; existingSourceId: string }>;
  getSource(sourceId: string): Promise<SourceRecord | null>;
  /** Every source, newest first. */
  listSources(options: { limit: number; cursor?: string }): Promise<Page<SourceRecord>>;
  /**
   * Applies `settings` and sets when the source is next due (null: off the schedule, as while
   * paused). A new `linkPattern` forgets the document's validators and digest, so the next poll
   * reads it whole with the pattern. Returns the source as stored now, or null when there is none.
   */
  updateSource(
    sourceId: string,
    settings: SourceSettings,
    nextPollAt: string | null,
  ): Promise<SourceRecord | null>;
  /** Deletes the source (it stops polling); the URLs it found and their archives stay. False if absent. */
  deleteSource(sourceId: string): Promise<boolean>;
  /** Sources of one due-index shard due at or before `dueBy`, soonest first. */
  listDueSources(
    shard: number,
    dueBy: string,
    options: { limit: number; cursor?: string },
  ): Promise<Page<DueSource>>;
  /** Claims a due source for one sweep (conditional on its next time still being `seen`). */
  claimDueSource(sourceId: string, seenNextPollAt: string, leaseUntil: string): Promise<boolean>;
  /** Records a poll's outcome; false when the source was deleted meanwhile (nothing is written). */
  recordPoll(sourceId: string, record: PollRecord): Promise<boolean>;
  /**
   * Puts a poll that could not run (its host was busy) back on the source's schedule at
   * `nextPollAt`, for a later sweep to send; nothing else changes. False when the source was
   * deleted or paused meanwhile, or (given the message's `lease`) is no longer due at that lease:
   * then whoever moved it (a PATCH, a resume, another delivery's poll) owns the schedule.
   */
  deferPoll(sourceId: string, nextPollAt: string, lease?: string): Promise<boolean>;
  /** Links a URL to the source, once: false when it was linked already. */
  linkUrl(link: SourceLink): Promise<boolean>;
  /** The URLs the source found, newest first. */
  listSourceUrls(sourceId: string, options: { limit: number; cursor?: string }): Promise<Page<SourceLink>>;
}

/** A poll job: one source, polled by the poll worker. */
export interface PollMessage {
  kind: "poll";
  sourceId: string;
  /**
   * The source's `nextPollAt` when the message was sent (the sweep's lease, or a new source's
   * first-poll lease): the poll's schedule writes hold only while it is still so. Absent in
   * messages sent before it existed.
   */
  lease?: string;
}

/** Where poll jobs go (their own queue on AWS; a second file queue under `npm start`). */
export interface PollQueue {
  enqueue(message: PollMessage, options?: { delaySeconds?: number }): Promise<void>;
  enqueueBatch?(messages: PollMessage[]): Promise<void>;
}
