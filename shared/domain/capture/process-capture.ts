/**
 * The orchestration of one capture: take the host's politeness slot, start the capture, load the
 * page, hand it to the steps in this folder, and finish the capture record. The steps themselves
 * (storing, deciding, recording, publishing, failing) live beside this file; index.ts tells the
 * whole flow.
 */
import { CaptureError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import type { PageCapture } from "../../ports.ts";
import type { CaptureRecord } from "../model.ts";
import { announceEdit } from "./announce-edit.ts";
import { pageUploads, storedTogether, uploader } from "./artifacts.ts";
import { decideRemoval, decideVersion } from "./decide-version.ts";
import { classifyUnexpected, failCapture } from "./failures.ts";
import { inBackground } from "./in-background.ts";
import { type Prepared, preparePage } from "./prepare-page.ts";
import { readUrlState, recordOnUrl, toAnnounce, unlessCommitted } from "./record-on-url.ts";
import type { ProcessCaptureDeps, ProcessOutcome, UrlState } from "./types.ts";

/**
 * Processes one delivery of a capture message. Safe to repeat: a finished capture is skipped, and
 * a redelivered one finds what its earlier attempt left (see record-on-url.ts). The outcome tells
 * the caller what to do with the message.
 */
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
    return failCapture(deps, capture, error, err, log);
  }
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
        early = { page: taken, prepared: inBackground(preparePage(deps, capture, taken, known)) };
      },
    });
  } finally {
    browserDone();
  }
  const state = await known;
  const { extractMs, put, stored, captured, extraction } =
    early?.page === page ? await early.prepared : await preparePage(deps, capture, page, known);
  const decide = unlessCommitted(capture, (current) =>
    decideVersion(deps, capture, current, captured, stored, put),
  );
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
    extraction,
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

/**
 * A page that had versions and now answers 404 or 410 was removed (see `decideRemoval`), and the
 * capture succeeds, because observing a removal is what it was for. A URL that never had a
 * version has nothing to remove: null, and the capture fails with `http_error` as usual.
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
  const decide = unlessCommitted(capture, (current) =>
    decideRemoval(capture, current, httpStatus, artifacts, capturedAt),
  );
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
