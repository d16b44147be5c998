/**
 * `kill -9` of `npm start` loses no accepted capture: after a restart on the same DATA_DIR,
 * every capture that was accepted before the kill finishes.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";
import { type NpmStart, startNpmStart } from "../support/npm-start.ts";

let site: FixtureSite;
let dataDir: string;
let child: ChildProcess | undefined;

before(async () => {
  site = await startFixtureSite();
  dataDir = await mkdtemp(join(tmpdir(), "palimpsest-kill-"));
});
after(async () => {
  child?.kill("SIGKILL");
  await site.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** `npm start` on `directory`, allowed to capture the fixture site. */
function startServer(extraEnv: Record<string, string> = {}, directory = dataDir): Promise<NpmStart> {
  return startNpmStart({
    ...extraEnv,
    DATA_DIR: directory,
    ALLOW_PRIVATE_HOSTS: new URL(site.origin).host,
    HOST_MIN_GAP_MS: "0",
    LOG_LEVEL: "silent",
  });
}

it("finishes every accepted capture after kill -9 and a restart", async () => {
  // Pages that answer slowly, so the kill lands while captures are queued and in flight.
  for (let i = 0; i < 6; i++) {
    site.setRoute(`/slow-${i}.html`, (_req, res) => {
      setTimeout(() => {
        res
          .writeHead(200, { "content-type": "text/html" })
          .end(
            `<html><body><article><h1>Slow ${i}</h1><p>${"A page that takes its time. ".repeat(20)}</p></article></body></html>`,
          );
      }, 700);
    });
  }
  const first = await startServer();
  child = first.process;
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const response = await fetch(`${first.url}/v1/captures`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ url: site.url(`/slow-${i}.html`) }),
    });
    assert.equal(response.status, 202);
    ids.push(((await response.json()) as { captureId: string }).captureId);
  }
  await site.waitForRequest("/slow-0.html", 20_000);
  first.process.kill("SIGKILL");
  await new Promise((resolve) => first.process.once("exit", resolve));

  const second = await startServer();
  child = second.process;
  const deadline = Date.now() + 120_000;
  const statuses = new Map<string, string>();
  while (Date.now() < deadline) {
    for (const id of ids) {
      const capture = (await (await fetch(`${second.url}/v1/captures/${id}`)).json()) as { status: string };
      statuses.set(id, capture.status);
    }
    if ([...statuses.values()].every((s) => s === "succeeded" || s === "failed")) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.deepEqual(
    [...statuses.values()],
    ids.map(() => "succeeded"),
    JSON.stringify([...statuses]),
  );
  second.process.kill("SIGTERM");
  await new Promise((resolve) => second.process.once("exit", resolve));
  child = undefined;
});

it("survives three kill -9 restarts with two workers: each capture ends, none twice dead-lettered", async () => {
  const directory = await mkdtemp(join(tmpdir(), "palimpsest-kill2-"));
  try {
    for (let i = 0; i < 4; i++) {
      site.setRoute(`/twice-${i}.html`, (_req, res) => {
        setTimeout(() => {
          res
            .writeHead(200, { "content-type": "text/html" })
            .end(
              `<html><body><article><h1>Twice ${i}</h1><p>${"Two workers at once. ".repeat(20)}</p></article></body></html>`,
            );
        }, 700);
      });
    }
    const env = { WORKER_CONCURRENCY: "2" };
    let server = await startServer(env, directory);
    child = server.process;
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${server.url}/v1/captures`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ url: site.url(`/twice-${i}.html`) }),
      });
      ids.push(((await response.json()) as { captureId: string }).captureId);
    }
    // Each kill lands while both workers hold a message, which then counts one more receive.
    for (let kill = 0; kill < 3; kill++) {
      const seen = site.requestCount("/twice-0.html") + site.requestCount("/twice-1.html");
      const deadline = Date.now() + 30_000;
      while (site.requestCount("/twice-0.html") + site.requestCount("/twice-1.html") <= seen) {
        assert.ok(Date.now() < deadline, "no capture started");
        await new Promise((r) => setTimeout(r, 50));
      }
      server.process.kill("SIGKILL");
      await new Promise((resolve) => server.process.once("exit", resolve));
      server = await startServer(env, directory);
      child = server.process;
    }
    let exited = false;
    server.process.once("exit", () => {
      exited = true;
    });
    const deadline = Date.now() + 120_000;
    let captures: Array<{ status: string; error?: { code: string } }> = [];
    while (Date.now() < deadline) {
      captures = await Promise.all(
        ids.map(
          async (id) =>
            (await (await fetch(`${server.url}/v1/captures/${id}`)).json()) as (typeof captures)[0],
        ),
      );
      if (captures.every((c) => c.status === "succeeded" || c.status === "failed")) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(exited, false, "the runner is still up");
    for (const capture of captures) {
      assert.ok(
        capture.status === "succeeded" || capture.error?.code === "retries_exhausted",
        JSON.stringify(captures),
      );
    }
    assert.ok(captures.filter((c) => c.status === "succeeded").length >= 2, JSON.stringify(captures));
    server.process.kill("SIGTERM");
    await new Promise((resolve) => server.process.once("exit", resolve));
    child = undefined;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});
