/**
 * Sweeper Lambda, invoked by EventBridge Scheduler every few minutes: enqueues the URLs that are
 * due. It stops while time is left in the invocation; what it did not reach stays due and the
 * next invocation continues from there.
 */
import { SQSClient } from "@aws-sdk/client-sqs";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { createDocumentClient } from "../../shared/adapters/aws-clients.ts";
import { createDynamoArchiveRepository } from "../../shared/adapters/dynamo-archive-repository.ts";
import { createSqsCaptureQueue } from "../../shared/adapters/sqs-capture-queue.ts";
import { INDEX_SHARDS } from "../../shared/adapters/table-schema.ts";
import { loadTableConfig, requireString } from "../../shared/config.ts";
import { type SweepDeps, type SweepResult, sweepDueUrls } from "../../shared/domain/sweep.ts";
import { ENV } from "../../shared/env-names.ts";
import { logger } from "../../shared/logger.ts";

const log = logger.child({ fn: "sweeper" });

/** Stop claiming when less than this is left of the invocation, so the last writes finish. */
const SAFETY_MARGIN_MS = 20_000;

export interface SweepEvent {
  /** The scheduled time (EventBridge Scheduler's `<aws.scheduler.scheduled-time>`), or absent for now. */
  time?: string;
}

export function createSweeperHandler(deps: Omit<SweepDeps, "shouldStop" | "logger">) {
  return middy<SweepEvent, SweepResult>().handler(async (event, context: Context) => {
    const parsed = event?.time ? new Date(event.time) : new Date();
    const now = Number.isNaN(parsed.getTime()) ? new Date() : parsed;
    return sweepDueUrls(
      { ...deps, logger: log, shouldStop: () => context.getRemainingTimeInMillis() < SAFETY_MARGIN_MS },
      now,
    );
  });
}

let wired: ReturnType<typeof createSweeperHandler> | undefined;

export const handler = (event: SweepEvent, context: Context) => {
  wired ??= (() => {
    const storage = loadTableConfig();
    return createSweeperHandler({
      repository: createDynamoArchiveRepository({
        client: createDocumentClient(storage),
        tableName: storage.tableName,
      }),
      queue: createSqsCaptureQueue({
        client: new SQSClient({}),
        queueUrl: requireString(process.env, ENV.queueUrl),
      }),
      shards: INDEX_SHARDS,
    });
  })();
  return wired(event, context);
};
