/**
 * The sweeper: finds URLs that are due through the sparse, sharded due index (never a scan) and
 * takes one capture of each, shaped per host before anything reaches the queue.
 *
 * - A due URL is claimed; its capture gets a start slot from its host's schedule (host-shaping.ts),
 *   no sooner than its due time, and its message is sent with `DelaySeconds` to arrive at that slot. So a sweep's messages are spread over time, per host by
 *   the host's interval, and a host with a backlog delays only its own captures.
 * - A slot further ahead than SQS can delay a message parks the capture: it is recorded as queued
 *   and the URL is due again at its slot; the sweep whose look-ahead reaches the slot sends the
 *   message, delayed to the slot exactly.
 * - The claim is one conditional write that records the capture as the URL's pending capture.
 *   Overlapping sweeps race on it and exactly one wins, and a URL with a pending capture is never
 *   claimed again, however long the capture waits in the queue. The capture's end puts the URL
 *   back on its schedule.
 * - A pending capture's URL comes due again after a lease, so a sweep checks on it: a capture whose
 *   message outlived the queue's retention is failed `expired` and the URL claimed afresh; one that
 *   still waits or runs keeps its URL for another lease.
 * - Pending captures are listed apart from URLs on their schedule and swept first, so a sweep held
 *   by back-pressure reads only them: the backlog it leaves due costs it no reads, and never keeps
 *   it from a parked slot or an expired message.
 */
import type { Logger } from "../logger.ts";
import type { ArchiveRepository, CaptureQueue, DueUrl } from "../ports.ts";
import { assignStarts, type HostShaper, hostOf, SEND_HORIZON_MS } from "./host-shaping.ts";
import { newCaptureId } from "./ids.ts";
import type { CaptureRecord } from "./model.ts";
import { CAPTURE_MESSAGE_RETENTION_MS } from "./queue-retention.ts";
import { PENDING_LEASE_MS } from "./submit-capture.ts";

export { CAPTURE_MESSAGE_RETENTION_MS };

/** What a sweep needs of the archive: the due index, the pending capture on a URL, captures. */
export type SweepRepository = Pick<
  ArchiveRepository,
  "listDue" | "claimDue" | "extendPending" | "releasePending" | "putCaptures" | "getCapture" | "finishCapture"
>;

export interface SweepDeps {
  repository: SweepRepository;
  queue: CaptureQueue;
  shards: number;
  logger: Logger;
  /** Per-host politeness: every capture's start slot. Absent: captures start when due. */
  shaper?: HostShaper;
  /**
   * Parked captures whose slot is within this long after the sweep are sent by it, delayed to
   * their slot; at least the interval between sweeps plus a sweep's length, so no parked slot is
   * sent late. At most 15 min (SQS's longest delay).
   * @default 10 min
   */
  lookaheadMs?: number;
  /**
   * Captures already due are spread over this long from the sweep (by URL id), so a sweep does
   * not land its whole batch in the queue at once. @default 0
   */
  spreadMs?: number;
  /** How long after its start a pending capture's URL is checked on by a sweep. @default PENDING_LEASE_MS (1 h) */
  leaseMs?: number;
  /** How long the queue keeps a message. @default CAPTURE_MESSAGE_RETENTION_MS */
  retentionMs?: number;
  /** Due URLs read per query. @default 200 */
  pageSize?: number;
  /** Claims in flight at once. @default 32 */
  concurrency?: number;
  /** Asked between pages; true stops the sweep early (the rest stays due for the next sweep). */
  shouldStop?: () => boolean;
  /**
   * Back-pressure holds: URLs without a pending capture are not claimed (they stay due), nor read.
   * Work the queue already counts still goes on: parked captures are sent at their slots, pending
   * ones are checked on (expired ones failed), and a capture whose message is gone is replaced.
   * @default false
   */
  holdNewClaims?: boolean;
}

export interface SweepResult {
  /** Capture messages sent (new captures, and parked ones whose slot came). */
  enqueued: number;
  /** New captures parked on their URL: their slot is further ahead than a message can wait. */
  parked: number;
  /** Pending captures whose message expired in the queue, now failed `expired`. */
  expired: number;
  /** Due URLs another sweep claimed first. */
  lostClaims: number;
  /** False when the sweep stopped early; the URLs it did not reach are still due. */
  complete: boolean;
}

