/**
 * The correlation id that follows a capture from the API request that asked for it, through the
 * queue message, to the worker's log lines. Held per invocation in AsyncLocalStorage, not in a
 * module variable, because the local runner serves several API requests at once.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { CaptureQueue } from "./ports.ts";

const current = new AsyncLocalStorage<string>();

/** Runs `work` with `correlationId` as the current one (for everything it awaits). */
export function withCorrelationId<T>(correlationId: string, work: () => T): T {
  return current.run(correlationId, work);
}

/** The current invocation's correlation id, if it has one. */
export function currentCorrelationId(): string | undefined {
  return current.getStore();
}

/** A capture queue whose messages carry the current correlation id (when there is one). */
export function correlatedQueue(queue: CaptureQueue): CaptureQueue {
  const stamp = <M extends { correlationId?: string }>(message: M): M => {
    const correlationId = message.correlationId ?? current.getStore();
    return correlationId ? { ...message, correlationId } : message;
  };
  const { enqueueBatch, depth } = queue;
  return {
    enqueue: (message, options) => queue.enqueue(stamp(message), options),
    ...(enqueueBatch
      ? {
          enqueueBatch: (entries) =>
            enqueueBatch.call(
              queue,
              entries.map((e) => ({ ...e, message: stamp(e.message) })),
            ),
        }
      : {}),
    ...(depth ? { depth: () => depth.call(queue) } : {}),
  };
}
