/** The poll queue on Amazon SQS: one message per source poll (see poll-message.ts for the body). */
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { encodePollMessage } from "../domain/sources/poll-message.ts";
import type { PollQueue } from "../ports.ts";

/** SQS takes at most ten messages per batch call. */
const MAX_BATCH = 10;

export function createSqsPollQueue(deps: { client: SQSClient; queueUrl: string }): PollQueue {
  return {
    async enqueue(message, options) {
      await deps.client.send(
        new SendMessageCommand({
          QueueUrl: deps.queueUrl,
          MessageBody: encodePollMessage(message),
          ...(options?.delaySeconds ? { DelaySeconds: Math.min(900, Math.ceil(options.delaySeconds)) } : {}),
        }),
      );
    },

    async enqueueBatch(messages) {
      for (let i = 0; i < messages.length; i += MAX_BATCH) {
        let entries = messages.slice(i, i + MAX_BATCH).map((message, n) => ({
          Id: String(n),
          MessageBody: encodePollMessage(message),
        }));
        // A batch can partly fail (throttling); resend only the failed entries, a few times.
        for (let attempt = 0; entries.length > 0; attempt++) {
          const out = await deps.client.send(
            new SendMessageBatchCommand({ QueueUrl: deps.queueUrl, Entries: entries }),
          );
          const failed = new Set((out.Failed ?? []).map((f) => f.Id));
          if (failed.size === 0) break;
          if (attempt >= 4) throw new Error(`SQS refused ${failed.size} poll messages after retries`);
          entries = entries.filter((entry) => failed.has(entry.Id));
          await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
        }
      }
    },
  };
}
