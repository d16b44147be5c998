/** The capture queue on Amazon SQS. */
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { CaptureQueue } from "../ports.ts";

export function createSqsCaptureQueue(deps: { client: SQSClient; queueUrl: string }): CaptureQueue {
  return {
    async enqueue(message) {
      await deps.client.send(
        new SendMessageCommand({ QueueUrl: deps.queueUrl, MessageBody: JSON.stringify(message) }),
      );
    },
  };
}
