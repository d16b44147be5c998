/**
 * The capture worker's domain: load the page, store its artifacts, extract the article, and
 * decide whether it is a new version. Every step is safe to repeat, because SQS may deliver the
 * same message twice and a worker may die anywhere.
 */
import { CaptureError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type {
  ArchiveRepository,
  BlobReader,
  BlobStore,
  EditPublisher,
  HostGate,
  PageCaptureOptions,
  PageCapturer,
} from "../ports.ts";
import { diffArticles, type EditKind, summariseEdit } from "./diff/index.ts";
import { sha256Hex, versionIdForCapture } from "./ids.ts";
import type { Article, ArtifactName, ArtifactRef, CaptureRecord, Edit, VersionRecord } from "./model.ts";
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
  const gate = deps.hostGate ? await deps.hostGate.acquire(host, captureId, now()) : null;
  if (gate && !gate.granted) {
    log.debug("host busy; deferring", { host, delayMs: gate.retryAfterMs });
    return { kind: "deferred", delayMs: gate.retryAfterMs };
  }
  try {
    return await startAndProcess(deps, captureId, log);
  } finally {
    if (gate?.granted) await deps.hostGate?.release(host, gate.slot, captureId);
  }
}

async function startAndProcess(
  deps: ProcessCaptureDeps,
  captureId: string,
  log: Logger,
): Promise<ProcessOutcome> {
  const now = deps.now ?? (() => new Date());
  const capture = await deps.repository.startCapture(captureId, now().toISOString());
  if (!capture) return { kind: "skipped", reason: "already_finished" };

  try {
    return await captureAndStore(deps, capture, log);
  } catch (err) {
    const error = err instanceof CaptureError ? err : classifyUnexpected(err);
    if (error.code === "http_error" && (error.httpStatus === 404 || error.httpStatus === 410)) {
      const gone = await recordGone(deps, capture, error.httpStatus, now().toISOString());
      if (gone) return gone;
    }
    if (error.retryable && capture.attempts < deps.maxAttempts) {
      log.warn("capture attempt failed; will retry", { code: error.code, attempt: capture.attempts, err });
      return { kind: "retry", error };
    }
    const failed: CaptureRecord = {
      ...capture,
      status: "failed",
      finishedAt: now().toISOString(),
      error: { code: error.code, message: error.message },
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

/**
 * A page that had versions and now answers 404 or 410 was removed: that is recorded as a version
 * with a `removed_article` edit (once; later captures of the still-missing page are unchanged),
 * and the capture succeeds, because observing a removal is what it was for. A URL that never
 * had a version has nothing to remove: the capture fails with `http_error` as usual.
 */
async function recordGone(
  deps: ProcessCaptureDeps,
  capture: CaptureRecord,
  httpStatus: number,
  capturedAt: string,
): Promise<ProcessOutcome | null> {
  const url = await deps.repository.getUrl(capture.urlId);
  if (!url?.latestVersionId) return null;
  let versionId = url.latestVersionId;
  let edit: Edit | undefined;
  if (url.latestTextSha256 !== REMOVED_SHA) {
    const version: VersionRecord = {
      versionId: versionIdForCapture(capture.captureId),
      urlId: capture.urlId,
      captureId: capture.captureId,
      capturedAt,
      textSha256: REMOVED_SHA,
      removed: true,
      httpStatus,
      artifacts: {},
      previousVersionId: url.latestVersionId,
      ...(url.title ? { title: url.title } : {}),
      edit: { significance: "major", kinds: ["removed_article"], stealth: false, stats: NO_TEXT_STATS },
      summary: `The article was removed: the page now answers HTTP ${httpStatus}.`,
    };
    if (await deps.repository.commitVersion(version, url.latestVersionId)) {
      versionId = version.versionId;
      edit = version.edit;
      await publishEdit(deps, capture, version, url.latestVersionId);
    }
  }
  await deps.repository.recordCaptureOnUrl(capture.urlId, { capturedAt, captureId: capture.captureId });
  const succeeded: CaptureRecord = {
    ...capture,
    status: "succeeded",
    finishedAt: capturedAt,
    httpStatus,
    removed: true,
    versionId,
    changed: edit !== undefined,
    ...(edit ? { edit } : {}),
  };
  await deps.repository.finishCapture(succeeded);
  await scheduleNext(deps, capture.urlId, capturedAt);
  return { kind: "succeeded", capture: succeeded };
}

/** Replaces the sweeper's lease (or nothing) with the URL's real next capture time. */
async function scheduleNext(deps: ProcessCaptureDeps, urlId: string, finishedAt: string): Promise<void> {
  const url = await deps.repository.getUrl(urlId);
  if (!url) return;
  const next = nextCaptureTime({
    policy: url.recapture,
    lastChangedAt: new Date(url.lastChangedAt ?? url.firstCapturedAt ?? finishedAt),
    now: new Date(finishedAt),
    ...(deps.cadence ? { cadence: deps.cadence } : {}),
  });
  await deps.repository.setNextCapture(urlId, next?.toISOString() ?? null);
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

async function captureAndStore(
  deps: ProcessCaptureDeps,
  capture: CaptureRecord,
  log: Logger,
): Promise<ProcessOutcome> {
  const now = deps.now ?? (() => new Date());
  const captureId = capture.captureId;
  const started = performance.now();
  const page = await deps.capturer.capture(capture.url, deps.captureOptions);

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

  const storeStarted = performance.now();
  const uploads: Array<[ArtifactName, Promise<ArtifactRef>]> = [
    [
      "snapshot",
      deps.blobs.putBlob(encoder.encode(page.snapshotHtml), {
        contentType: "text/html; charset=utf-8",
        fileName: "snapshot.html",
      }),
    ],
    [
      "screenshot",
      deps.blobs.putBlob(page.screenshot.body, {
        contentType: page.screenshot.contentType,
        fileName: `screenshot.${page.screenshot.contentType.includes("png") ? "png" : "jpg"}`,
      }),
    ],
    ["raw", deps.blobs.putBlob(page.raw.body, { contentType: page.raw.contentType, fileName: "raw.html" })],
    [
      "article",
      deps.blobs.putBlob(
        encoder.encode(JSON.stringify({ url: capture.url, finalUrl: page.finalUrl, ...article }, null, 2)),
        { contentType: "application/json", fileName: "article.json" },
      ),
    ],
    [
      "text",
      deps.blobs.putBlob(encoder.encode(article.text), {
        contentType: "text/plain; charset=utf-8",
        fileName: "article.txt",
      }),
    ],
  ];
  // All at once, and awaited together: one failed upload must not leave the others' failures
  // unobserved (an unhandled rejection ends the process).
  const stored = await Promise.all(uploads.map(async ([name, ref]) => [name, await ref] as const));
  const artifacts: Partial<Record<ArtifactName, ArtifactRef>> = Object.fromEntries(stored);
  const storeMs = performance.now() - storeStarted;

  const capturedAt = now().toISOString();
  const { versionId, changed, edit } = await recordVersion(
    deps,
    capture,
    article,
    artifacts,
    capturedAt,
    normaliseUrl(new URL(page.finalUrl)),
  );
  await deps.repository.recordCaptureOnUrl(capture.urlId, { capturedAt, captureId });

  const succeeded: CaptureRecord = {
    ...capture,
    status: "succeeded",
    finishedAt: capturedAt,
    finalUrl: page.finalUrl,
    httpStatus: page.httpStatus,
    versionId,
    changed,
    ...(edit ? { edit } : {}),
    artifacts,
    timings: {
      ...page.timings,
      extract: Math.round(extractMs),
      store: Math.round(storeMs),
      total: Math.round(performance.now() - started),
    },
  };
  delete succeeded.error;
  await deps.repository.finishCapture(succeeded);
  await scheduleNext(deps, capture.urlId, capturedAt);
  log.info("capture succeeded", { versionId, changed, timings: succeeded.timings });
  return { kind: "succeeded", capture: succeeded };
}

/**
 * Compares the article with the URL's latest version. Identical comparable text, or a difference
 * the diff judges to be page noise, records the capture as unchanged; anything else commits a new
 * version with its diff. Optimistic: if another capture of the same URL committed in between,
 * compare again.
 */
async function recordVersion(
  deps: ProcessCaptureDeps,
  capture: CaptureRecord,
  article: Article,
  artifacts: Partial<Record<ArtifactName, ArtifactRef>>,
  capturedAt: string,
  finalUrl: string,
): Promise<{ versionId: string; changed: boolean; edit?: Edit }> {
  const textSha256 = sha256Hex(comparableArticle(article.title, article.text));
  const ownVersionId = versionIdForCapture(capture.captureId);
  for (let attempt = 0; attempt < 5; attempt++) {
    const url = await deps.repository.getUrl(capture.urlId);
    if (!url) throw new Error(`URL record ${capture.urlId} is missing for capture ${capture.captureId}`);
    if (url.latestVersionId === ownVersionId) {
      // A redelivery after this capture already committed: report what was committed.
      const committed = await deps.repository.getVersion(capture.urlId, ownVersionId);
      return {
        versionId: ownVersionId,
        changed: committed?.edit !== undefined,
        ...(committed?.edit ? { edit: committed.edit } : {}),
      };
    }
    const base: VersionRecord = {
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
    let version = base;
    const latestId = url.latestVersionId;
    if (latestId !== undefined) {
      const latest = await deps.repository.getVersion(capture.urlId, latestId);
      if (!latest) throw new Error(`latest version ${latestId} of ${capture.urlId} is missing`);
      const redirected = (latest.finalUrl ?? capture.url) !== (finalUrl ?? capture.url);
      if (url.latestTextSha256 === textSha256 && !redirected) return { versionId: latestId, changed: false };
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
      if (diff.edit === null && lifecycle.length === 0) return { versionId: latestId, changed: false };
      const edit: Edit = diff.edit
        ? { ...diff.edit, kinds: [...lifecycle, ...diff.edit.kinds] }
        : { significance: "major", kinds: lifecycle, stealth: false, stats: NO_TEXT_STATS };
      const older = versions.find((v) => v.textSha256 === textSha256 && v.versionId !== latestId);
      const diffDocument = { from: baseline.versionId, to: ownVersionId, edit, changes: diff.changes };
      const [diffRef, diffHtmlRef] = await Promise.all([
        deps.blobs.putBlob(encoder.encode(JSON.stringify(diffDocument)), {
          contentType: "application/json",
          fileName: "diff.json",
        }),
        deps.blobs.putBlob(encoder.encode(diff.html), {
          contentType: "text/html; charset=utf-8",
          fileName: "diff.html",
        }),
      ]);
      const lifecycleNote = [
        ...(restored ? ["The article is back after being removed."] : []),
        ...(redirected ? [`The page now redirects to ${finalUrl}.`] : []),
      ].join(" ");
      version = {
        ...base,
        previousVersionId: latestId,
        edit,
        summary: [lifecycleNote, diff.edit ? summariseEdit(diff.edit, diff.changes) : ""]
          .filter(Boolean)
          .join(" "),
        artifacts: { ...artifacts, diff: diffRef, diffHtml: diffHtmlRef },
        ...(older ? { revertOf: older.versionId } : {}),
      };
    }
    if (await deps.repository.commitVersion(version, latestId)) {
      if (version.edit && latestId !== undefined) await publishEdit(deps, capture, version, latestId);
      return {
        versionId: ownVersionId,
        changed: version.edit !== undefined,
        ...(version.edit ? { edit: version.edit } : {}),
      };
    }
  }
  throw new Error(`Could not commit a version for ${capture.urlId}: the latest version kept moving`);
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
async function publishEdit(
  deps: ProcessCaptureDeps,
  capture: CaptureRecord,
  version: VersionRecord,
  previousVersionId: string,
): Promise<void> {
  if (!deps.publisher || !version.edit) return;
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
