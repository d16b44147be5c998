/**
 * At start, before the API listens: no accepted capture may stay `queued` or `running` because
 * its queue message is gone (the process was killed between accepting a capture and sending its
 * message, or the message file was unreadable and quarantined). Such a capture gets a fresh
 * message; one whose message sits in the dead-letter folder is failed as a dead letter would be.
 * A capture is sent again on its own lane (a person's ahead of the sweep's backlog, queue-ports.ts).
 * Host slots leased by the previous process are freed too: their captures died with it, and
 * their leases would otherwise hold the host for the full lease (15 minutes).
 *
 * It runs only at start: while the runner runs, a capture can be accepted a moment before its
 * message is sent, and a sweep of the archive must not mistake that for a loss.
 */
import { failDeadLetteredCapture } from "../shared/domain/capture/index.ts";
import { encodeCaptureMessage, parseCaptureMessage } from "../shared/domain/capture-message.ts";
import { captureLane } from "../shared/domain/submit-capture.ts";
import type { Logger } from "../shared/logger.ts";
import type { ArchiveRepository } from "../shared/ports.ts";
import type { FileQueue } from "./file-queue.ts";
import { LANE_PRIORITY } from "./queue-ports.ts";

export interface ReconcileOutcome {
  /** Captures that had no message and were sent again. */
  requeued: number;
  /** Captures whose message was dead-lettered, now failed `retries_exhausted`. */
  failed: number;
}

/** The capture id of a message body, or undefined when the body is not a capture message. */
export function captureIdOf(body: string): string | undefined {
  return parseCaptureMessage(body)?.captureId;
}

async function isParked(repository: ArchiveRepository, urlId: string, captureId: string): Promise<boolean> {
  const url = await repository.getUrl(urlId);
  return url?.pendingCaptureId === captureId && url.parked === true;
}

/** Sends again (or fails) every unfinished capture the queue no longer holds. */
export async function reconcileCaptures(deps: {
  repository: ArchiveRepository;
  queue: FileQueue;
  logger: Logger;
  now?: () => Date;
}): Promise<ReconcileOutcome> {
  const { repository, queue, logger } = deps;
  const queued = new Set(queue.messages().map((m) => captureIdOf(m.body)));
  const dead = new Set((await queue.deadLetters()).map((m) => captureIdOf(m.body)));
  const outcome: ReconcileOutcome = { requeued: 0, failed: 0 };
  let cursor: string | undefined;
  do {
    const page = await repository.listRecentCaptures({ limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const capture of page.items) {
      if (capture.status !== "queued" && capture.status !== "running") continue;
      if (queued.has(capture.captureId)) continue;
      // A parked capture has no message yet on purpose: a sweep sends it at its host slot.
      if (await isParked(repository, capture.urlId, capture.captureId)) continue;
      if (dead.has(capture.captureId)) {
        const at = (deps.now ?? (() => new Date()))().toISOString();
        if (await failDeadLetteredCapture(repository, capture.captureId, at)) outcome.failed++;
        continue;
      }
      // Still at its host slot when that is ahead (host-shaping.ts).
      const slotIn = Date.parse(capture.notBefore ?? "") - (deps.now ?? (() => new Date()))().getTime();
      await queue.send(encodeCaptureMessage({ captureId: capture.captureId }), {
        delayMs: Math.max(0, slotIn),
        priority: LANE_PRIORITY[captureLane(capture)],
      });
      queued.add(capture.captureId);
      outcome.requeued++;
    }
    cursor = page.cursor;
  } while (cursor);
  if (outcome.requeued > 0 || outcome.failed > 0)
    logger.warn("unfinished captures without a message reconciled", { ...outcome });
  return outcome;
}
