import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FileQueue, type QueueMessage } from "../../local/file-queue.ts";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function openQueue(clock: { now: number }, dead: QueueMessage[] = [], directory?: string) {
  const dir = directory ?? (await mkdtemp(join(tmpdir(), "palimpsest-queue-")));
  dirs.push(dir);
  const queue = await FileQueue.open({
    directory: dir,
    visibilityTimeoutMs: 1000,
    maxReceiveCount: 2,
    now: () => clock.now,
    onDeadLetter: async (message) => void dead.push(message),
  });
  return { queue, dir };
}

describe("FileQueue", () => {
  it("hides a received message for the visibility timeout, then redelivers it", async () => {
    const clock = { now: 0 };
    const { queue } = await openQueue(clock);
    await queue.send("a");
    const first = await queue.receive();
    assert.equal(first?.receiveCount, 1);
    assert.equal(await queue.receive(), null, "invisible while in flight");
    clock.now = 1001;
    const again = await queue.receive();
    assert.equal(again?.messageId, first?.messageId);
    assert.equal(again?.receiveCount, 2);
  });

  it("moves a message to the dead-letter folder after maxReceiveCount receives", async () => {
    const clock = { now: 0 };
    const dead: QueueMessage[] = [];
    const { queue, dir } = await openQueue(clock, dead);
    await queue.send("poison");
    await queue.receive();
    clock.now += 2000;
    await queue.receive();
    clock.now += 2000;
    assert.equal(await queue.receive(), null);
    assert.equal(dead.length, 1);
    assert.equal(dead[0]?.body, "poison");
    assert.equal((await readdir(join(dir, "dead-letter"))).length, 1);
    assert.equal(queue.size, 0);
  });

  it("keeps messages across a restart and makes in-flight ones visible again", async () => {
    const clock = { now: 0 };
    const { queue, dir } = await openQueue(clock);
    await queue.send("kept");
    await queue.send("in flight");
    const taken = await queue.receive();
    assert.equal(taken?.body, "kept");
    const { queue: reopened } = await openQueue(clock, [], dir);
    assert.equal(reopened.size, 2);
    const bodies = [(await reopened.receive())?.body, (await reopened.receive())?.body].sort();
    assert.deepEqual(bodies, ["in flight", "kept"]);
  });

  it("deletes acknowledged messages for good", async () => {
    const clock = { now: 0 };
    const { queue, dir } = await openQueue(clock);
    await queue.send("done");
    const message = await queue.receive();
    assert.ok(message);
    await queue.delete(message.messageId);
    const { queue: reopened } = await openQueue(clock, [], dir);
    assert.equal(reopened.size, 0);
  });
});
