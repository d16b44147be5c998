/**
 * The sweeper's handler for any set of adapters, invoked by EventBridge Scheduler every few
 * minutes: enqueues the URLs that are due, then a poll job for each source that is due. It stops
 * while time is left in the invocation; what it did not reach stays due and the next invocation
 * continues from there.
 */
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { type BackPressureDeps, readBackPressure } from "../../shared/domain/back-pressure.ts";
import { type SweepSourcesDeps, sweepDueSources } from "../../shared/domain/sources/sweep-sources.ts";
import { type SweepDeps, type SweepResult, sweepDueUrls } from "../../shared/domain/sweep.ts";
import { invocationLogger } from "../../shared/logger.ts";
import { type ArchiveMetrics, noMetrics } from "../../shared/metrics.ts";

/** Stop claiming when less than this is left of the invocation, so the last writes finish. */
const SAFETY_MARGIN_MS = 20_000;

export interface SweepEvent {
  /** The scheduled time (EventBridge Scheduler's `<aws.scheduler.scheduled-time>`), or absent for now. */
  time?: string;
}

/** What one sweep did: captures enqueued, parked or expired (URLs) and poll jobs enqueued (sources). */
export interface SweepOutcome extends SweepResult {
  polls: number;
  /** Set when back-pressure held new recaptures (the URLs on their schedule stay due, unread): on what it was decided. */
  held?: "age" | "depth";
}

export function createSweeperHandler(
  deps: Omit<SweepDeps, "shouldStop"> & {
    /** Due sources get a poll job each. @default - URLs only */
    sources?: Pick<SweepSourcesDeps, "sources" | "pollQueue">;
    /** @default noMetrics */
    metrics?: ArchiveMetrics;
    /**
     * While the capture queue is backed up, a sweep claims no new recaptures (they stay due for a
     * later sweep); parked and pending captures are still seen to and sources still polled.
     * @default - never held
     */
    backPressure?: Omit<BackPressureDeps, "queue">;
  },
) {
  return middy<SweepEvent, SweepOutcome>().handler(async (event, context: Context) => {
    const log = invocationLogger(deps.logger.child({ fn: "sweeper" }), context);
    const parsed = event?.time ? new Date(event.time) : new Date();
    const now = Number.isNaN(parsed.getTime()) ? new Date() : parsed;
    const shouldStop = () => context.getRemainingTimeInMillis() < SAFETY_MARGIN_MS;
    // Sources first: there are few, and a poll that finds a new article matters more than a
    // recapture that a long URL sweep might otherwise leave no time for.
    const sources = deps.sources
      ? await sweepDueSources({ ...deps.sources, shards: deps.shards, logger: log, shouldStop }, now)
      : { polls: 0, lostClaims: 0, complete: true };
    // Read only when the sweep has time to claim anything: out of time, it claims nothing anyway.
    const pressure =
      deps.backPressure && !shouldStop()
        ? await readBackPressure({ ...deps.backPressure, queue: deps.queue })
        : { hold: false, basis: "none" as const };
    if (pressure.hold) {
      log.warn("sweep held: the capture queue is backed up", {
        basis: pressure.basis,
        value: pressure.value,
        maxAgeSeconds: deps.backPressure?.maxAgeSeconds,
        maxDepth: deps.backPressure?.maxDepth,
      });
    }
    // Held, only new claims stop: captures the queue already counts (parked ones whose slot has
    // come, pending ones to check on or replace) still go on.
    const urls = await sweepDueUrls({ ...deps, logger: log, shouldStop, holdNewClaims: pressure.hold }, now);
    (deps.metrics ?? noMetrics).sweepFinished({
      enqueued: urls.enqueued,
      polls: sources.polls,
      held: pressure.hold,
    });
    return {
      enqueued: urls.enqueued,
      parked: urls.parked,
      expired: urls.expired,
      polls: sources.polls,
      lostClaims: urls.lostClaims + sources.lostClaims,
      complete: urls.complete && sources.complete,
      ...(pressure.hold && pressure.basis !== "none" ? { held: pressure.basis } : {}),
    };
  });
}
