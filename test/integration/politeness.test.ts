/**
 * Politeness end to end: captures of one host are spaced out by that host's own interval, before
 * their messages are queued; other hosts are not held back, and no capture waits by re-sending.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { type LocalRunner, startLocalRunner } from "../../local/runner.ts";
import { createLogger } from "../../shared/logger.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";
import type { Json } from "../support/json.ts";

let busy: FixtureSite;
let quiet: FixtureSite;
let runner: LocalRunner;
let dataDir: string;
const GAP_MS = 2000;

before(async () => {
  busy = await startFixtureSite();
  quiet = await startFixtureSite();
  dataDir = await mkdtemp(join(tmpdir(), "palimpsest-polite-"));
  runner = await startLocalRunner({
    dataDir,
    port: 0,
    logger: createLogger({}, "silent"),
    sweepIntervalMs: 0,
    // Workers enough for both hosts: slots space the messages, and a worker free at each slot
    // starts it then (a lagging queue can bunch late messages together: SCALING.md).
    workerConcurrency: 3,
    env: {
      ALLOW_PRIVATE_HOSTS: `${new URL(busy.origin).host},${new URL(quiet.origin).host}`,
      // By default one capture of a host every 10 s (TYPICAL_CAPTURE_MS / 1); the busy host is
      // given its own interval, as an operator would for a site that allows more.
      HOST_MIN_GAP_MS: "1000",
      HOST_MAX_CONCURRENCY: "1",
      HOST_LIMITS: `${new URL(busy.origin).hostname}=${GAP_MS}ms`,
    },
  });
});

after(async () => {
  await runner?.close();
  await busy?.close();
  await quiet?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function submit(url: string): Promise<string> {
  const response = await fetch(`${runner.url}/v1/captures`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ url }),
  });
  return ((await response.json()) as { captureId: string }).captureId;
}

async function status(captureId: string): Promise<Record<string, Json>> {
  return (await (await fetch(`${runner.url}/v1/captures/${captureId}`)).json()) as Record<string, Json>;
}

it("spaces captures of one host by the minimum gap without holding other hosts back", async () => {
  const busyIds = [];
  for (const path of ["/static-article.html", "/script-article.html", "/lazy-article.html"])
    busyIds.push(await submit(busy.url(path)));
  const quietId = await submit(quiet.url("/static-article.html"));
  await runner.drain(90_000);

  const busyCaptures = await Promise.all(busyIds.map(status));
  for (const c of busyCaptures) assert.equal(c.status, "succeeded", JSON.stringify(c.error));
  assert.ok(
    busyCaptures.every((c) => c.attempts === 1),
    "waiting for a busy host spends no attempt",
  );
  // The shaper's promise is on the slots: each capture of the host gets a start slot one interval
  // after the last, and no capture starts before its slot. (When a start lags its slot, under load,
  // the next one is not pulled earlier: the measured gap between starts can only be larger than
  // the slot gap minus that lag, so the slots are what is asserted.)
  const slots = busyCaptures.map((c) => Date.parse(c.notBefore as string)).sort((a, b) => a - b);
  for (let i = 1; i < slots.length; i++) {
    const gap = (slots[i] as number) - (slots[i - 1] as number);
    assert.ok(gap >= GAP_MS, `slot gap ${gap} ms`);
  }
  for (const c of busyCaptures) {
    assert.ok(
      Date.parse(c.startedAt as string) >= Date.parse(c.notBefore as string),
      `started ${c.startedAt as string} before its slot ${c.notBefore as string}`,
    );
  }
  const starts = busyCaptures.map((c) => Date.parse(c.startedAt as string)).sort((a, b) => a - b);
  const quietCapture = await status(quietId);
  assert.equal(quietCapture.status, "succeeded");
  assert.ok(
    Date.parse(quietCapture.startedAt) < (starts[2] as number),
    "the other host ran while the busy one waited",
  );
});
