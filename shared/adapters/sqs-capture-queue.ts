/** The capture queue on Amazon SQS. */
import {
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { encodeCaptureMessage } from "../domain/capture-message.ts";
import type { CaptureQueue } from "../ports.ts";

/** SQS takes at most ten messages per batch call. */
const MAX_BATCH = 10;

/** SQS's counts are approximate anyway; asking once every few seconds is plenty. */
const DEPTH_CACHE_MS = 3000;

/** SQS holds a message back for at most 15 minutes; longer waits are parked by the sweep instead. */
function toDelaySeconds(seconds: number): number {
  return Math.min(900, Math.max(0, Math.ceil(seconds)));
}

/** The capture queue on SQS: sends (one or in batches of ten, each with its own delay) and depth. */
export function createSqsCaptureQueue(deps: { client: SQSClient; queueUrl: string }): CaptureQueue {
  let cachedDepth: { value: number; at: number } | undefined;
  return {
    async depth() {
      if (cachedDepth && Date.now() - cachedDepth.at < DEPTH_CACHE_MS) return cachedDepth.value;
      const out = await deps.client.send(
        new GetQueueAttributesCommand({
          QueueUrl: deps.queueUrl,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      const value =
        Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) +
        Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
      cachedDepth = { value, at: Date.now() };
      return value;
    },

    async enqueue(message, options) {
      await deps.client.send(
        new SendMessageCommand({
          QueueUrl: deps.queueUrl,
          MessageBody: encodeCaptureMessage(message),
          ...(options?.delaySeconds ? { DelaySeconds: toDelaySeconds(options.delaySeconds) } : {}),
        }),
      );
    },

    async enqueueBatch(messages) {
      for (let i = 0; i < messages.length; i += MAX_BATCH) {
        let entries = messages.slice(i, i + MAX_BATCH).map(({ message, delaySeconds }, n) => ({
          Id: String(n),
          MessageBody: encodeCaptureMessage(message),
          ...(delaySeconds ? { DelaySeconds: toDelaySeconds(delaySeconds) } : {}),
        }));
        // A batch can partly fail (throttling); resend only the failed entries, a few times.
        for (let attempt = 0; entries.length > 0; attempt++) {
          const out = await deps.client.send(
            new SendMessageBatchCommand({ QueueUrl: deps.queueUrl, Entries: entries }),
          );
          const failed = new Set((out.Failed ?? []).map((f) => f.Id));
          if (failed.size === 0) break;
          if (attempt >= 4) throw new Error(`SQS refused ${failed.size} capture messages after retries`);
          entries = entries.filter((entry) => failed.has(entry.Id));
          await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
        }
      }
    },
  };
}
