/**
 * The dead-letter handler for any set of adapters: a capture message that SQS gave up on must not
 * leave its capture queued or running forever. Records each such capture as failed with the
 * reason, then lets the message go (the capture record now says what happened).
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
// Not the capture barrel (index.ts): it would bring the capture worker's extraction into this bundle.
import { failDeadLetteredCapture } from "../../shared/domain/capture/failures.ts";
import { parseCaptureMessage } from "../../shared/domain/capture-message.ts";
import { invocationLogger, type Logger } from "../../shared/logger.ts";
import type { ArchiveRepository } from "../../shared/ports.ts";

export function createDeadLetterHandler(deps: { repository: ArchiveRepository; logger: Logger }) {
  return middy<SQSEvent, SQSBatchResponse>().handler(async (event, context: Context) => {
    const log = invocationLogger(deps.logger.child({ fn: "dead-letter" }), context);
    const handleRecord = async (record: SQSRecord) => {
      const message = parseCaptureMessage(record.body);
      if (!message) {
        log.error("unreadable dead-lettered message dropped", { messageId: record.messageId });
        return;
      }
      const { captureId } = message;
      try {
        const failed = await failDeadLetteredCapture(deps.repository, captureId, new Date().toISOString());
        log.warn("dead-lettered capture", { captureId, markedFailed: failed });
      } catch (err) {
        log.error("could not record dead-lettered capture", { captureId, err });
        throw err;
      }
    };
    return processPartialResponse(event, handleRecord, new BatchProcessor(EventType.SQS), {
      context,
      processInParallel: false,
      throwOnFullBatchFailure: false,
    });
  });
}
