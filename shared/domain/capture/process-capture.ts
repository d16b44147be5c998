/**
 * The orchestration of one capture: start the capture, load the page, hand it to the steps in this folder, and finish the capture record. The steps themselves
 * (storing, deciding, recording, publishing, failing) live beside this file; index.ts tells the
 * whole flow.
 */
import { CaptureError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import type { PageCapture } from "../../ports.ts";
import { versionIdForCapture } from "../ids.ts";
import type { CaptureRecord } from "../model.ts";
import type { ValidityVerdict } from "../validity/index.ts";
import { announceEdit } from "./announce-edit.ts";
import { pageUploads, storedTogether, uploader } from "./artifacts.ts";
import { decideRemoval, decideVersion } from "./decide-version.ts";
import { captureEvidence, evidenceMissingOf, evidenceOf } from "./evidence-package.ts";
import { classifyUnexpected, failCapture } from "./failures.ts";
import { inBackground } from "./in-background.ts";
import { type Prepared, preparePage } from "./prepare-page.ts";
import { probeFirst, probeLearner } from "./probe-capture.ts";
import {
  challengeRetriedOf,
  readUrlState,
  recordOnUrl,
  toAnnounce,
  unlessCommitted,
} from "./record-on-url.ts";
import { answerRefusal } from "./refused-answer.ts";
import type { ProcessCaptureDeps, ProcessOutcome, UrlState } from "./types.ts";

/**
 * Processes one delivery of a capture message. Safe to repeat: a finished capture is skipped, and
 * a redelivered one finds what its earlier attempt left (see record-on-url.ts). The outcome tells
 * the caller what to do with the message.
 */
export async function processCapture(deps: ProcessCaptureDeps, captureId: string): Promise<ProcessOutcome> {
  const log = deps.logger.child({ captureId });
  const existing = await deps.repository.getCapture(captureId);
  if (!existing) {
    log.warn("capture not found; dropping message");
    return { kind: "skipped", reason: "not_found" };
  }
  if (existing.status !== "queued" && existing.status !== "running") {
    return { kind: "skipped", reason: "already_finished" };
  }
  // Politeness was decided before the message was sent (host-shaping.ts): the message arrives at
  // the capture's slot, so nothing here waits for the host or sends the message back.
  return startAndProcess(deps, captureId, log);
}

async function startAndProcess(
  deps: ProcessCaptureDeps,
  captureId: string,
  log: Logger,
): Promise<ProcessOutcome> {
  const now = deps.now ?? (() => new Date());
  const capture = await deps.repository.startCapture(captureId, now().toISOString());
  if (!capture) return { kind: "skipped", reason: "already_finished" };
  // What the capture will be compared with, read while the browser works. An outcome decided from
  // it is recorded only if the URL is still as read (see recordOnUrl).
  const known = inBackground(readUrlState(deps.repository, capture));

  // What the probe did, kept on the capture however it ends (a failed one too).
  let tried = capture;
  try {
    // A scheduled recapture of a server-rendered page may be settled by one HTTP request, before
    // Chromium is touched (probe-capture.ts); otherwise the browser captures it, as always.
    const probed = await probeFirst(deps, capture, known, log);
    if (probed.kind === "recorded") return probed.outcome;
    if (probed.note) tried = { ...capture, probe: probed.note };
    return await captureAndStore(deps, tried, known, log);
  } catch (err) {
    let error = err instanceof CaptureError ? err : classifyUnexpected(err);
    try {
      const refused = await answerRefusal(deps, tried, known, error, log);
      if (refused) return refused;
    } catch (recordErr) {
      // Recording the challenge failed (storage): retried like any other storage failure.
      error = recordErr instanceof CaptureError ? recordErr : classifyUnexpected(recordErr);
    }
    if (error.code === "http_error" && (error.httpStatus === 404 || error.httpStatus === 410)) {
      try {
        const gone = await recordGone(deps, tried, known, error, now().toISOString());
        if (gone) return gone;
      } catch (recordErr) {
        // Recording the removal failed (storage): retried like any other storage failure.
        error = recordErr instanceof CaptureError ? recordErr : classifyUnexpected(recordErr);
      }
    }
    return failCapture(deps, tried, error, err, log);
  }
}

async function captureAndStore(
  deps: ProcessCaptureDeps,
  capture: CaptureRecord,
  known: Promise<UrlState>,
  log: Logger,
): Promise<ProcessOutcome> {
  const started = performance.now();
  // Extraction and uploads start on the page as first taken, while the capturer checks that it
  // stayed quiet; they are redone only for a page that changed and was taken again.
  let early: { page: PageCapture; prepared: Promise<Prepared> } | undefined;
  const page: PageCapture = await deps.capturer.capture(capture.url, deps.captureOptions, {
    onTaken: (taken) => {
      early = { page: taken, prepared: inBackground(preparePage(deps, capture, taken, known)) };
    },
  });
  const state = await known;
  const { extractMs, put, stored, captured, extraction, articleJson } =
    early?.page === page ? await early.prepared : await preparePage(deps, capture, page, known);
  const evidence = captureEvidence({
    evidence: deps.evidence,
    capture,
    page,
    captured,
    articleJson,
    put,
    log,
    now: deps.now ?? (() => new Date()),
  });
  // A text unlike the latest version's will most likely make a version: its package starts now.
  if (state.url.latestTextSha256 !== captured.textSha256) evidence.startEarly();
  const decide = unlessCommitted(capture, async (current) =>
    evidence.attach(await decideVersion(deps, capture, current, captured, stored, put)),
  );
  const { artifacts, capturedAt, storeMs, decision, committed } = await (async () => {
    try {
      const [{ artifacts, capturedAt, storeMs }, first] = await Promise.all([stored, decide(state)]);
      const learn = probeLearner(deps, capture, state, page, captured, extraction, capturedAt);
      const recorded = await recordOnUrl(deps, capture, state, first, decide, capturedAt, learn);
      return { artifacts, capturedAt, storeMs, ...recorded };
    } finally {
      // A package started early that no version took is given up, whatever ended the recording.
      evidence.settle();
    }
  })();
  const ownVersionId = versionIdForCapture(capture.captureId);

  const succeeded: CaptureRecord = {
    ...capture,
    status: "succeeded",
    finishedAt: capturedAt,
    method: "browser",
    finalUrl: page.finalUrl,
    httpStatus: page.httpStatus,
    versionId: decision.versionId,
    changed: decision.edit !== undefined,
    ...(decision.edit ? { edit: decision.edit } : {}),
    ...(decision.verdict ? validityOf(decision.verdict) : {}),
    ...(decision.commit?.removed ? { removed: true } : {}),
    artifacts: { ...artifacts, ...evidenceOf(decision, state, ownVersionId) },
    ...evidenceMissingOf(decision, state, ownVersionId),
    ...(page.consent ? { consent: page.consent } : {}),
    ...challengeRetriedOf(state.url, capture.captureId, page, decision.verdict?.validity),
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
    validity: succeeded.validity,
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
  // Not the article: what stands in its place is the server's error page (see validity/).
  const verdict: ValidityVerdict = {
    validity: "error_page",
    validityReason: `The server answered HTTP ${httpStatus}: the article is recorded as removed.`,
  };
  const decide = unlessCommitted(capture, async (current) => ({
    ...(await decideRemoval(capture, current, httpStatus, artifacts, capturedAt)),
    verdict,
  }));
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
    ...validityOf(decision.verdict ?? verdict),
    ...(error.evidence ? { finalUrl: error.evidence.finalUrl, artifacts } : {}),
    versionId: decision.versionId,
    changed: decision.edit !== undefined,
    ...(decision.edit ? { edit: decision.edit } : {}),
    ...challengeRetriedOf(state.url, capture.captureId, error.evidence, "error_page"),
  };
  await Promise.all([
    deps.repository.finishCapture(succeeded),
    announceEdit(deps, capture, toAnnounce(decision, committed)),
  ]);
  return { kind: "succeeded", capture: succeeded };
}

/** A verdict as the capture record's fields. */
function validityOf(verdict: ValidityVerdict): Pick<CaptureRecord, "validity" | "validityReason"> {
  return { validity: verdict.validity, validityReason: verdict.validityReason };
}
