/**
 * `kill -9` of `npm start` loses no accepted capture: after a restart on the same DATA_DIR,
 * every capture that was accepted before the kill finishes.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";

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

/** Starts `node local/main.ts` like `npm start` does and resolves with its URL once it listens. */
function startServer(): Promise<{ url: string; process: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["local/main.ts"], {
      env: {
        ...process.env,
        PORT: "0",
        DATA_DIR: dataDir,
        ALLOW_PRIVATE_HOSTS: new URL(site.origin).host,
        HOST_MIN_GAP_MS: "0",
        LOG_LEVEL: "silent",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    proc.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /running at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match?.[1]) resolve({ url: match[1], process: proc });
    });
    proc.once("exit", (code) => reject(new Error(`server exited early with ${code}: ${out}`)));
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
