/**
 * Dead-letter Lambda: a capture message that SQS gave up on must not leave its capture queued
 * or running forever. Records each such capture as failed with the reason, then lets the
 * message go (the capture record now says what happened).
 */
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { createDocumentClient } from "../../shared/adapters/aws-clients.ts";
import { createDynamoArchiveRepository } from "../../shared/adapters/dynamo-archive-repository.ts";
import { loadTableConfig } from "../../shared/config.ts";
import { failDeadLetteredCapture } from "../../shared/domain/capture/index.ts";
import { logger } from "../../shared/logger.ts";
import type { ArchiveRepository } from "../../shared/ports.ts";

const log = logger.child({ fn: "dead-letter" });

export function createDeadLetterHandler(deps: { repository: ArchiveRepository }) {
  return middy<SQSEvent, SQSBatchResponse>().handler(async (event) => {
    const batchItemFailures: SQSBatchResponse["batchItemFailures"] = [];
    for (const record of event.Records) {
      let captureId: unknown;
      try {
        captureId = (JSON.parse(record.body) as { captureId?: unknown }).captureId;
      } catch {
        captureId = undefined;
      }
      if (typeof captureId !== "string") {
        log.error("unreadable dead-lettered message dropped", { messageId: record.messageId });
        continue;
      }
      try {
        const failed = await failDeadLetteredCapture(deps.repository, captureId, new Date().toISOString());
        log.warn("dead-lettered capture", { captureId, markedFailed: failed });
      } catch (err) {
        log.error("could not record dead-lettered capture", { captureId, err });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  });
}

let wired: ReturnType<typeof createDeadLetterHandler> | undefined;

export const handler = (event: SQSEvent, context: Context) => {
  wired ??= createDeadLetterHandler({
    repository: (() => {
      const table = loadTableConfig();
      return createDynamoArchiveRepository({
        client: createDocumentClient(table),
        tableName: table.tableName,
      });
    })(),
  });
  return wired(event, context);
};
