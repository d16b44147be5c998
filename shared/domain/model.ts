/**
 * Records the archive keeps, and the edit it flags between two versions. Pure data: no AWS, no
 * Playwright, and no imports, so every other module can depend on it.
 */

export type CaptureStatus = "queued" | "running" | "succeeded" | "failed";

export type RecapturePolicy = "adaptive" | "off" | { everyMinutes: number };

export type ArtifactName =
  | "snapshot"
  | "screenshot"
  | "article"
  | "text"
  | "raw"
  | "diff"
  | "diffHtml"
  /** The signed evidence package (WACZ) of a capture that made a version. */
  | "wacz";

/** An artifact stored once under a content-addressed key. */
export interface ArtifactRef {
  key: string;
  contentType: string;
  bytes: number;
  sha256: string;
  /** The file name offered when the artifact is downloaded. */
  fileName: string;
}

/** What kind of change an edit is; several may apply to one edit. */
export type EditKind =
  | "headline"
  | "byline"
  | "added"
  | "removed"
  | "changed"
  | "number"
  | "quote"
  | "correction"
  | "moved"
  /** Lifecycle kinds, set by the archive rather than the text diff: the page now answers 404/410, */
  | "removed_article"
  /** it answers again after being removed, */
  | "restored_article"
  /** or it now redirects to another URL. */
  | "redirected";

/** How big an edit is: minor is spelling- and typography-level only. */
export type Significance = "minor" | "major";

/** The sizes behind an edit, counted by the diff. */
export interface EditStats {
  sentencesBefore: number;
  sentencesAfter: number;
  sentencesAdded: number;
  sentencesRemoved: number;
  /** Sentence pairs matched as the same sentence reworded. */
  sentencesChanged: number;
  /** Identical sentences that now sit elsewhere. */
  sentencesMoved: number;
  wordsBefore: number;
  wordsAfter: number;
  /** Words in added sentences plus words inserted inside changed sentences (moves excluded). */
  wordsInserted: number;
  wordsDeleted: number;
  /** (wordsInserted + wordsDeleted) / (wordsBefore + wordsAfter), 0 to 1, four decimals. */
  changeRatio: number;
}

/**
 * How a version differs from the one before: the flagged edit the API reports. The diff
 * (`shared/domain/diff/`) computes it from the text; the capture adds the lifecycle kinds.
 */
export interface Edit {
  /** minor = spelling/typography-level changes only; major = anything else. */
  significance: Significance;
  kinds: EditKind[];
  /**
   * The text changed but the page's declared modification time did not (see `isStealthEdit` in
   * diff/classify.ts).
   */
  stealth: boolean;
  stats: EditStats;
}

/**
 * What a capture showed: the article (`ok`), or something standing in its place. Only `ok`
 * captures make versions and edits (a `paywall` teaser is tracked only against other teasers, see
 * shared/domain/validity/). `soft_404` on a URL that had an article is its removal.
 */
export type Validity = "ok" | "challenge" | "consent_wall" | "paywall" | "soft_404" | "empty" | "error_page";

export interface CaptureFailure {
  code: string;
  message: string;
}

/** Why a version has no evidence package, a sentence a person can read, and its stable code. */
export type EvidenceMissingCode = "signing_failed" | "packaging_failed" | "storage_error";

/**
 * A version kept without its evidence package (WACZ): the package could not be signed (the key
 * unreachable), built, or stored, after a few tries in the same delivery. The version is never
 * given up for its package; this says why it has none, on the version and on its capture.
 */
export interface EvidenceMissing {
  status: "missing";
  code: EvidenceMissingCode;
  message: string;
}

export interface CaptureRecord {
  captureId: string;
  urlId: string;
  url: string;
  status: CaptureStatus;
  requestedAt: string;
  startedAt?: string;
  finishedAt?: string;
  attempts: number;
  /**
   * When the capture may start: the slot its host's politeness gave it (host-shaping.ts). Its
   * message reaches the queue then; absent for captures recorded before slots existed.
   */
  notBefore?: string;
  /** What asked for this capture: a person (the API), the re-capture schedule, or a followed source. */
  trigger?: "api" | "schedule" | "source";
  versionId?: string;
  /** True only when this capture made a new version that differs from an earlier one. */
  changed?: boolean;
  /** The flagged edit, when this capture made a new version that differs from the previous one. */
  edit?: Edit;
  finalUrl?: string;
  httpStatus?: number;
  /** The capture found the page removed (HTTP 404/410, or a page that says it is gone). */
  removed?: boolean;
  /** What the page showed, for a succeeded capture: the article, or what stood in its place. */
  validity?: Validity;
  /** Why the capture was judged so, in a sentence a person can read. */
  validityReason?: string;
  error?: CaptureFailure;
  artifacts?: Partial<Record<ArtifactName, ArtifactRef>>;
  /** Set when the capture made a version whose evidence package could not be made (see EvidenceMissing). */
  evidence?: EvidenceMissing;
  /** Per-phase timings in milliseconds, for evidence and benchmarking. */
  timings?: Record<string, number>;
  /** The consent dialog the capture answered (or found unanswerable), if the page showed one. */
  consent?: ConsentAttempt /**
   * Where the captured text came from: the extracted `article`, or, for a page with no article the
   * extractor could find, the page's main text (`fallback`: body text without navigation, header,
   * footer and asides), which is then what the capture is compared by.
   */;
  extraction?: "article" | "fallback";
  /**
   * How the page was read: in Chromium (`browser`), or by one plain HTTP request that found the
   * text unchanged (`http`, see shared/domain/capture/probe-capture.ts). Absent on captures made
   * before probes existed, which all used the browser: read it with `captureMethod`.
   */
  method?: CaptureMethod;
  /** What the HTTP probe of a scheduled recapture did, and why; absent when none was considered. */
  probe?: ProbeNote;
  /** Set when this capture retried the page after an earlier capture met a bot challenge. */
  challengeRetried?: ChallengeRetried;
}

