/**
 * Poll Lambda: SQS batch of poll jobs in, partial batch failures out. No browser: a poll is one
 * guarded HTTP fetch of a feed or sitemap (a few for a sitemap index) and the captures it submits.
 * A poll whose host is busy is put off with a fresh delayed message, as captures are.
 */
import { SQSClient } from "@aws-sdk/client-sqs";
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { createDocumentClient } from "../../shared/adapters/aws-clients.ts";
import { createDynamoArchiveRepository } from "../../shared/adapters/dynamo-archive-repository.ts";
import { createDynamoHostGate } from "../../shared/adapters/dynamo-host-gate.ts";
import { createDynamoHostSlots } from "../../shared/adapters/dynamo-host-slots.ts";
import { createDynamoSourceRepository } from "../../shared/adapters/dynamo-source-repository.ts";
import { createGuardedHttpFetcher } from "../../shared/adapters/guarded-http-fetcher.ts";
import { resolveHostIpv4First } from "../../shared/adapters/resolve-host.ts";
import { createSqsCaptureQueue } from "../../shared/adapters/sqs-capture-queue.ts";
import { createSqsPollQueue } from "../../shared/adapters/sqs-poll-queue.ts";
import {
  loadHostShapingConfig,
  loadPollConfig,
  loadTableConfig,
  requireString,
} from "../../shared/config.ts";
import { hostLimitsFrom } from "../../shared/domain/host-shaping.ts";
import { parsePollMessage } from "../../shared/domain/sources/poll-message.ts";
import { type PollSourceDeps, pollSource } from "../../shared/domain/sources/poll-source.ts";
import { parseAllowedPrivateHosts } from "../../shared/domain/url.ts";
import { ENV } from "../../shared/env-names.ts";
import { logger } from "../../shared/logger.ts";
import type { PollQueue } from "../../shared/ports.ts";

const log = logger.child({ fn: "poll" });

/** The handler for any set of adapters: the Lambda below and the local runner both use it. */
export function createPollHandler(deps: Omit<PollSourceDeps, "logger"> & { pollQueue: PollQueue }) {
  return middy<SQSEvent, SQSBatchResponse>().handler(async (event) => {
    const batchItemFailures: SQSBatchResponse["batchItemFailures"] = [];
    for (const record of event.Records) {
      const message = parsePollMessage(record.body);
      if (!message) {
        log.error("malformed poll message dropped", {
          messageId: record.messageId,
          bytes: record.body.length,
        });
        continue;
      }
      try {
        const outcome = await pollSource({ ...deps, logger: log }, message.sourceId);
        if (outcome.kind === "deferred") {
          await deps.pollQueue.enqueue(message, {
            delaySeconds: Math.min(900, Math.ceil(outcome.delayMs / 1000)),
          });
        }
      } catch (err) {
        log.error("poll failed", { sourceId: message.sourceId, err });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  });
}

let wired: ReturnType<typeof createPollHandler> | undefined;

function wireFromEnvironment() {
  const table = loadTableConfig();
  const config = loadPollConfig();
  const documents = createDocumentClient(table);
  const sqs = new SQSClient({});
  const allowedPrivateHosts = parseAllowedPrivateHosts(config.allowPrivateHosts);
  return createPollHandler({
    sources: createDynamoSourceRepository({ client: documents, tableName: table.tableName }),
    submit: {
      repository: createDynamoArchiveRepository({ client: documents, tableName: table.tableName }),
      queue: createSqsCaptureQueue({ client: sqs, queueUrl: requireString(process.env, ENV.queueUrl) }),
      resolveHost: resolveHostIpv4First,
      allowedPrivateHosts,
      maxQueueDepth: config.maxQueueDepth,
      shaper: {
        slots: createDynamoHostSlots({ client: documents, tableName: table.tableName }),
        limits: hostLimitsFrom(loadHostShapingConfig()),
      },
    },
    fetcher: createGuardedHttpFetcher({ allowedPrivateHosts, resolveHost: resolveHostIpv4First }),
    hostGate: createDynamoHostGate({
      client: documents,
      tableName: table.tableName,
      maxConcurrent: config.hostMaxConcurrency,
      minGapMs: config.hostMinGapMs,
      leaseMs: 5 * 60_000,
    }),
    pollQueue: createSqsPollQueue({ client: sqs, queueUrl: requireString(process.env, ENV.pollQueueUrl) }),
  });
}

export const handler = (event: SQSEvent, context: Context) => {
  wired ??= wireFromEnvironment();
  return wired(event, context);
};
