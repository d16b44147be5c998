/**
 * Capture Lambda: SQS batch in, partial batch failures out. A message whose capture should be
 * retried is reported as failed so SQS redelivers it; everything else is acknowledged.
 */

import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { createDocumentClient, createS3Client } from "../../shared/adapters/aws-clients.ts";
import { createChromiumPageCapturer } from "../../shared/adapters/chromium/page-capturer.ts";
import { createDynamoArchiveRepository } from "../../shared/adapters/dynamo-archive-repository.ts";
import { createEgressProxy } from "../../shared/adapters/egress/egress-proxy.ts";
import { createEventBridgePublisher, fanOut } from "../../shared/adapters/eventbridge-publisher.ts";
import { createS3BlobReader } from "../../shared/adapters/s3-blob-reader.ts";
import { createS3BlobStore } from "../../shared/adapters/s3-blob-store.ts";
import { createWebhookPublisher } from "../../shared/adapters/webhook-publisher.ts";
import {
  loadCaptureConfig,
  loadPublishConfig,
  loadStorageConfig,
  requireString,
} from "../../shared/config.ts";
import { type ProcessCaptureDeps, processCapture } from "../../shared/domain/capture/index.ts";
import { extractArticle } from "../../shared/domain/extract/index.ts";
import { parseCadence } from "../../shared/domain/schedule.ts";
import { parseAllowedPrivateHosts } from "../../shared/domain/url.ts";
import { ENV } from "../../shared/env-names.ts";
import { logger } from "../../shared/logger.ts";
import type { CaptureMessage } from "../../shared/ports.ts";

const log = logger.child({ fn: "capture" });

function parseMessage(body: string): CaptureMessage | null {
  try {
    const parsed: unknown = JSON.parse(body);
    const captureId = (parsed as { captureId?: unknown })?.captureId;
    return typeof captureId === "string" ? { captureId } : null;
  } catch {
    return null;
  }
}

/** The handler for any set of adapters: the Lambda below and the local runner both use it. */
export function createCaptureHandler(deps: ProcessCaptureDeps) {
  return middy<SQSEvent, SQSBatchResponse>().handler(async (event) => {
    const batchItemFailures: SQSBatchResponse["batchItemFailures"] = [];
    for (const record of event.Records) {
      const message = parseMessage(record.body);
      if (!message) {
        // Retrying a malformed message cannot help; acknowledge it and leave a record.
        log.error("malformed capture message dropped", {
          messageId: record.messageId,
          bytes: record.body.length,
        });
        continue;
      }
      try {
        const outcome = await processCapture(deps, message.captureId);
        // Never re-sent to this queue: politeness was kept before the message was sent.
        if (outcome.kind === "retry") batchItemFailures.push({ itemIdentifier: record.messageId });
      } catch (err) {
        log.error("capture processing failed", { captureId: message.captureId, err });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  });
}

let wired: ReturnType<typeof createCaptureHandler> | undefined;

function wireFromEnvironment() {
  const storage = loadStorageConfig();
  const capture = loadCaptureConfig();
  const publish = loadPublishConfig();
  const publisher = fanOut([
    ...(publish.eventBusName
      ? [
          createEventBridgePublisher({
            client: new EventBridgeClient({}),
            eventBusName: publish.eventBusName,
          }),
        ]
      : []),
    ...(publish.webhook ? [createWebhookPublisher({ ...publish.webhook, logger: log })] : []),
  ]);
  const documents = createDocumentClient(storage);
  return createCaptureHandler({
    repository: createDynamoArchiveRepository({ client: documents, tableName: storage.tableName }),
    blobs: createS3BlobStore({
      client: createS3Client(storage),
      bucketName: storage.bucketName,
      reader: createS3BlobReader({
        bucketName: storage.bucketName,
        region: requireString(process.env, "AWS_REGION"),
        endpoint: storage.s3Endpoint,
      }),
    }),
    capturer: createChromiumPageCapturer({
      executablePath: capture.chromiumPath,
      logger: log,
      egress: createEgressProxy({
        allowedPrivateHosts: parseAllowedPrivateHosts(capture.allowPrivateHosts),
        maxBytesPerSession: capture.maxBytes,
        logger: log,
      }),
    }),
    extract: extractArticle,
    captureOptions: capture,
    maxAttempts: capture.maxAttempts,
    cadence: parseCadence(process.env[ENV.recaptureCadence]),
    ...(publisher ? { publisher } : {}),
    logger: log,
  });
}

export const handler = (event: SQSEvent, context: Context) => {
  wired ??= wireFromEnvironment();
  return wired(event, context);
};
