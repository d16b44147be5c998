/**
 * How a capture fails: a failure worth another attempt (retry-policy.ts) with attempts left is retried (the message is
 * redelivered), anything else is recorded as failed with its reason and, for a page that was taken
 * all the same (a 404 before the URL was ever archived), what it showed. No capture stays queued
 * or running forever: one whose message was given up is failed from the dead-letter queue.
 */
import { CaptureError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import type { ArchiveRepository } from "../../ports.ts";
import type { CaptureRecord } from "../model.ts";
import { storeEvidence } from "./artifacts.ts";
import { scheduleNext } from "./record-on-url.ts";
import { worthRetrying } from "./retry-policy.ts";
import type { ProcessCaptureDeps, ProcessOutcome } from "./types.ts";

/** Anything that is not a CaptureError came from storage or from a bug; both are retried (retry-policy.ts). */
export function classifyUnexpected(err: unknown): CaptureError {
  const name = (err as { name?: string })?.name ?? "";
  const fromAws = typeof (err as { $metadata?: unknown })?.$metadata === "object";
  if (fromAws || /S3|Dynamo|Throttl|Timeout|Network/i.test(name)) {
    return new CaptureError("storage_error", "The archive's storage failed while saving this capture.", {
      cause: err,
    });
  }
  return new CaptureError("internal_error", "The page could not be captured because of an internal error.", {
    cause: err,
  });
}

/**
 * Ends an attempt that failed with `error` (thrown as `thrown`): a retry while attempts are left
 * and the failure is worth retrying (after `wait.delayMs`, when the server asked), otherwise the capture
 * recorded as failed and its URL rescheduled, no sooner than `wait.notBefore` (Retry-After).
 */
export async function failCapture(
  deps: ProcessCaptureDeps,
  capture: CaptureRecord,
  error: CaptureError,
  thrown: unknown,
  log: Logger,
  wait?: { delayMs?: number; notBefore?: string },
): Promise<ProcessOutcome> {
  const now = deps.now ?? (() => new Date());
  // A server that said when to come back (Retry-After) is not asked sooner: a wait longer than the
  // queue can hold (a `notBefore` with no `delayMs`) ends the capture now.
  const canWait = wait?.notBefore === undefined || wait.delayMs !== undefined;
  if (worthRetrying(error) && capture.attempts < deps.maxAttempts && canWait) {
    log.warn("capture attempt failed; will retry", {
      code: error.code,
      attempt: capture.attempts,
      delayMs: wait?.delayMs,
      err: thrown,
    });
    return { kind: "retry", error, ...(wait?.delayMs !== undefined ? { delayMs: wait.delayMs } : {}) };
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
  await scheduleNext(deps, capture.urlId, capture.captureId, failed.finishedAt as string, wait?.notBefore);
  log.info("capture failed", { code: error.code, attempts: capture.attempts });
  return { kind: "failed", capture: failed };
}

/**
 * A capture whose message went to the dead-letter queue must not stay queued or running: record
 * it as failed with the reason, unless a worker finished it after all, and put its URL back on its
 * schedule (with the default cadence: the dead-letter consumer knows no other), so the URL is not
 * held by a capture that will never run.
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
  await scheduleNext({ repository }, capture.urlId, captureId, finishedAt);
  return true;
}