/** DynamoDB BatchWriteItem takes 25 items; SQS batches of 10 are made by the queue adapter. */
const RECORD_BATCH = 25;

interface Outgoing {
  capture: CaptureRecord;
  /** Absent for a parked capture: recorded now, sent by a later sweep. */
  delaySeconds?: number;
}

/** A fraction in [0, 1) from an id: where in the spread window its capture lands. */
function spreadFraction(id: string): number {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) >>> 0;
  return hash / 2 ** 32;
}

export async function sweepDueUrls(deps: SweepDeps, now: Date): Promise<SweepResult> {
  const lookaheadMs = deps.lookaheadMs ?? 10 * 60_000;
  if (lookaheadMs < 0 || lookaheadMs > SEND_HORIZON_MS) {
    throw new RangeError(`lookaheadMs must be within 0..${SEND_HORIZON_MS}, got ${lookaheadMs}`);
  }
  const leaseMs = deps.leaseMs ?? PENDING_LEASE_MS;
  const retentionMs = deps.retentionMs ?? CAPTURE_MESSAGE_RETENTION_MS;
  const spreadMs = deps.spreadMs ?? 0;
  const pageSize = deps.pageSize ?? 200;
  const concurrency = deps.concurrency ?? 32;
  const nowMs = now.getTime();
  const iso = (ms: number) => new Date(ms).toISOString();
  const delayOf = (startMs: number) => Math.max(0, Math.ceil((startMs - nowMs) / 1000));
  const result: SweepResult = { enqueued: 0, parked: 0, expired: 0, lostClaims: 0, complete: true };
  const outgoing: Outgoing[] = [];

  // Captures are recorded in batches before their messages go out, so a worker never receives a
  // message whose capture does not exist yet.
  const flush = async (all: boolean) => {
    while (outgoing.length >= RECORD_BATCH || (all && outgoing.length > 0)) {
      const batch = outgoing.splice(0, RECORD_BATCH);
      await deps.repository.putCaptures(batch.map((o) => o.capture));
      await send(batch.filter((o) => o.delaySeconds !== undefined));
      result.parked += batch.filter((o) => o.delaySeconds === undefined).length;
    }
  };

  const send = async (batch: Outgoing[]) => {
    if (batch.length === 0) return;
    const entries = batch.map((o) => ({
      message: { captureId: o.capture.captureId },
      delaySeconds: o.delaySeconds ?? 0,
    }));
    try {
      if (deps.queue.enqueueBatch) await deps.queue.enqueueBatch(entries);
      else for (const e of entries) await deps.queue.enqueue(e.message, { delaySeconds: e.delaySeconds });
      result.enqueued += batch.length;
    } catch (err) {
      // A capture whose message could not be sent must not hang as queued: it is failed, and its
      // URL is due again at once, for the next sweep.
      deps.logger.error("capture messages not sent; failing their captures", { count: batch.length, err });
      for (const { capture } of batch) {
        await deps.repository.finishCapture({
          ...capture,
          status: "failed",
          finishedAt: now.toISOString(),
          error: { code: "queue_unavailable", message: "The capture could not be queued." },
        });
        await deps.repository.releasePending(capture.urlId, capture.captureId, now.toISOString());
      }
    }
  };

  /**
   * A URL whose pending capture's lease ended: true when it needs a new capture (the pending one
   * is gone, finished, or expired in the queue), false when the capture still waits or runs.
   */
  const needsNewCapture = async (due: DueUrl & { pendingCaptureId: string }): Promise<boolean> => {
    const capture = await deps.repository.getCapture(due.pendingCaptureId);
    if (!capture || (capture.status !== "queued" && capture.status !== "running")) return true;
    // Its message was sent at its slot at the latest, so past the retention after it, it is gone.
    if (nowMs - Date.parse(capture.notBefore ?? capture.requestedAt) > retentionMs) {
      await deps.repository.finishCapture({
        ...capture,
        status: "failed",
        finishedAt: now.toISOString(),
        error: {
          code: "expired",
          message: "The capture waited in the queue longer than the queue keeps a message, and was dropped.",
        },
      });
      result.expired++;
      return true;
    }
    await deps.repository.extendPending(due.urlId, capture.captureId, due.dueAt, iso(nowMs + leaseMs));
    return false;
  };

  /** A parked capture whose slot is within reach: its message goes out now, delayed to the slot. */
  const sendParked = async (due: DueUrl & { pendingCaptureId: string }, fresh: DueUrl[]) => {
    const capture = await deps.repository.getCapture(due.pendingCaptureId);
    if (!capture || (capture.status !== "queued" && capture.status !== "running")) {
      fresh.push(due);
      return;
    }
    const startMs = Math.max(nowMs, Date.parse(due.dueAt));
    if (
      !(await deps.repository.extendPending(due.urlId, capture.captureId, due.dueAt, iso(startMs + leaseMs)))
    ) {
      result.lostClaims++;
      return;
    }
    await send([{ capture, delaySeconds: delayOf(startMs) }]);
  };

  const claimFresh = async (fresh: DueUrl[]) => {
    const starts = await assignStarts(
      deps.shaper,
      fresh,
      (due) => ({
        host: hostOf(due.url),
        earliest: Math.max(Date.parse(due.dueAt), nowMs + spreadMs * spreadFraction(due.urlId)),
      }),
      "scheduled",
    );
    await runLimited(fresh, concurrency, async (due) => {
      const startMs = starts.get(due) ?? nowMs;
      const parked = startMs - nowMs > SEND_HORIZON_MS;
      const capture: CaptureRecord = {
        captureId: newCaptureId(now),
        urlId: due.urlId,
        url: due.url,
        status: "queued",
        requestedAt: now.toISOString(),
        notBefore: iso(startMs),
        attempts: 0,
        trigger: "schedule",
      };
      const claimed = await deps.repository.claimDue({
        urlId: due.urlId,
        seen: {
          dueAt: due.dueAt,
          ...(due.pendingCaptureId ? { pendingCaptureId: due.pendingCaptureId } : {}),
        },
        captureId: capture.captureId,
        startAt: iso(startMs),
        dueAt: iso(parked ? startMs : startMs + leaseMs),
        parked,
      });
      if (!claimed) {
        result.lostClaims++;
        return;
      }
      outgoing.push(parked ? { capture } : { capture, delaySeconds: delayOf(startMs) });
      if (outgoing.length >= RECORD_BATCH) await flush(false);
    });
  };

  const sweepPage = async (items: DueUrl[]) => {
    const fresh: DueUrl[] = [];
    await runLimited(items, concurrency, async (due) => {
      const pendingCaptureId = due.pendingCaptureId;
      // Only parked slots are acted on ahead of time; a URL is never captured before it is due.
      if (!due.parked && Date.parse(due.dueAt) > nowMs) return;
      if (pendingCaptureId === undefined) fresh.push(due);
      else if (due.parked) await sendParked({ ...due, pendingCaptureId }, fresh);
      else if (await needsNewCapture({ ...due, pendingCaptureId })) fresh.push(due);
    });
    await claimFresh(fresh);
    await flush(false);
  };

  const dueBy = iso(nowMs + lookaheadMs);
  /** Pages through one shard's pending captures, or its URLs on their schedule; false when stopped early. */
  const sweepRange = async (shard: number, pending: boolean): Promise<boolean> => {
    let cursor: string | undefined;
    do {
      if (deps.shouldStop?.()) return false;
      const page = await deps.repository.listDue(shard, dueBy, {
        limit: pageSize,
        pending,
        ...(cursor ? { cursor } : {}),
      });
      await sweepPage(page.items);
      cursor = page.cursor;
    } while (cursor);
    return true;
  };
  // Pending captures first, from their own partitions: a held sweep reads nothing else, so the
  // backlog of URLs it leaves due never stands between it and a parked slot or an expired message.
  const sweepShard = async (shard: number) => {
    const done = (await sweepRange(shard, true)) && (deps.holdNewClaims || (await sweepRange(shard, false)));
    if (!done) result.complete = false;
  };

  // Shards are swept a few at a time so one slow shard does not hold the others back.
  await runLimited(
    Array.from({ length: deps.shards }, (_, i) => i),
    Math.min(4, deps.shards),
    sweepShard,
  );
  await flush(true);
  deps.logger.info("sweep finished", { ...result, dueBy, heldNewClaims: deps.holdNewClaims === true });
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
