/**
 * The capture worker's domain: load the page, store its artifacts, extract the article, and
 * decide whether it is a new version. Every step is safe to repeat, because SQS may deliver the
 * same message twice and a worker may die anywhere.
 */
import { CaptureError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { ArchiveRepository, BlobStore, PageCaptureOptions, PageCapturer } from "../ports.ts";
import { sha256Hex, versionIdForCapture } from "./ids.ts";
import type { Article, ArtifactName, ArtifactRef, CaptureRecord, VersionRecord } from "./model.ts";
import { comparableArticle } from "./normalise-text.ts";

export type ExtractArticle = (html: string, options: { url: string }) => Article | null;

export interface ProcessCaptureDeps {
  repository: ArchiveRepository;
  blobs: BlobStore;
  capturer: PageCapturer;
  extract: ExtractArticle;
  captureOptions: PageCaptureOptions;
  maxAttempts: number;
  logger: Logger;
  now?: () => Date;
}

export type ProcessOutcome =
  | { kind: "skipped"; reason: "not_found" | "already_finished" }
  | { kind: "succeeded"; capture: CaptureRecord }
  | { kind: "failed"; capture: CaptureRecord }
  /** A transient failure with attempts left: the message should be redelivered. */
  | { kind: "retry"; error: CaptureError };

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
  const capture = await deps.repository.startCapture(captureId, now().toISOString());
  if (!capture) return { kind: "skipped", reason: "already_finished" };

  try {
    return await captureAndStore(deps, capture, log);
  } catch (err) {
    const error = err instanceof CaptureError ? err : classifyUnexpected(err);
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
    log.info("capture failed", { code: error.code, attempts: capture.attempts });
    return { kind: "failed", capture: failed };
  }
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
  const artifacts: Partial<Record<ArtifactName, ArtifactRef>> = {};
  for (const [name, ref] of uploads) artifacts[name] = await ref;
  const storeMs = performance.now() - storeStarted;

  const capturedAt = now().toISOString();
  const { versionId, changed } = await recordVersion(deps, capture, article, artifacts, capturedAt);
  await deps.repository.recordCaptureOnUrl(capture.urlId, { capturedAt, captureId });

  const succeeded: CaptureRecord = {
    ...capture,
    status: "succeeded",
    finishedAt: capturedAt,
    finalUrl: page.finalUrl,
    httpStatus: page.httpStatus,
    versionId,
    changed,
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
  log.info("capture succeeded", { versionId, changed, timings: succeeded.timings });
  return { kind: "succeeded", capture: succeeded };
}

/**
 * Compares the article with the URL's latest version and commits a new version when it differs.
 * Optimistic: if another capture of the same URL committed in between, compare again.
 */
async function recordVersion(
  deps: ProcessCaptureDeps,
  capture: CaptureRecord,
  article: Article,
  artifacts: Partial<Record<ArtifactName, ArtifactRef>>,
  capturedAt: string,
): Promise<{ versionId: string; changed: boolean }> {
  const textSha256 = sha256Hex(comparableArticle(article.title, article.text));
  const ownVersionId = versionIdForCapture(capture.captureId);
  for (let attempt = 0; attempt < 5; attempt++) {
    const url = await deps.repository.getUrl(capture.urlId);
    if (!url) throw new Error(`URL record ${capture.urlId} is missing for capture ${capture.captureId}`);
    if (url.latestVersionId === ownVersionId) {
      return { versionId: ownVersionId, changed: url.versionCount > 1 };
    }
    if (url.latestVersionId !== undefined && url.latestTextSha256 === textSha256) {
      return { versionId: url.latestVersionId, changed: false };
    }
    const version: VersionRecord = {
      versionId: ownVersionId,
      urlId: capture.urlId,
      captureId: capture.captureId,
      capturedAt,
      textSha256,
      artifacts,
      ...(article.title ? { title: article.title } : {}),
      ...(url.latestVersionId ? { previousVersionId: url.latestVersionId } : {}),
    };
    if (await deps.repository.commitVersion(version, url.latestVersionId)) {
      return { versionId: ownVersionId, changed: url.latestVersionId !== undefined };
    }
  }
  throw new Error(`Could not commit a version for ${capture.urlId}: the latest version kept moving`);
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
