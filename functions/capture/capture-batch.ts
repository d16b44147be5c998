/**
 * The capture worker's handler for any set of adapters (the Lambda entry, the local runner and the
 * tests all build it through functions/compose/). SQS batch in, partial batch failures out: a
 * message whose capture should be retried is reported as failed so SQS redelivers it; everything
 * else is acknowledged.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { type ProcessCaptureDeps, processCapture } from "../../shared/domain/capture/index.ts";
import { parseCaptureMessage } from "../../shared/domain/capture-message.ts";
import { invocationLogger } from "../../shared/logger.ts";
import { type ArchiveMetrics, noMetrics, outcomeName } from "../../shared/metrics.ts";

/**
 * What the capture handler runs on: the domain's dependencies and metrics. No queue: a capture is
 * never re-sent to its own queue, since politeness was shaped before its message was sent.
 */
export type CaptureHandlerDeps = ProcessCaptureDeps & {
  /** @default noMetrics */
  metrics?: ArchiveMetrics;
};

/** A record's capture is to be redelivered: Powertools reports its message as a batch item failure. */
class RedeliverCapture extends Error {}

/** How long the message waited in the queue, from SQS's own timestamps. */
function queueWaitMs(record: SQSRecord, receivedAt: number): number | undefined {
  const sent = Number(record.attributes?.SentTimestamp);
  return Number.isFinite(sent) && sent > 0 ? Math.max(0, receivedAt - sent) : undefined;
}

export function createCaptureHandler(deps: CaptureHandlerDeps) {
  const metrics = deps.metrics ?? noMetrics;
  return middy<SQSEvent, SQSBatchResponse>().handler(async (event, context: Context) => {
    const receivedAt = Date.now();
    const fnLog = invocationLogger(deps.logger.child({ fn: "capture" }), context);
    const handleRecord = async (record: SQSRecord) => {
      const message = parseCaptureMessage(record.body);
      if (!message) {
        // Retrying a malformed message cannot help; acknowledge it and leave a record.
        fnLog.error("malformed capture message dropped", {
          messageId: record.messageId,
          bytes: record.body.length,
        });
        return;
      }
      const log = fnLog.child({
        captureId: message.captureId,
        ...(message.correlationId ? { correlation_id: message.correlationId } : {}),
      });
      let outcome: Awaited<ReturnType<typeof processCapture>>;
      try {
        outcome = await processCapture({ ...deps, logger: log }, message.captureId);
      } catch (err) {
        log.error("capture processing failed", { captureId: message.captureId, err });
        throw new RedeliverCapture("capture processing failed", { cause: err });
      }
      metrics.captureHandled(outcome, queueWaitMs(record, receivedAt));
      log.info("capture message handled", {
        outcome: outcomeName(outcome),
        ...("capture" in outcome ? { urlId: outcome.capture.urlId } : {}),
      });
      if (outcome.kind === "retry") throw new RedeliverCapture(outcome.error.code);
    };
    return processPartialResponse(event, handleRecord, new BatchProcessor(EventType.SQS), {
      context,
      // One capture at a time: each holds the browser.
      processInParallel: false,
      // A batch that failed whole is answered like any other, so SQS retries each message on its own.
      throwOnFullBatchFailure: false,
    });
  });
}
