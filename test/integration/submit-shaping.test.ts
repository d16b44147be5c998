/**
 * Submissions shaped per host before they are queued: a person's captures take the host's
 * interactive lane (never behind its scheduled backlog, refused past 15 minutes of them), and an
 * article a source found takes the scheduled lane, parked on its URL when its slot is out of reach.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createDocumentClient } from "../../shared/adapters/aws-clients.ts";
import { createDynamoHostSlots } from "../../shared/adapters/dynamo-host-slots.ts";
import { type HostShaper, parseHostLimits } from "../../shared/domain/host-shaping.ts";
import {
  HostBusyError,
  type SubmitCaptureDeps,
  submitCapture,
  submitFoundUrl,
} from "../../shared/domain/submit-capture.ts";
import type { CaptureMessage, CaptureQueue } from "../../shared/ports.ts";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";

let storage: EmbeddedStorage;
let shaper: HostShaper;
const now = new Date("2026-03-01T09:00:00Z");

before(async () => {
  storage = await startEmbeddedStorage();
  shaper = {
    slots: createDynamoHostSlots({
      client: createDocumentClient({ dynamodbEndpoint: storage.dynamodbEndpoint }),
      tableName: storage.tableName,
    }),
    limits: parseHostLimits("slow.example=60s", { minGapMs: 1000, maxConcurrent: 2 }),
  };
});
after(async () => {
  await storage.close();
});

function deps(sent: Array<{ message: CaptureMessage; delaySeconds: number }>): SubmitCaptureDeps {
  const queue: CaptureQueue = {
    enqueue: async (message, options) =>
      void sent.push({ message, delaySeconds: options?.delaySeconds ?? 0 }),
  };
  return {
    repository: storage.repository,
    queue,
    resolveHost: async () => ["93.184.216.34"],
    allowedPrivateHosts: new Set(),
    shaper,
    now: () => now,
  };
}

describe("submissions shaped per host", () => {
  it("spaces a person's captures of one host and refuses them past 15 minutes, with Retry-After", async () => {
    const sent: Array<{ message: CaptureMessage; delaySeconds: number }> = [];
    for (let i = 0; i <= 15; i++) await submitCapture(deps(sent), { url: `https://slow.example/p-${i}` });
    assert.deepEqual(
      sent.map((s) => s.delaySeconds),
      Array.from({ length: 16 }, (_, i) => i * 60),
    );
    await assert.rejects(
      submitCapture(deps(sent), { url: "https://slow.example/one-too-many" }),
      (err: unknown) => err instanceof HostBusyError && err.status === 429 && err.retryAfterSeconds === 60,
    );
    // Another host is not held back by this one.
    await submitCapture(deps(sent), { url: "https://other.example/p" });
    assert.equal(sent.at(-1)?.delaySeconds, 0);
  });

  it("never puts a person behind the host's scheduled backlog", async () => {
    // Two hours of scheduled captures already hold the host's scheduled lane.
    await shaper.slots.reserve("backlog.example", "scheduled", () => ({
      nextFree: now.getTime() + 2 * 3_600_000,
      result: null,
    }));
    const sent: Array<{ message: CaptureMessage; delaySeconds: number }> = [];
    const submitted = await submitCapture(deps(sent), { url: "https://backlog.example/now" });
    assert.equal(sent[0]?.delaySeconds, 0);
    const url = await storage.repository.getUrl(submitted.urlId);
    assert.equal(url?.pendingCaptureId, submitted.captureId, "it is the URL's pending capture");
  });

  it("parks an article a source found when its host's slot is out of a message's reach", async () => {
    const sent: Array<{ message: CaptureMessage; delaySeconds: number }> = [];
    const found = await submitFoundUrl(deps(sent), {
      url: "https://backlog.example/found",
      recapture: "adaptive",
    });
    assert.equal(sent.length, 0, "nothing sent yet");
    const capture = await storage.repository.getCapture(found.captureId ?? assert.fail("no capture"));
    assert.equal(capture?.status, "queued");
    assert.equal(capture?.notBefore, new Date(now.getTime() + 2 * 3_600_000).toISOString());
    const url = await storage.repository.getUrl(found.urlId);
    assert.equal(url?.pendingCaptureId, found.captureId);
    assert.equal(url?.parked, true);
    assert.equal(url?.nextCaptureAt, capture?.notBefore, "the URL shows when its capture starts");
  });
});