/** How a capture read the page. */
export type CaptureMethod = "browser" | "http";

/** The capture's method; captures recorded before the field existed used the browser. */
export function captureMethod(capture: Pick<CaptureRecord, "method">): CaptureMethod {
  return capture.method ?? "browser";
}

/**
 * What the HTTP probe did for a scheduled recapture: `unchanged` (the probe alone recorded it),
 * `declined` (it ran and found a difference or a doubt, so the browser captured the page), or
 * `not_tried` (the URL is not one a probe may vouch for now: not server-rendered, or its browser
 * capture is due).
 */
export interface ProbeNote {
  outcome: "unchanged" | "declined" | "not_tried";
  /** Why, in a sentence a person can read. */
  reason: string;
}

/**
 * What the last browser capture of a URL learned for HTTP probes (the URL item's `probe` map in
 * DynamoDB): whether its article is server-rendered (the raw response's article equals the rendered
 * page's, under the same noise rules), and what a probe must find to vouch for an unchanged page.
 */
export interface UrlProbeState {
  /** The raw HTML's article was the rendered page's, and the page showed its article from the server. */
  serverRendered: boolean;
  /** Why it is not, in a sentence; absent when it is. */
  reason?: string;
  /** The comparable text's hash the browser capture found (raw and rendered alike when server-rendered). */
  textSha256: string;
  /** The version that browser capture was recorded under: a probe vouches only while it is the latest. */
  versionId?: string;
  /** The noise rules in force then (`noiseRulesKey`): changed rules make the next capture a browser one. */
  rulesKey: string;
  /** The main document's status and final URL (normalised) then. */
  httpStatus: number;
  finalUrl: string;
  /**
   * The hash of the raw HTML's inline data scripts (`inlineDataSha256`), when it had any: a probe
   * that finds them changed declines, since scripts may render the article from them.
   */
  inlineDataSha256?: string;
  /** The validators the server sent (only a strong ETag is ever sent back: probe-policy.ts). */
  etag?: string;
  lastModified?: string;
  /** When the last browser capture was made. */
  browserAt: string;
  /** Unchanged HTTP captures since then. */
  httpCount: number;
}

/**
 * A consent dialog met during a capture and what was done about it: refusal where offered
 * ("Reject all", "Continue without accepting"), else acceptance, else closing it.
 */
export interface ConsentAttempt {
  /** The platform (`onetrust`, `didomi`, `sourcepoint`, `quantcast`, `trustarc`, `usercentrics`, `funding-choices`), or `generic`. */
  cmp: string;
  /** `none`: a dialog was shown but offered no control the capture would use. */
  action: "reject" | "continue_without_accepting" | "accept" | "close" | "none";
  /** `main`, or the origin of the iframe the dialog was drawn in. */
  frame: string;
  /** The clicked control's text. */
  label?: string;
  /** Whether the dialog was gone once answered. */
  dismissed: boolean;
}

/**
 * What Palimpsest does after a capture meets a bot challenge: it never solves it, and tries the
 * page once more later (at the backoff's time, validity/backoff.ts), in a browser context of its
 * own. One retry per run of challenges: when that retry is challenged too, nothing more is planned
 * and the URL stays on the wall backoff (which goes on retrying with growing gaps) until a capture
 * shows anything but a challenge.
 */
export interface ChallengeRetry {
  /** When the retry is due (the URL's `nextCaptureAt` as the challenge left it). */
  at: string;
  /** The capture that met the challenge. */
  afterCaptureId: string;
}

/** On the capture that retried a challenged page: after which capture, how, and what it met. */
export interface ChallengeRetried {
  afterCaptureId: string;
  /**
   * The retry ran in a browser context no capture had used before, as its capturer reported it
   * (`PageCapture.freshContext`): false when it could not tell.
   */
  freshContext: boolean;
  /**
   * The retry met a challenge again: no further challenge retry is planned, and the URL is retried
   * on the wall backoff.
   */
  stillChallenged?: true;
}

