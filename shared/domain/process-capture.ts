/**
 * The capture worker's domain: load the page, store its artifacts, extract the article, and
 * decide whether it is a new version. Every step is safe to repeat, because SQS may deliver the
 * same message twice and a worker may die anywhere.
 *
 * What follows the browser is kept short, because it adds to every capture's latency: the URL and
 * its latest version are read while the page loads; the uploads go out together while the outcome
 * is decided; then one write stores a new version, one conditional write records the capture on
 * its URL (latest pointer, counts and next capture time together), and one finishes the capture.
 * The host's politeness slot is given back as soon as the browser is done with the host.
 */
import { CaptureError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type {
  ArchiveRepository,
  BlobReader,
  BlobStore,
  EditPublisher,
  HostGate,
  PageCapture,
  PageCaptureOptions,
  PageCapturer,
} from "../ports.ts";
import { diffArticles, summariseEdit } from "./diff/index.ts";
import { sha256Hex, versionIdForCapture } from "./ids.ts";
import type {
  Article,
  ArtifactName,
  ArtifactRef,
  CaptureRecord,
  Edit,
  EditKind,
  UrlRecord,
  VersionRecord,
} from "./model.ts";
import { comparableArticle } from "./normalise-text.ts";
import { type CadenceStep, nextCaptureTime } from "./schedule.ts";
import { normaliseUrl } from "./url.ts";

export type ExtractArticle = (html: string, options: { url: string }) => Article | null;

export interface ProcessCaptureDeps {
  repository: ArchiveRepository;
  blobs: BlobStore;
  capturer: PageCapturer;
  extract: ExtractArticle;
  captureOptions: PageCaptureOptions;
  maxAttempts: number;
  /** The adaptive re-capture curve. @default DEFAULT_CADENCE */
  cadence?: readonly CadenceStep[];
  /** Per-host politeness; absent means no limit (tests of single captures). */
  hostGate?: HostGate;
  /** Tells subscribers of flagged edits; absent when nobody listens. */
  publisher?: EditPublisher;
  logger: Logger;
  now?: () => Date;
}

export type ProcessOutcome =
  | { kind: "skipped"; reason: "not_found" | "already_finished" }
  | { kind: "succeeded"; capture: CaptureRecord }
  | { kind: "failed"; capture: CaptureRecord }
  /** A transient failure with attempts left: the message should be redelivered. */
  | { kind: "retry"; error: CaptureError }
  /** The host is busy (politeness): send the message again after `delayMs`; no attempt was used. */
  | { kind: "deferred"; delayMs: number };

const encoder = new TextEncoder();

/** The first <title> of a page, for pages with no extractable article. */
function documentTitle(html: string): string | null {
  const match = /<title[^>]*>([^<]*)<\/title>/i.exec(html);
  const title = match?.[1]?.replace(/\s+/g, " ").trim();
  return title ? title : null;
}

/** Starts `work` now to await it later; a failure in between is then not an unhandled rejection. */
function inBackground<T>(work: Promise<T>): Promise<T> {
  work.catch(() => {});
  return work;
}

export async function processCapture(deps: ProcessCaptureDeps, captureId: string): Promise<ProcessOutcome> {
  const now = deps.now ?? (() => new Date());
  const log = deps.logger.child({ captureId });
  const existing = await deps.repository.getCapture(captureId);
  if (!existing) {
    log.warn("capture not found; dropping message");
    return { kind: "skipped", reason: "not_found" };
  }
  if (existing.status !== "queued" && existing.status !== "running") {
    return { kind: "skipped", reason: "already_finished" };
  }
  const host = new URL(existing.url).host;
  const hostGate = deps.hostGate;
  const gate = hostGate ? await hostGate.acquire(host, captureId, now()) : null;
  if (gate && !gate.granted) {
    log.debug("host busy; deferring", { host, delayMs: gate.retryAfterMs });
    return { kind: "deferred", delayMs: gate.retryAfterMs };
  }
  // The slot bounds how many captures load the host at once, so it is given back once the browser
  // is done with the page, while the artifacts are stored (the gap between starts was set on
  // acquiring). It is released however the capture ends, before the worker reports the outcome.
  let released: Promise<void> | undefined;
  const releaseSlot = () => {
    if (hostGate && gate?.granted) released ??= inBackground(hostGate.release(host, gate.slot, captureId));
  };
  try {
    return await startAndProcess(deps, captureId, log, releaseSlot);
  } finally {
    releaseSlot();
    // A slot not given back expires with its lease; the capture's outcome stands either way.
    await released?.catch((err: unknown) => log.warn("politeness slot not released", { err }));
  }
}

/** A URL as read, with its latest version (null before the first). */
interface UrlState {
  url: UrlRecord;
  latest: VersionRecord | null;
  /**
   * This capture's own version, made the latest by an earlier attempt that died before finishing,
   * and since followed by other versions: it stands as it is, and the latest stays where it is.
   */
  superseded?: VersionRecord;
  /** An earlier attempt stored this capture's version but never made it the latest: replace it. */
  replaceOwn?: boolean;
}

async function readUrlState(repository: ArchiveRepository, capture: CaptureRecord): Promise<UrlState> {
  const url = await repository.getUrl(capture.urlId);
  if (!url) throw new Error(`URL record ${capture.urlId} is missing for capture ${capture.captureId}`);
  const latest = await latestVersionOf(repository, url);
  const earlier = capture.attempts > 1 ? await earlierAttempt(repository, capture, latest) : undefined;
  return {
    url,
    latest,
    ...(earlier === "uncommitted" ? { replaceOwn: true } : earlier ? { superseded: earlier } : {}),
  };
}

/**
 * What an earlier attempt of this capture (a redelivery's predecessor) left behind. Its version,
 * if stored and not the latest, was either committed and then followed by another (a later version
 * names it as previous: returned, so it stands) or stored and never committed ("uncommitted": this
 * attempt decides afresh and overwrites it, rather than moving the latest to the stale record).
 * Nothing is deleted here: a duplicate delivery running at the same time may be about to make that
 * version the latest, and the pointer must never name a missing version.
 */
async function earlierAttempt(
  repository: ArchiveRepository,
  capture: CaptureRecord,
  latest: VersionRecord | null,
): Promise<VersionRecord | "uncommitted" | undefined> {
  const ownVersionId = versionIdForCapture(capture.captureId);
  if (latest?.versionId === ownVersionId) return undefined;
  const own = await repository.getVersion(capture.urlId, ownVersionId);
  if (!own) return undefined;
  const versions = await repository.listVersions(capture.urlId);
  return versions.some((v) => v.previousVersionId === ownVersionId) ? own : "uncommitted";
}

async function latestVersionOf(repository: ArchiveRepository, url: UrlRecord): Promise<VersionRecord | null> {
  if (url.latestVersionId === undefined) return null;
  const latest = await repository.getVersion(url.urlId, url.latestVersionId);
  if (!latest) throw new Error(`latest version ${url.latestVersionId} of ${url.urlId} is missing`);
  return latest;
}

async function startAndProcess(
  deps: ProcessCaptureDeps,
  captureId: string,
  log: Logger,
  browserDone: () => void,
): Promise<ProcessOutcome> {
  const now = deps.now ?? (() => new Date());
  const capture = await deps.repository.startCapture(captureId, now().toISOString());
  if (!capture) return { kind: "skipped", reason: "already_finished" };
  // What the capture will be compared with, read while the browser works. An outcome decided from
  // it is recorded only if the URL is still as read (see recordOnUrl).
  const known = inBackground(readUrlState(deps.repository, capture));

  try {
    return await captureAndStore(deps, capture, known, log, browserDone);
  } catch (err) {
    let error = err instanceof CaptureError ? err : classifyUnexpected(err);
    if (error.code === "http_error" && (error.httpStatus === 404 || error.httpStatus === 410)) {
      try {
        const gone = await recordGone(deps, capture, known, error, now().toISOString());
        if (gone) return gone;
      } catch (recordErr) {
        // Recording the removal failed (storage): retried like any other storage failure.
        error = recordErr instanceof CaptureError ? recordErr : classifyUnexpected(recordErr);
      }
    }
    if (error.retryable && capture.attempts < deps.maxAttempts) {
      log.warn("capture attempt failed; will retry", { code: error.code, attempt: capture.attempts, err });
      return { kind: "retry", error };
    }
    // A page that answered 404 or 410 before it was ever archived: what it showed is kept with the
    // failure, so the record says what the address served, not only its status.
    const evidence = error.evidence ? await storeEvidence(deps, error.evidence, log) : undefined;
    const failed: CaptureRecord = {
      ...capture,
      status: "failed",
      finishedAt: now().toISOString(),
      error: { code: error.code, message: error.message },
      ...(error.httpStatus !== undefined ? { httpStatus: error.httpStatus } : {}),
      ...(error.evidence && evidence ? { finalUrl: error.evidence.finalUrl, artifacts: evidence } : {}),
    };
    await deps.repository.finishCapture(failed);
    await scheduleNext(deps, capture.urlId, failed.finishedAt as string);
    log.info("capture failed", { code: error.code, attempts: capture.attempts });
    return { kind: "failed", capture: failed };
  }
}

const NO_TEXT_STATS = {
  sentencesBefore: 0,
  sentencesAfter: 0,
  sentencesAdded: 0,
  sentencesRemoved: 0,
  sentencesChanged: 0,
  sentencesMoved: 0,
  wordsBefore: 0,
  wordsAfter: 0,
  wordsInserted: 0,
  wordsDeleted: 0,
  changeRatio: 0,
};

/** The textSha256 a removal is recorded under: no article text hashes to it. */
const REMOVED_SHA = "removed";

/** What a capture leaves on its URL. */
interface Decision {
  /** The version the capture is recorded under: its own new one, or the latest it matched. */
  versionId: string;
  /** How the capture's version differs from the one before; absent for an unchanged page. */
  edit?: Edit;
  /** The new version to store and make the latest; absent when the capture matched the latest. */
  commit?: VersionRecord;
  /** This capture's own version, committed by an earlier delivery, whose edit is announced again. */
  announce?: VersionRecord;
}

/**
 * A redelivery after this capture's version was committed: what was committed stands. Its edit is
 * announced again — the earlier delivery may have died before it did — so subscribers receive each
 * edit at least once (and may receive one twice: they tell them apart by `versionId`).
 */
function committedDecision(version: VersionRecord): Decision {
  return {
    versionId: version.versionId,
    ...(version.edit ? { edit: version.edit, announce: version } : {}),
  };
}

/** The version whose edit this capture announces: the one it committed, or its own committed earlier. */
function toAnnounce(decision: Decision, committed: boolean): VersionRecord | undefined {
  return committed && decision.commit ? decision.commit : decision.announce;
}

/**
 * A page that had versions and now answers 404 or 410 was removed: that is recorded as a version
 * with a `removed_article` edit (once; later captures of the still-missing page are unchanged),
 * and the capture succeeds, because observing a removal is what it was for. A URL that never
 * had a version has nothing to remove: the capture fails with `http_error` as usual.
 */
async function recordGone(
  deps: ProcessCaptureDeps,
  capture: CaptureRecord,
  known: Promise<UrlState>,
  error: CaptureError,
  capturedAt: string,
): Promise<ProcessOutcome | null> {
  const httpStatus = error.httpStatus;
  if (httpStatus === undefined) return null;
  const state = await known;
  if (!state.url.latestVersionId) return null;
  // What the URL showed instead of the article (its error page), kept as evidence of the removal.
  const artifacts = error.evidence
    ? await storedTogether(pageUploads(uploader(deps, state), error.evidence))
    : {};
  const ownVersionId = versionIdForCapture(capture.captureId);
  const decide = async ({ url, latest, superseded }: UrlState): Promise<Decision> => {
    if (!latest) throw new Error(`URL record ${url.urlId} lost its latest version`);
    if (latest.versionId === ownVersionId) return committedDecision(latest);
    if (superseded) return committedDecision(superseded);
    if (url.latestTextSha256 === REMOVED_SHA) return { versionId: latest.versionId };
    const version: VersionRecord = {
      versionId: ownVersionId,
      urlId: capture.urlId,
      captureId: capture.captureId,
      capturedAt,
      textSha256: REMOVED_SHA,
      removed: true,
      httpStatus,
      artifacts,
      previousVersionId: latest.versionId,
      ...(url.title ? { title: url.title } : {}),
      edit: { significance: "major", kinds: ["removed_article"], stealth: false, stats: NO_TEXT_STATS },
      summary: `The article was removed: the page now answers HTTP ${httpStatus}.`,
    };
    return { versionId: ownVersionId, ...(version.edit ? { edit: version.edit } : {}), commit: version };
  };
  const { decision, committed } = await recordOnUrl(
    deps,
    capture,
    state,
    await decide(state),
    decide,
    capturedAt,
  );
  const succeeded: CaptureRecord = {
    ...capture,
    status: "succeeded",
    finishedAt: capturedAt,
    httpStatus,
    removed: true,
    ...(error.evidence ? { finalUrl: error.evidence.finalUrl, artifacts } : {}),
    versionId: decision.versionId,
    changed: decision.edit !== undefined,
    ...(decision.edit ? { edit: decision.edit } : {}),
  };
  await Promise.all([
    deps.repository.finishCapture(succeeded),
    announceEdit(deps, capture, toAnnounce(decision, committed)),
  ]);
  return { kind: "succeeded", capture: succeeded };
}

/** When to capture the URL again, from its policy and when its article last changed. */
function nextCaptureAt(
  deps: ProcessCaptureDeps,
  url: UrlRecord,
  capturedAt: string,
  changedNow: boolean,
): string | null {
  const next = nextCaptureTime({
    policy: url.recapture,
    lastChangedAt: new Date(
      changedNow ? capturedAt : (url.lastChangedAt ?? url.firstCapturedAt ?? capturedAt),
    ),
    now: new Date(capturedAt),
    ...(deps.cadence ? { cadence: deps.cadence } : {}),
  });
  return next?.toISOString() ?? null;
}

/** Replaces the sweeper's lease (or nothing) with the URL's real next capture time. */
async function scheduleNext(deps: ProcessCaptureDeps, urlId: string, finishedAt: string): Promise<void> {
  const url = await deps.repository.getUrl(urlId);
  if (!url) return;
  await deps.repository.setNextCapture(urlId, nextCaptureAt(deps, url, finishedAt, false));
}

/**
 * Records the capture on its URL: stores the decided version, then one conditional write makes it
 * the latest, counts the capture and sets the URL's next capture time. The write holds only while
 * the URL is as `state` read it. When another capture moved the latest version meanwhile, the
 * stored version is withdrawn and the outcome decided again against the new latest; when only the
 * count or the policy changed (a redelivery counted it, a person changed the schedule), the same
 * outcome is recorded against the URL as it is now. `committed` says whether this call made the
 * capture's version the latest (so its edit is announced once).
 */
async function recordOnUrl(
  deps: ProcessCaptureDeps,
  capture: CaptureRecord,
  state: UrlState,
  decision: Decision,
  decide: (state: UrlState) => Promise<Decision>,
  capturedAt: string,
): Promise<{ decision: Decision; committed: boolean }> {
  const ownVersionId = versionIdForCapture(capture.captureId);
  for (let attempt = 0; attempt < 5; attempt++) {
    // Already stored means a delivery of the same capture stored it: carry on to the pointer.
    if (decision.commit) await deps.repository.putVersion(decision.commit, { replace: state.replaceOwn });
    const result = await deps.repository.recordCaptureOnUrl({
      seen: state.url,
      captureId: capture.captureId,
      capturedAt,
      count: state.url.lastCaptureId !== capture.captureId,
      ...(decision.commit ? { version: decision.commit } : {}),
      nextCaptureAt: nextCaptureAt(deps, state.url, capturedAt, decision.commit !== undefined),
    });
    if (result.recorded) return { decision, committed: decision.commit !== undefined };
    const current = result.current;
    if (!current) throw new Error(`URL record ${capture.urlId} is missing for capture ${capture.captureId}`);
    if (current.latestVersionId === state.url.latestVersionId) {
      state = { ...state, url: current };
      continue;
    }
    const latest = await latestVersionOf(deps.repository, current);
    // Unless a duplicate delivery made ours the latest (or the one the latest follows), withdraw it
    // so that history has no orphan.
    if (decision.commit && latest?.versionId !== ownVersionId && latest?.previousVersionId !== ownVersionId) {
      await deps.repository.withdrawVersion(capture.urlId, ownVersionId);
    }
    state = { ...state, url: current, latest };
    decision = await decide(state);
  }
  throw new Error(`Could not record capture ${capture.captureId}: URL ${capture.urlId} kept changing`);
}

/** Anything that is not a CaptureError came from storage or from a bug; both deserve a retry. */
function classifyUnexpected(err: unknown): CaptureError {
  const name = (err as { name?: string })?.name ?? "";
  const fromAws = typeof (err as { $metadata?: unknown })?.$metadata === "object";
  if (fromAws || /S3|Dynamo|Throttl|Timeout|Network/i.test(name)) {
    return new CaptureError("storage_error", "The archive's storage failed while saving this capture.", {
      cause: err,
      retryable: true,
    });
  }
  return new CaptureError("internal_error", "The page could not be captured because of an internal error.", {
    cause: err,
    retryable: true,
  });
}

/** The artifacts of a capture once all are stored, and when that was: the capture's time. */
interface StoredArtifacts {
  artifacts: Partial<Record<ArtifactName, ArtifactRef>>;
  capturedAt: string;
  storeMs: number;
}

type Put = (body: Uint8Array, contentType: string, fileName: string) => Promise<ArtifactRef>;

/** The snapshot, screenshot and raw response of a failed capture's page; none if storing fails. */
async function storeEvidence(
  deps: ProcessCaptureDeps,
  page: PageCapture,
  log: Logger,
): Promise<Partial<Record<ArtifactName, ArtifactRef>> | undefined> {
  const put: Put = (body, contentType, fileName) => deps.blobs.putBlob(body, { contentType, fileName });
  try {
    return await storedTogether(pageUploads(put, page));
  } catch (err) {
    log.warn("what the failed page showed could not be stored", { err });
    return undefined;
  }
}

/** Stores blobs; those the latest version has already are stored, so they are not sent again. */
function uploader(deps: ProcessCaptureDeps, state: UrlState): Put {
  const alreadyStored = new Set(Object.values(state.latest?.artifacts ?? {}).map((ref) => ref.sha256));
  return (body, contentType, fileName) =>
    deps.blobs.putBlob(body, { contentType, fileName }, { alreadyStored });
}

/** The uploads of what the browser took: the snapshot, the screenshot and the raw response. */
function pageUploads(
  put: Put,
  page: Pick<PageCapture, "snapshotHtml" | "screenshot" | "raw">,
): Array<[ArtifactName, Promise<ArtifactRef>]> {
  return [
    ["snapshot", put(encoder.encode(page.snapshotHtml), "text/html; charset=utf-8", "snapshot.html")],
    [
      "screenshot",
      put(
        page.screenshot.body,
        page.screenshot.contentType,
        `screenshot.${page.screenshot.contentType.includes("png") ? "png" : "jpg"}`,
      ),
    ],
    ["raw", put(page.raw.body, page.raw.contentType, "raw.html")],
  ];
}

/**
 * The stored artifacts by name, once every upload is done. Awaited together: one failed upload
 * must not leave the others' failures unobserved (an unhandled rejection ends the process).
 */
async function storedTogether(
  uploads: Array<[ArtifactName, Promise<ArtifactRef>]>,
): Promise<Partial<Record<ArtifactName, ArtifactRef>>> {
  return Object.fromEntries(
    await Promise.all(uploads.map(async ([name, ref]) => [name, await ref] as const)),
  );
}

/** What a taken page yields before any decision: its article, and its artifacts on their way. */
interface Prepared {
  extractMs: number;
  put: Put;
  stored: Promise<StoredArtifacts>;
  captured: CapturedArticle;
}

async function prepare(
  deps: ProcessCaptureDeps,
  capture: CaptureRecord,
  page: PageCapture,
  known: Promise<UrlState>,
): Promise<Prepared> {
  const now = deps.now ?? (() => new Date());
  const state = await known;
  const extractStarted = performance.now();
  const article: Article = deps.extract(page.renderedHtml, { url: page.finalUrl }) ?? {
    title: documentTitle(page.renderedHtml),
    byline: null,
    publishedTime: null,
    modifiedTime: null,
    lang: null,
    text: "",
  };
  const extractMs = performance.now() - extractStarted;

  const put = uploader(deps, state);
  const storeStarted = performance.now();
  const uploads: Array<[ArtifactName, Promise<ArtifactRef>]> = [
    ...pageUploads(put, page),
    [
      "article",
      put(
        encoder.encode(JSON.stringify({ url: capture.url, finalUrl: page.finalUrl, ...article }, null, 2)),
        "application/json",
        "article.json",
      ),
    ],
    ["text", put(encoder.encode(article.text), "text/plain; charset=utf-8", "article.txt")],
  ];
  // All at once, and awaited together: one failed upload must not leave the others' failures
  // unobserved (an unhandled rejection ends the process). The outcome is decided meanwhile.
  const stored: Promise<StoredArtifacts> = inBackground(
    storedTogether(uploads).then((artifacts) => ({
      artifacts,
      capturedAt: now().toISOString(),
      storeMs: performance.now() - storeStarted,
    })),
  );
  const captured: CapturedArticle = {
    article,
    textSha256: sha256Hex(comparableArticle(article.title, article.text)),
    finalUrl: normaliseUrl(new URL(page.finalUrl)),
  };
  return { extractMs, put, stored, captured };
}

async function captureAndStore(
  deps: ProcessCaptureDeps,
  capture: CaptureRecord,
  known: Promise<UrlState>,
  log: Logger,
  browserDone: () => void,
): Promise<ProcessOutcome> {
  const started = performance.now();
  // Extraction and uploads start on the page as first taken, while the capturer checks that it
  // stayed quiet; they are redone only for a page that changed and was taken again.
  let early: { page: PageCapture; prepared: Promise<Prepared> } | undefined;
  let page: PageCapture;
  try {
    page = await deps.capturer.capture(capture.url, deps.captureOptions, {
      onTaken: (taken) => {
        early = { page: taken, prepared: inBackground(prepare(deps, capture, taken, known)) };
      },
    });
  } finally {
    browserDone();
  }
  const state = await known;
  const { extractMs, put, stored, captured } =
    early?.page === page ? await early.prepared : await prepare(deps, capture, page, known);
  const decide = (current: UrlState) => decideVersion(deps, capture, current, captured, stored, put);
  const [{ artifacts, capturedAt, storeMs }, first] = await Promise.all([stored, decide(state)]);
  const { decision, committed } = await recordOnUrl(deps, capture, state, first, decide, capturedAt);

  const succeeded: CaptureRecord = {
    ...capture,
    status: "succeeded",
    finishedAt: capturedAt,
    finalUrl: page.finalUrl,
    httpStatus: page.httpStatus,
    versionId: decision.versionId,
    changed: decision.edit !== undefined,
    ...(decision.edit ? { edit: decision.edit } : {}),
    artifacts,
    timings: {
      ...page.timings,
      extract: Math.round(extractMs),
      store: Math.round(storeMs),
      total: Math.round(performance.now() - started),
    },
  };
  delete succeeded.error;
  await Promise.all([
    deps.repository.finishCapture(succeeded),
    announceEdit(deps, capture, toAnnounce(decision, committed)),
  ]);
  log.info("capture succeeded", {
    versionId: decision.versionId,
    changed: succeeded.changed,
    timings: succeeded.timings,
  });
  return { kind: "succeeded", capture: succeeded };
}

/** What the capture found, in the form the comparison with the latest version needs. */
interface CapturedArticle {
  article: Article;
  textSha256: string;
  finalUrl: string;
}

/**
 * Compares the article with the URL's latest version. Identical comparable text, or a difference
 * the diff judges to be page noise, records the capture as unchanged; anything else makes a new
 * version with its diff, once the capture's artifacts are stored.
 */
async function decideVersion(
  deps: ProcessCaptureDeps,
  capture: CaptureRecord,
  { url, latest, superseded }: UrlState,
  { article, textSha256, finalUrl }: CapturedArticle,
  stored: Promise<StoredArtifacts>,
  put: Put,
): Promise<Decision> {
  const ownVersionId = versionIdForCapture(capture.captureId);
  if (latest?.versionId === ownVersionId) return committedDecision(latest);
  if (superseded) return committedDecision(superseded);
  const newVersion = async (): Promise<VersionRecord> => {
    const { artifacts, capturedAt } = await stored;
    return {
      versionId: ownVersionId,
      urlId: capture.urlId,
      captureId: capture.captureId,
      capturedAt,
      textSha256,
      artifacts,
      ...(article.title ? { title: article.title } : {}),
      ...(article.modifiedTime ? { modifiedTime: article.modifiedTime } : {}),
      ...(finalUrl && finalUrl !== capture.url ? { finalUrl } : {}),
    };
  };
  if (!latest) return { versionId: ownVersionId, commit: await newVersion() };

  const redirected = (latest.finalUrl ?? capture.url) !== (finalUrl ?? capture.url);
  if (url.latestTextSha256 === textSha256 && !redirected) return { versionId: latest.versionId };
  const versions = await deps.repository.listVersions(capture.urlId);
  // After a removal, compare with the last text the page had, and say it came back.
  const restored = latest.removed === true;
  const baseline = restored ? versions.filter((v) => !v.removed).at(-1) : latest;
  if (!baseline) throw new Error(`no text version to compare with for ${capture.urlId}`);
  const previousArticle = await loadArticle(deps.blobs, baseline);
  const diff = diffArticles(previousArticle, article);
  const lifecycle: EditKind[] = [
    ...(restored ? (["restored_article"] as const) : []),
    ...(redirected ? (["redirected"] as const) : []),
  ];
  if (diff.edit === null && lifecycle.length === 0) return { versionId: latest.versionId };
  const edit: Edit = diff.edit
    ? { ...diff.edit, kinds: [...lifecycle, ...diff.edit.kinds] }
    : { significance: "major", kinds: lifecycle, stealth: false, stats: NO_TEXT_STATS };
  const older = versions.find((v) => v.textSha256 === textSha256 && v.versionId !== latest.versionId);
  const diffDocument = { from: baseline.versionId, to: ownVersionId, edit, changes: diff.changes };
  const [diffRef, diffHtmlRef, base] = await Promise.all([
    put(encoder.encode(JSON.stringify(diffDocument)), "application/json", "diff.json"),
    put(encoder.encode(diff.html), "text/html; charset=utf-8", "diff.html"),
    newVersion(),
  ]);
  const lifecycleNote = [
    ...(restored ? ["The article is back after being removed."] : []),
    ...(redirected ? [`The page now redirects to ${finalUrl}.`] : []),
  ].join(" ");
  return {
    versionId: ownVersionId,
    edit,
    commit: {
      ...base,
      previousVersionId: latest.versionId,
      edit,
      summary: [lifecycleNote, diff.edit ? summariseEdit(diff.edit, diff.changes) : ""]
        .filter(Boolean)
        .join(" "),
      artifacts: { ...base.artifacts, diff: diffRef, diffHtml: diffHtmlRef },
      ...(older ? { revertOf: older.versionId } : {}),
    },
  };
}

/** The stored article of a version, in the shape the diff compares. */
export async function loadArticle(blobs: BlobReader, version: VersionRecord): Promise<Article> {
  const ref = version.artifacts.article;
  if (!ref) throw new Error(`version ${version.versionId} has no article artifact`);
  const parsed = JSON.parse(new TextDecoder().decode(await blobs.getBlob(ref))) as Partial<Article>;
  return {
    title: parsed.title ?? null,
    byline: parsed.byline ?? null,
    publishedTime: parsed.publishedTime ?? null,
    modifiedTime: parsed.modifiedTime ?? null,
    lang: parsed.lang ?? null,
    text: parsed.text ?? "",
  };
}

/** Subscribers learn of the edit; a delivery failure is logged, never fails the capture. */
async function announceEdit(
  deps: ProcessCaptureDeps,
  capture: CaptureRecord,
  version: VersionRecord | undefined,
): Promise<void> {
  const previousVersionId = version?.previousVersionId;
  if (!deps.publisher || !version?.edit || previousVersionId === undefined) return;
  try {
    await deps.publisher.publish({
      type: "ArticleEdited",
      urlId: capture.urlId,
      url: capture.url,
      versionId: version.versionId,
      previousVersionId,
      captureId: capture.captureId,
      capturedAt: version.capturedAt,
      title: version.title ?? null,
      edit: version.edit,
      summary: version.summary ?? "",
      ...(version.revertOf ? { revertOf: version.revertOf } : {}),
    });
  } catch (err) {
    deps.logger.error("edit event not delivered", {
      captureId: capture.captureId,
      versionId: version.versionId,
      err,
    });
  }
}

/**
 * A capture whose message went to the dead-letter queue must not stay queued or running: record
 * it as failed with the reason, unless a worker finished it after all.
 */
export async function failDeadLetteredCapture(
  repository: ArchiveRepository,
  captureId: string,
  finishedAt: string,
): Promise<boolean> {
  const capture = await repository.getCapture(captureId);
  if (!capture || (capture.status !== "queued" && capture.status !== "running")) return false;
  const previous = capture.error;
  await repository.finishCapture({
    ...capture,
    status: "failed",
    finishedAt,
    error: {
      code: "retries_exhausted",
      message: previous
        ? `The capture failed on every attempt; the last error was: ${previous.message}`
        : "The capture failed on every attempt and was given up.",
    },
  });
  return true;
}
