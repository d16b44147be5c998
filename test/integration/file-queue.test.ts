import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FileQueue, type QueueMessage } from "../../local/file-queue.ts";
import { createLogger } from "../../shared/logger.ts";

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
    logger: createLogger({}, "silent"),
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

describe("FileQueue under concurrency and damage (issue 12)", () => {
  it("never hands one message to two concurrent workers", async () => {
    const clock = { now: 0 };
    const dead: QueueMessage[] = [];
    const { queue } = await openQueue(clock, dead);
    // Messages due for the dead-letter folder first: a worker moving them awaits file I/O while
    // the others receive, which is where a stale candidate list handed one message out twice.
    for (let i = 0; i < 6; i++) await queue.send(`poison${i}`);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 6; i++) await queue.receive();
      clock.now += 2000;
    }
    for (let i = 0; i < 20; i++) await queue.send(`m${i}`);
    const received = await Promise.all(Array.from({ length: 30 }, () => queue.receive()));
    const ids = received.filter((m) => m !== null).map((m) => m.messageId);
    assert.equal(dead.length, 6);
    assert.equal(new Set(ids).size, ids.length, "each message received once");
    assert.equal(ids.length, 20);
  });

  it("dead-letters a message once when two workers reach it together, and survives a failing callback", async () => {
    const clock = { now: 0 };
    const dead: QueueMessage[] = [];
    const dir = await mkdtemp(join(tmpdir(), "palimpsest-queue-"));
    dirs.push(dir);
    const queue = await FileQueue.open({
      directory: dir,
      visibilityTimeoutMs: 1000,
      maxReceiveCount: 1,
      now: () => clock.now,
      logger: createLogger({}, "silent"),
      onDeadLetter: async (message) => {
        dead.push(message);
        throw new Error("the archive is down");
      },
    });
    await queue.send("poison");
    await queue.receive();
    clock.now += 2000;
    const results = await Promise.all([queue.receive(), queue.receive(), queue.receive()]);
    assert.deepEqual(results, [null, null, null]);
    assert.equal(dead.length, 1);
    assert.equal((await readdir(join(dir, "dead-letter"))).length, 1);
  });

  it("quarantines empty, truncated, garbage and body-less files instead of crashing or skipping them", async () => {
    const clock = { now: 0 };
    const { queue, dir } = await openQueue(clock);
    await queue.send("good");
    const live = join(dir, "messages");
    const id = () => randomUUID();
    const broken = {
      [`${id()}.json`]: "",
      [`${id()}.json`]: '{"messageId":"x","body":"{\\"captureId\\":',
      [`${id()}.json`]: "\u0000\u0001garbage",
    };
    const noBody = id();
    broken[`${noBody}.json`] = JSON.stringify({
      messageId: noBody,
      sentAt: 0,
      receiveCount: 9,
      visibleAt: 0,
    });
    for (const [name, text] of Object.entries(broken)) await writeFile(join(live, name), text);
    await writeFile(join(live, `${id()}.json.${id()}.tmp`), "half");
    const { queue: reopened } = await openQueue(clock, [], dir);
    assert.equal(reopened.size, 1);
    assert.equal((await reopened.receive())?.body, "good");
    assert.deepEqual(await readdir(live), [`${queue.messages()[0]?.messageId}.json`]);
    assert.equal((await readdir(join(dir, "quarantine"))).length, 4);
  });

  it("keeps consuming when the handler throws", async () => {
    const clock = { now: 0 };
    const dir = await mkdtemp(join(tmpdir(), "palimpsest-queue-"));
    dirs.push(dir);
    const queue = await FileQueue.open({
      directory: dir,
      visibilityTimeoutMs: 60_000,
      maxReceiveCount: 5,
      now: () => clock.now,
      logger: createLogger({}, "silent"),
    });
    await queue.send("boom");
    await queue.send("fine");
    const handled: string[] = [];
    let stop = false;
    await queue.consume(
      async (message) => {
        handled.push(message.body);
        if (message.body === "boom") throw new Error("handler bug");
        await queue.delete(message.messageId);
        stop = true;
      },
      () => stop,
    );
    assert.deepEqual(handled, ["boom", "fine"]);
  });

  it("hands out a higher priority first, even behind a backlog, and keeps it across release and restart", async () => {
    const clock = { now: 1_000 };
    const { queue, dir } = await openQueue(clock);
    for (let i = 0; i < 50; i++) {
      await queue.send(`scheduled${i}`);
      clock.now += 1;
    }
    await queue.send("person", { priority: 1 });
    await queue.send("delayed person", { priority: 1, delayMs: 5_000 });
    assert.equal(queue.sizeOf(1), 2);
    assert.equal(queue.sizeOf(0), 50);

    const first = await queue.receive();
    assert.equal(first?.body, "person", "the person's message before 50 older ones");
    // Handed back (a retry): still ahead of the backlog once visible again.
    await queue.release(first?.messageId ?? "", 0);
    const again = await queue.receive();
    assert.equal(again?.body, "person");
    await queue.delete(again?.messageId ?? "");
    // Not yet visible, a higher priority waits its turn: the backlog goes on, oldest first.
    assert.equal((await queue.receive())?.body, "scheduled0");

    // A restart reads the priority back from the message's file.
    clock.now += 10_000;
    const { queue: reopened } = await openQueue(clock, [], dir);
    const order: string[] = [];
    for (let i = 0; i < 3; i++) order.push((await reopened.receive())?.body ?? "none");
    // scheduled0's receive died with the process: visible again, and still behind the person.
    assert.deepEqual(order, ["delayed person", "scheduled0", "scheduled1"]);
    // The age of one priority's oldest message (the sweeper's back-pressure reads the scheduled lane's).
    assert.equal(reopened.oldestAgeMs(0), clock.now - 1_000);
    assert.equal(reopened.oldestAgeMs(1), clock.now - 1_050);
  });
});