export interface UrlRecord {
  urlId: string;
  url: string;
  title?: string;
  captureCount: number;
  versionCount: number;
  firstCapturedAt?: string;
  lastCapturedAt?: string;
  nextCaptureAt?: string;
  recapture: RecapturePolicy;
  latestVersionId?: string;
  latestTextSha256?: string;
  lastCaptureId?: string;
  /**
   * The capture the URL waits for (sweep.ts): while it is set, no sweep takes another capture of
   * the URL, and `nextCaptureAt` says when that capture starts.
   */
  pendingCaptureId?: string;
  /** The pending capture's message is not sent yet: a sweep sends it at its slot. */
  parked?: boolean;
  /** When the article last changed (a new version was made). */
  lastChangedAt?: string;
  /** The validity of the URL's last succeeded capture. */
  lastValidity?: Validity;
  /**
   * Set while the URL's captures are not `ok`: when the first of the current run of them was
   * captured (an outlet that started blocking us). Cleared by the next `ok` capture.
   */
  notOkSince?: string;
  /** Paywall verdicts since the last `ok` capture (walls of other classes between them do not reset it). */
  paywallsSinceOk?: number;
  /**
   * The text (its textSha256) of the last capture if it was `empty` by the history alone on a page
   * that presents itself as the article (`ValidityVerdict.maybeNewText`): the next capture with the
   * same text confirms it as the article's new text. Cleared by any other capture.
   */
  unconfirmedTextSha256?: string;
  /**
   * Set while the URL's last capture met a bot challenge and its one retry is still to come: the
   * retry planned after it (cleared by that retry, whatever it shows, and by any capture that shows
   * anything but a challenge).
   */
  challengeRetry?: ChallengeRetry;
  /** What browser captures learned for HTTP probes; absent until a browser capture with probes on. */
  probe?: UrlProbeState;
  createdAt: string;
}

export interface VersionRecord {
  versionId: string;
  urlId: string;
  captureId: string;
  capturedAt: string;
  title?: string;
  textSha256: string;
  /** The version this one follows; absent for the first. */
  previousVersionId?: string;
  /** The page's declared modification time when this version was captured. */
  modifiedTime?: string;
  /** How this version differs from the previous one; absent for the first. */
  edit?: Edit;
  /** A one-line human summary of the edit. */
  summary?: string;
  /** Set when the text returned to that of an older version (an edit undone). */
  revertOf?: string;
  /**
   * The page answered 404/410: the article was removed. No text; the artifacts are what the URL
   * showed instead (snapshot, screenshot, raw response), when the browser could take them.
   */
  removed?: boolean;
  httpStatus?: number;
  /** Where the URL redirected to, when it did. */
  finalUrl?: string;
  /**
   * The version is a paywall teaser: the URL has only ever shown its teaser, which is tracked
   * against other teasers (headline and lede edits are real) and never against a full text.
   */
  teaser?: boolean;
  /** The article, snapshot, screenshot…, plus `diff`/`diffHtml` against the previous version. */
  artifacts: Partial<Record<ArtifactName, ArtifactRef>>;
  /** Set when the version was kept without its evidence package, and why (see EvidenceMissing). */
  evidence?: EvidenceMissing;
  /** The noise rules' selectors the article was extracted under (one a line); absent for none. */
  noiseSelectors?: string;
}

/** A flagged edit as listed newest first across the archive. */
export interface EditEntry {
  urlId: string;
  url: string;
  versionId: string;
  previousVersionId?: string;
  capturedAt: string;
  title?: string;
  edit: Edit;
  summary?: string;
  revertOf?: string;
}

/** The article as extracted from a rendered page. */
export interface Article {
  title: string | null;
  byline: string | null;
  publishedTime: string | null;
  modifiedTime: string | null;
  lang: string | null;
  text: string;
}

/**
 * A URL's history: its versions in the order they were recorded. Each version names the one that
 * was the latest when it was committed (`previousVersionId`), and commits are conditional on that,
 * so the history is the chain from the URL's latest version back to its first. A version off that
 * chain was stored by a capture that never committed it (a worker that died, a lost race) and is
 * not history. Version ids follow the order captures were requested, which two captures of one URL
 * running at once can commit the other way round. Without a whole chain (a version missing in the
 * middle, no latest given and more than one candidate) every version is returned, in id order.
 */
export function inRecordedOrder(
  versions: readonly VersionRecord[],
  latestVersionId?: string,
): VersionRecord[] {
  const byId = new Map(versions.map((v) => [v.versionId, v]));
  let head: VersionRecord | undefined;
  if (latestVersionId !== undefined) {
    head = byId.get(latestVersionId);
  } else {
    const named = new Set(versions.map((v) => v.previousVersionId));
    const heads = versions.filter((v) => !named.has(v.versionId));
    if (heads.length === 1) head = heads[0];
  }
  const chain: VersionRecord[] = [];
  for (let v = head; v && chain.length < versions.length; ) {
    chain.push(v);
    v = v.previousVersionId === undefined ? undefined : byId.get(v.previousVersionId);
  }
  // Whole only if it ends at the first version (one with no previous).
  const whole = chain.length > 0 && chain.at(-1)?.previousVersionId === undefined;
  return whole ? chain.reverse() : [...versions];
}
