/**
 * The API's capture queue stamps each message with the request's correlation id. Batches carry
 * `{message, delaySeconds}` entries (the host shaping's per-capture delays): the stamp must go on
 * the message and the delay must survive it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { correlatedQueue, withCorrelationId } from "../../shared/correlation.ts";
import type { CaptureMessage, CaptureQueue } from "../../shared/ports.ts";

function recordingQueue() {
  const sent: Array<{ message: CaptureMessage; delaySeconds?: number }> = [];
  const queue: CaptureQueue = {
    enqueue: async (message, options) =>
      void sent.push({ message, ...(options?.delaySeconds ? { delaySeconds: options.delaySeconds } : {}) }),
    enqueueBatch: async (entries) => void sent.push(...entries),
  };
  return { sent, queue };
}

describe("correlatedQueue", () => {
  it("stamps each batch entry's message and keeps its delay", async () => {
    const { sent, queue } = recordingQueue();
    const correlated = correlatedQueue(queue);
    await withCorrelationId("req-1", () =>
      correlated.enqueueBatch?.([
        { message: { captureId: "cap_a" }, delaySeconds: 0 },
        { message: { captureId: "cap_b" }, delaySeconds: 42 },
      ]),
    );
    assert.deepEqual(sent, [
      { message: { captureId: "cap_a", correlationId: "req-1" }, delaySeconds: 0 },
      { message: { captureId: "cap_b", correlationId: "req-1" }, delaySeconds: 42 },
    ]);
  });

  it("leaves a message that already has an id, and one sent outside a request, as they are", async () => {
    const { sent, queue } = recordingQueue();
    const correlated = correlatedQueue(queue);
    await withCorrelationId("req-2", () =>
      correlated.enqueueBatch?.([{ message: { captureId: "cap_c", correlationId: "own" }, delaySeconds: 5 }]),
    );
    await correlated.enqueue({ captureId: "cap_d" }, { delaySeconds: 7 });
    assert.deepEqual(sent, [
      { message: { captureId: "cap_c", correlationId: "own" }, delaySeconds: 5 },
      { message: { captureId: "cap_d" }, delaySeconds: 7 },
    ]);
  });
});
