/**
 * The local runner's webhook outbox: an edit event the receiver did not take is kept on disk and
 * sent again until it is taken, across a restart, and given up (and logged) after its last try.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startWebhookOutbox } from "../../local/webhook-outbox.ts";
import { createLogger } from "../../shared/logger.ts";
import type { ArticleEditedEvent, EditPublisher } from "../../shared/ports.ts";

const logger = createLogger({}, "silent");

function event(versionId: string): ArticleEditedEvent {
  return {
    type: "ArticleEdited",
    urlId: "url_1",
    url: "https://news.example/a",
    versionId,
    previousVersionId: "ver_0",
    captureId: "cap_1",
    capturedAt: "2026-11-25T00:00:00.000Z",
    title: "A",
    edit: {
      significance: "major",
      kinds: ["changed"],
      stealth: true,
      stats: { added: 0, removed: 0, changed: 1, moved: 0 },
    },
    summary: "1 sentence changed",
  } as unknown as ArticleEditedEvent;
}

/** A receiver that refuses the first `refusals` deliveries, then takes every one. */
function receiver(refusals: number): EditPublisher & { taken: string[]; tries: number } {
  const state = {
    taken: [] as string[],
    tries: 0,
    async publish(e: ArticleEditedEvent) {
      state.tries++;
      if (state.tries <= refusals) throw new Error("HTTP 503");
      state.taken.push(e.versionId);
    },
  };
  return state;
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("webhook outbox", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "palimpsest-outbox-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("delivers at once when the receiver takes it, keeping nothing", async () => {
    const direct = receiver(0);
    const outbox = await startWebhookOutbox({ direct, directory: join(dir, "a"), logger, retryMs: 20 });
    await outbox.publisher.publish(event("ver_a"));
    assert.deepEqual(direct.taken, ["ver_a"]);
    assert.equal(outbox.pending, 0);
    await outbox.close();
  });

  it("keeps what the receiver refused and sends it again until taken", async () => {
    const direct = receiver(3);
    const outbox = await startWebhookOutbox({ direct, directory: join(dir, "b"), logger, retryMs: 20 });
    await outbox.publisher.publish(event("ver_b")); // refused: kept, not thrown
    assert.equal(outbox.pending, 1);
    await until(() => direct.taken.includes("ver_b"));
    assert.equal(direct.tries, 4);
    await until(() => outbox.pending === 0);
    await outbox.close();
  });

  it("survives a restart: a kept event is sent by the next process", async () => {
    const down = receiver(Number.POSITIVE_INFINITY);
    const first = await startWebhookOutbox({
      direct: down,
      directory: join(dir, "c"),
      logger,
      retryMs: 60_000,
    });
    await first.publisher.publish(event("ver_c"));
    await first.close();
    const up = receiver(0);
    const second = await startWebhookOutbox({ direct: up, directory: join(dir, "c"), logger, retryMs: 20 });
    await until(() => up.taken.includes("ver_c"), 70_000);
    await second.close();
  });

  it("gives up after its last try and moves the event aside", async () => {
    const down = receiver(Number.POSITIVE_INFINITY);
    const directory = join(dir, "d");
    const outbox = await startWebhookOutbox({ direct: down, directory, logger, retryMs: 5, maxAttempts: 3 });
    await outbox.publisher.publish(event("ver_d"));
    await until(() => outbox.pending === 0);
    assert.equal(down.tries, 4, "the first delivery and three tries from the outbox");
    assert.equal((await readdir(join(directory, "dead-letter"))).length, 1);
    await outbox.close();
  });
});
