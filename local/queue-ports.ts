/**
 * The file queues behind the ports the handlers send to, with the same codecs as the SQS
 * adapters: a message written here reads exactly like one SQS delivered.
 *
 * On AWS the two capture lanes are two SQS queues, each with its own mapping on the capture
 * function. Locally they are one file queue whose receive takes the interactive lane's messages
 * first: the same workers, the same crash-safe files, and a person's capture never behind a sweep.
 */
import { encodeCaptureMessage } from "../shared/domain/capture-message.ts";
import { encodePollMessage } from "../shared/domain/sources/poll-message.ts";
import type { CaptureQueue, HostLane, PollQueue, QueueAgeReader } from "../shared/ports.ts";
import type { FileQueue } from "./file-queue.ts";

/** Each capture lane's priority in the file queue: interactive is received first. */
export const LANE_PRIORITY: Readonly<Record<HostLane, number>> = { scheduled: 0, interactive: 1 };

/**
 * One lane of the capture queue on a file queue (the API sends on `interactive`, the sweeper and
 * polls on `scheduled`); its depth is that lane's, exact (the local runner's 429 test needs it),
 * as each SQS queue's depth is its own.
 */
export function fileCaptureQueue(queue: FileQueue, lane: HostLane = "scheduled"): CaptureQueue {
  const priority = LANE_PRIORITY[lane];
  const send = (message: Parameters<CaptureQueue["enqueue"]>[0], delaySeconds = 0) =>
    queue.send(encodeCaptureMessage(message), { delayMs: delaySeconds * 1000, priority });
  return {
    enqueue: async (message, opts) => void (await send(message, opts?.delaySeconds)),
    // Each entry keeps its own delay: the host shaping gave it its slot (host-shaping.ts).
    enqueueBatch: async (entries) => {
      for (const e of entries) await send(e.message, e.delaySeconds);
    },
    depth: async () => queue.sizeOf(priority),
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

/**
 * The age of one lane's oldest message, known exactly (on AWS it comes from CloudWatch, for that
 * lane's queue). The sweeper reads the scheduled lane's, as it reads the scheduled queue's on AWS.
 */
export function fileQueueAge(queue: FileQueue, lane: HostLane = "scheduled"): QueueAgeReader {
  return {
    oldestMessageAgeSeconds: async () => {
      const ms = queue.oldestAgeMs(LANE_PRIORITY[lane]);
      // Nothing waiting is an age of zero: known, and never back-pressure.
      return ms === null ? 0 : ms / 1000;
    },
  };
}
