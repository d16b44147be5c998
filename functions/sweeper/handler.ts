/**
 * Sweeper Lambda, invoked by EventBridge Scheduler every few minutes: enqueues the URLs that are
 * due, then a poll job for each source that is due. It stops while time is left in the invocation;
 * what it did not reach stays due and the next invocation continues from there.
 */
import { SQSClient } from "@aws-sdk/client-sqs";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { createDocumentClient } from "../../shared/adapters/aws-clients.ts";
import { createDynamoArchiveRepository } from "../../shared/adapters/dynamo-archive-repository.ts";
import { createDynamoHostSlots } from "../../shared/adapters/dynamo-host-slots.ts";
import { createDynamoSourceRepository } from "../../shared/adapters/dynamo-source-repository.ts";
import { createSqsCaptureQueue } from "../../shared/adapters/sqs-capture-queue.ts";
import { createSqsPollQueue } from "../../shared/adapters/sqs-poll-queue.ts";
import { INDEX_SHARDS } from "../../shared/adapters/table-schema.ts";
import { loadHostShapingConfig, loadTableConfig, requireString } from "../../shared/config.ts";
import { hostLimitsFrom } from "../../shared/domain/host-shaping.ts";
import { type SweepSourcesDeps, sweepDueSources } from "../../shared/domain/sources/sweep-sources.ts";
import { type SweepDeps, type SweepResult, sweepDueUrls } from "../../shared/domain/sweep.ts";
import { ENV } from "../../shared/env-names.ts";
import { logger } from "../../shared/logger.ts";

const log = logger.child({ fn: "sweeper" });

/** Stop claiming when less than this is left of the invocation, so the last writes finish. */
const SAFETY_MARGIN_MS = 20_000;

/**
 * Captures already due are spread over one sweep interval (EventBridge starts a sweep every five
 * minutes), so each sweep's batch reaches the queue evenly instead of at once.
 */
const SPREAD_MS = 5 * 60_000;

export interface SweepEvent {
  /** The scheduled time (EventBridge Scheduler's `<aws.scheduler.scheduled-time>`), or absent for now. */
  time?: string;
}

/** What one sweep did: captures enqueued (URLs) and poll jobs enqueued (sources). */
export interface SweepOutcome extends SweepResult {
  polls: number;
}

export function createSweeperHandler(
  deps: Omit<SweepDeps, "shouldStop" | "logger"> & {
    /** Due sources get a poll job each. @default - URLs only */
    sources?: Pick<SweepSourcesDeps, "sources" | "pollQueue">;
  },
) {
  return middy<SweepEvent, SweepOutcome>().handler(async (event, context: Context) => {
    const parsed = event?.time ? new Date(event.time) : new Date();
    const now = Number.isNaN(parsed.getTime()) ? new Date() : parsed;
    const shouldStop = () => context.getRemainingTimeInMillis() < SAFETY_MARGIN_MS;
    // Sources first: there are few, and a poll that finds a new article matters more than a
    // recapture that a long URL sweep might otherwise leave no time for.
    const sources = deps.sources
      ? await sweepDueSources({ ...deps.sources, shards: deps.shards, logger: log, shouldStop }, now)
      : { polls: 0, lostClaims: 0, complete: true };
    const urls = await sweepDueUrls({ ...deps, logger: log, shouldStop }, now);
    return {
      enqueued: urls.enqueued,
      parked: urls.parked,
      expired: urls.expired,
      polls: sources.polls,
      lostClaims: urls.lostClaims + sources.lostClaims,
      complete: urls.complete && sources.complete,
    };
  });
}

let wired: ReturnType<typeof createSweeperHandler> | undefined;

export const handler = (event: SweepEvent, context: Context) => {
  wired ??= (() => {
    const storage = loadTableConfig();
    const documents = createDocumentClient(storage);
    const sqs = new SQSClient({});
    return createSweeperHandler({
      repository: createDynamoArchiveRepository({ client: documents, tableName: storage.tableName }),
      queue: createSqsCaptureQueue({ client: sqs, queueUrl: requireString(process.env, ENV.queueUrl) }),
      shards: INDEX_SHARDS,
      shaper: {
        slots: createDynamoHostSlots({ client: documents, tableName: storage.tableName }),
        limits: hostLimitsFrom(loadHostShapingConfig()),
      },
      spreadMs: SPREAD_MS,
      sources: {
        sources: createDynamoSourceRepository({ client: documents, tableName: storage.tableName }),
        pollQueue: createSqsPollQueue({
          client: sqs,
          queueUrl: requireString(process.env, ENV.pollQueueUrl),
        }),
      },
    });
  })();
  return wired(event, context);
};
