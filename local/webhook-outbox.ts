/**
 * Edit events the local runner could not deliver to its webhook are kept, on disk, and sent again
 * until the receiver takes them: a receiver that is down for an hour still gets every edit. On AWS
 * the same job is EventBridge's (API destinations retry for 24 hours; the bus archive replays).
 *
 * The outbox is a file queue (SQS semantics, survives restarts). A first delivery is tried at once
 * (with the publisher's own short retries); a failure is queued and tried again after `retryMs`,
 * doubling up to an hour, for `maxAttempts` tries; an event still undelivered then moves to the
 * outbox's dead-letter folder and is logged as abandoned (the edit stays in /v1/edits and the feeds).
 */
import type { Logger } from "../shared/logger.ts";
import type { ArticleEditedEvent, EditPublisher } from "../shared/ports.ts";
import { FileQueue } from "./file-queue.ts";

const MAX_RETRY_DELAY_MS = 3_600_000;

export interface WebhookOutboxOptions {
  /** The webhook publisher that delivers (or throws). */
  direct: EditPublisher;
  directory: string;
  logger: Logger;
  /** First wait before an undelivered event is sent again; doubles each time. @default 30000 */
  retryMs?: number;
  /** Tries before an event is abandoned. @default 20 (about 14 hours at the default wait) */
  maxAttempts?: number;
}

export interface WebhookOutbox {
  /** Delivers now, or keeps the event to deliver later; never throws for a delivery failure. */
  publisher: EditPublisher;
  /** Events waiting for another try. */
  readonly pending: number;
  close(): Promise<void>;
}

export async function startWebhookOutbox(options: WebhookOutboxOptions): Promise<WebhookOutbox> {
  const { direct, logger } = options;
  const retryMs = options.retryMs ?? 30_000;
  const queue = await FileQueue.open({
    directory: options.directory,
    // Only this process reads the outbox; a try in progress is never taken twice.
    visibilityTimeoutMs: MAX_RETRY_DELAY_MS,
    maxReceiveCount: options.maxAttempts ?? 20,
    onDeadLetter: async (message) => {
      const event = JSON.parse(message.body) as ArticleEditedEvent;
      logger.error("webhook event abandoned", { versionId: event.versionId, tries: message.receiveCount });
    },
  });

  let stopping = false;
  const retrying = queue.consume(
    async (message) => {
      const event = JSON.parse(message.body) as ArticleEditedEvent;
      try {
        await direct.publish(event);
        await queue.delete(message.messageId);
        logger.info("webhook event delivered after a retry", { versionId: event.versionId });
      } catch (err) {
        const delay = Math.min(MAX_RETRY_DELAY_MS, retryMs * 2 ** message.receiveCount);
        logger.warn("webhook event still undelivered", { versionId: event.versionId, delayMs: delay, err });
        await queue.release(message.messageId, delay);
      }
    },
    () => stopping,
  );

  return {
    publisher: {
      async publish(event) {
        try {
          await direct.publish(event);
        } catch (err) {
          await queue.send(JSON.stringify(event), retryMs);
          logger.warn("webhook delivery failed; kept to send again", { versionId: event.versionId, err });
        }
      },
    },
    get pending() {
      return queue.size;
    },
    async close() {
      stopping = true;
      await retrying;
    },
  };
}
