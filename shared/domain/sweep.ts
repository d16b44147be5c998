/**
 * The sweeper: finds URLs that are due through the sparse, sharded due index (never a scan),
 * claims each with a conditional write that moves its next time forward to a lease, and only then
 * records a queued capture and enqueues it. Overlapping sweeps race on the claim and exactly one
 * wins, so a URL is never enqueued twice for the same due time. When the capture ends, the worker
 * replaces the lease with the real next time; if the capture is lost, the lease expires and the
 * URL comes due again.
 */
import type { Logger } from "../logger.ts";
import type { ArchiveRepository, CaptureMessage, CaptureQueue, DueUrl } from "../ports.ts";
import { newCaptureId } from "./ids.ts";
import type { CaptureRecord } from "./model.ts";

export interface SweepDeps {
  repository: ArchiveRepository;
  queue: CaptureQueue;
  shards: number;
  logger: Logger;
  /** How long a claimed URL stays out of the due index while its capture runs. @default 30 min */
  leaseMs?: number;
  /** Due URLs read per query. @default 200 */
  pageSize?: number;
  /** Claims in flight at once. @default 32 */
  concurrency?: number;
  /** Asked between pages; true stops the sweep early (the rest stays due for the next sweep). */
  shouldStop?: () => boolean;
}

export interface SweepResult {
  enqueued: number;
  /** Due URLs another sweep claimed first. */
  lostClaims: number;
  /** False when the sweep stopped early; the URLs it did not reach are still due. */
  complete: boolean;
}

/** DynamoDB BatchWriteItem takes 25 items; SQS batches of 10 are made by the queue adapter. */
const RECORD_BATCH = 25;

export async function sweepDueUrls(deps: SweepDeps, now: Date): Promise<SweepResult> {
  const leaseMs = deps.leaseMs ?? 30 * 60_000;
  const pageSize = deps.pageSize ?? 200;
  const concurrency = deps.concurrency ?? 32;
  const dueBy = now.toISOString();
  const leaseUntil = new Date(now.getTime() + leaseMs).toISOString();
  const result: SweepResult = { enqueued: 0, lostClaims: 0, complete: true };
  const pending: CaptureRecord[] = [];

  // Captures are recorded in batches before their messages go out, so a worker never receives a
  // message whose capture does not exist yet.
  const flush = async (all: boolean) => {
    while (pending.length >= RECORD_BATCH || (all && pending.length > 0)) {
      const batch = pending.splice(0, RECORD_BATCH);
      await deps.repository.putCaptures(batch);
      const messages: CaptureMessage[] = batch.map((capture) => ({ captureId: capture.captureId }));
      if (deps.queue.enqueueBatch) await deps.queue.enqueueBatch(messages);
      else for (const message of messages) await deps.queue.enqueue(message);
      result.enqueued += batch.length;
    }
  };

  const claimOne = async (due: DueUrl) => {
    if (!(await deps.repository.claimDue(due.urlId, due.nextCaptureAt, leaseUntil))) {
      result.lostClaims++;
      return;
    }
    const capture: CaptureRecord = {
      captureId: newCaptureId(now),
      urlId: due.urlId,
      url: due.url,
      status: "queued",
      requestedAt: dueBy,
      attempts: 0,
      trigger: "schedule",
    };
    pending.push(capture);
    if (pending.length >= RECORD_BATCH) await flush(false);
  };

  const sweepShard = async (shard: number) => {
    let cursor: string | undefined;
    do {
      if (deps.shouldStop?.()) {
        result.complete = false;
        return;
      }
      const page = await deps.repository.listDue(shard, dueBy, {
        limit: pageSize,
        ...(cursor ? { cursor } : {}),
      });
      await runLimited(page.items, concurrency, claimOne);
      await flush(false);
      cursor = page.cursor;
    } while (cursor);
  };

  // Shards are swept a few at a time so one slow shard does not hold the others back.
  await runLimited(
    Array.from({ length: deps.shards }, (_, i) => i),
    Math.min(4, deps.shards),
    sweepShard,
  );
  await flush(true);
  deps.logger.info("sweep finished", { ...result, dueBy });
  return result;
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function runLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  });
  await Promise.all(lanes);
}
