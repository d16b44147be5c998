/**
 * The poll handler for any set of adapters: SQS batch of poll jobs in, partial batch failures out.
 * No browser: a poll is one guarded HTTP fetch of a feed or sitemap (a few for a sitemap index) and
 * the captures it submits. A poll whose host is busy goes back on its source's schedule for when
 * the host frees (`pollSource`), and a later sweep sends it: the worker never sends to its own
 * queue, so there is no loop for Lambda's recursion detection to cut.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { parsePollMessage } from "../../shared/domain/sources/poll-message.ts";
import { type PollSourceDeps, pollSource } from "../../shared/domain/sources/poll-source.ts";
import { invocationLogger } from "../../shared/logger.ts";

export function createPollHandler(deps: PollSourceDeps) {
  return middy<SQSEvent, SQSBatchResponse>().handler(async (event, context: Context) => {
    const log = invocationLogger(deps.logger.child({ fn: "poll" }), context);
    const handleRecord = async (record: SQSRecord) => {
      const message = parsePollMessage(record.body);
      if (!message) {
        log.error("malformed poll message dropped", {
          messageId: record.messageId,
          bytes: record.body.length,
        });
        return;
      }
      try {
        await pollSource({ ...deps, logger: log }, message.sourceId, message.lease);
      } catch (err) {
        log.error("poll failed", { sourceId: message.sourceId, err });
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
