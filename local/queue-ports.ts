/**
 * The file queues behind the ports the handlers send to, with the same codecs as the SQS
 * adapters: a message written here reads exactly like one SQS delivered.
 */
import { encodeCaptureMessage } from "../shared/domain/capture-message.ts";
import { encodePollMessage } from "../shared/domain/sources/poll-message.ts";
import type { CaptureQueue, PollQueue, QueueAgeReader } from "../shared/ports.ts";
import type { FileQueue } from "./file-queue.ts";

/** The capture queue on a file queue; its depth is exact (the local runner's 429 test needs it). */
export function fileCaptureQueue(queue: FileQueue): CaptureQueue {
  return {
    enqueue: async (message, opts) =>
      void (await queue.send(encodeCaptureMessage(message), (opts?.delaySeconds ?? 0) * 1000)),
    // Each entry keeps its own delay: the host shaping gave it its slot (host-shaping.ts).
    enqueueBatch: async (entries) => {
      for (const e of entries)
        await queue.send(encodeCaptureMessage(e.message), (e.delaySeconds ?? 0) * 1000);
    },
    depth: async () => queue.size,
  };
}

/** The poll jobs' queue on a file queue. */
export function filePollQueue(polls: FileQueue): PollQueue {
  return {
    enqueue: async (message, opts) =>
      void (await polls.send(encodePollMessage(message), (opts?.delaySeconds ?? 0) * 1000)),
    enqueueBatch: async (messages) => {
      for (const message of messages) await polls.send(encodePollMessage(message));
    },
  };
}

/** The file queue's oldest message's age, known exactly (on AWS it comes from CloudWatch). */
export function fileQueueAge(queue: FileQueue): QueueAgeReader {
  return {
    oldestMessageAgeSeconds: async () => {
      const ms = queue.oldestAgeMs();
      // Nothing waiting is an age of zero: known, and never back-pressure.
      return ms === null ? 0 : ms / 1000;
    },
  };
}
