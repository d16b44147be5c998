/**
 * The sweeper's part for sources: finds those due through the due index (their own `POLL#` shards
 * beside the URLs' `DUE#` ones, never a scan), claims each with a conditional write that moves its
 * next time to a lease, and enqueues one poll job per claimed source. The poll itself runs in the
 * poll worker, never inside the sweep's time budget; if its message is lost, the lease runs out
 * and the source comes due again.
 */
import type { Logger } from "../../logger.ts";
import type { DueSource, PollMessage, PollQueue, SourceRepository } from "../../ports.ts";
import { runLimited } from "../sweep.ts";

export interface SweepSourcesDeps {
  sources: SourceRepository;
  pollQueue: PollQueue;
  shards: number;
  logger: Logger;
  /** How long a claimed source stays off the due index while its poll runs. @default 15 min */
  leaseMs?: number;
  /** @default 200 */
  pageSize?: number;
  /** @default 16 */
  concurrency?: number;
  shouldStop?: () => boolean;
}

export interface SweepSourcesResult {
  polls: number;
  lostClaims: number;
  complete: boolean;
}

const SEND_BATCH = 10;

export async function sweepDueSources(deps: SweepSourcesDeps, now: Date): Promise<SweepSourcesResult> {
  const leaseMs = deps.leaseMs ?? 15 * 60_000;
  const pageSize = deps.pageSize ?? 200;
  const concurrency = deps.concurrency ?? 16;
  const dueBy = now.toISOString();
  const leaseUntil = new Date(now.getTime() + leaseMs).toISOString();
  const result: SweepSourcesResult = { polls: 0, lostClaims: 0, complete: true };
  const pending: PollMessage[] = [];

  const flush = async (all: boolean) => {
    while (pending.length >= SEND_BATCH || (all && pending.length > 0)) {
      const batch = pending.splice(0, SEND_BATCH);
      if (deps.pollQueue.enqueueBatch) await deps.pollQueue.enqueueBatch(batch);
      else for (const message of batch) await deps.pollQueue.enqueue(message);
      result.polls += batch.length;
    }
  };

  const claimOne = async (due: DueSource) => {
    if (!(await deps.sources.claimDueSource(due.sourceId, due.nextPollAt, leaseUntil))) {
      result.lostClaims++;
      return;
    }
    pending.push({ kind: "poll", sourceId: due.sourceId, lease: leaseUntil });
  };

  const sweepShard = async (shard: number) => {
    let cursor: string | undefined;
    do {
      if (deps.shouldStop?.()) {
        result.complete = false;
        return;
      }
      const page = await deps.sources.listDueSources(shard, dueBy, {
        limit: pageSize,
        ...(cursor ? { cursor } : {}),
      });
      await runLimited(page.items, concurrency, claimOne);
      await flush(false);
      cursor = page.cursor;
    } while (cursor);
  };

  await runLimited(
    Array.from({ length: deps.shards }, (_, i) => i),
    Math.min(4, deps.shards),
    sweepShard,
  );
  await flush(true);
  deps.logger.info("source sweep finished", { ...result, dueBy });
  return result;
}
