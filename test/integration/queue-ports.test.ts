/**
 * The local runner's capture queue on a file queue: a batch's entries each keep the delay the
 * host shaping gave them, as SQS SendMessageBatch keeps each entry's DelaySeconds.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FileQueue } from "../../local/file-queue.ts";
import { fileCaptureQueue } from "../../local/queue-ports.ts";
import { parseCaptureMessage } from "../../shared/domain/capture-message.ts";
import { createLogger } from "../../shared/logger.ts";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe("fileCaptureQueue", () => {
  it("sends each batch entry with its own delay", async () => {
    const dir = await mkdtemp(join(tmpdir(), "palimpsest-queue-ports-"));
    dirs.push(dir);
    const queue = await FileQueue.open({
      directory: dir,
      visibilityTimeoutMs: 60_000,
      maxReceiveCount: 3,
      logger: createLogger({}, "silent"),
    });
    const before = Date.now();
    await fileCaptureQueue(queue).enqueueBatch?.([
      { message: { captureId: "cap_now" }, delaySeconds: 0 },
      { message: { captureId: "cap_later" }, delaySeconds: 120 },
    ]);
    const visible = new Map(
      queue.messages().map((m) => [parseCaptureMessage(m.body)?.captureId, m.visibleAt - before]),
    );
    assert.ok((visible.get("cap_now") ?? Number.NaN) < 5_000, "an undelayed entry is visible at once");
    const later = visible.get("cap_later") ?? Number.NaN;
    assert.ok(later >= 120_000 && later < 125_000, `the delayed entry waits 120 s, got ${later} ms`);
  });
});
