/**
 * Starting and serving on one machine (issue 12): a second `npm start` on the same DATA_DIR and a
 * busy port each say in one line what is wrong (no stack trace) and exit non-zero; a lock left by
 * a dead process is taken over; the API server survives big bodies on kept-alive connections,
 * drops slow-header clients in seconds, and caps the connections of one client.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { Agent, createServer, request } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LOCK_FILE } from "../../local/data-dir-lock.ts";
import { type LocalRunner, startLocalRunner } from "../../local/runner.ts";
import { createLogger } from "../../shared/logger.ts";

const dirs: string[] = [];
const children: ChildProcess[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "palimpsest-startup-"));
  dirs.push(dir);
  return dir;
}
after(async () => {
  for (const child of children) child.kill("SIGKILL");
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const npmStartEnv = (dataDir: string, port: number) => ({
  ...process.env,
  DATA_DIR: dataDir,
  PORT: String(port),
  WORKER_CONCURRENCY: "0",
  LOG_LEVEL: "silent",
});

/** `node local/main.ts` as `npm start` runs it; resolves with its URL once it listens. */
function startMain(dataDir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["local/main.ts"], {
      env: npmStartEnv(dataDir, 0),
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /running at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`exited early with ${code}: ${out}`)));
  });
}

/** Runs `node local/main.ts` expecting it to refuse to start; returns its exit code and stderr. */
function failingStart(dataDir: string, port: number): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, ["local/main.ts"], {
    env: npmStartEnv(dataDir, port),
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: result.status, stderr: result.stderr.trim() };
}

function assertOneLine(stderr: string, pattern: RegExp) {
  assert.equal(stderr.split("\n").length, 1, `one line, got:\n${stderr}`);
  assert.match(stderr, pattern);
  assert.doesNotMatch(stderr, /\n\s+at |node:internal/);
}

describe("npm start refuses clearly", () => {
  it("refuses a second runner on the same DATA_DIR and a busy port, in one line each", async () => {
    const dataDir = await tempDir();
    const url = await startMain(dataDir);
    const second = failingStart(dataDir, 0);
    assert.notEqual(second.status, 0);
    assertOneLine(second.stderr, /DATA_DIR .* is in use by another Palimpsest \(pid \d+\).*another folder/);

    // PORT+2 taken too: PORT+1 alone is free, but the runner would want PORT+2 for its replay origin.
    const busyPort = Number(new URL(url).port);
    const blocker = createServer();
    await new Promise<void>((resolve) => {
      blocker.once("error", () => resolve()); // already taken: as good
      blocker.listen(busyPort + 2, "127.0.0.1", resolve);
    });
    const busy = failingStart(await tempDir(), busyPort);
    blocker.close();
    assert.notEqual(busy.status, 0);
    assertOneLine(
      busy.stderr,
      /Port \d+ on 127\.0\.0\.1 is already in use.*needs PORT and PORT\+1.*PORT=\d+ npm start/,
    );
    const suggested = Number(/PORT=(\d+) npm start/.exec(busy.stderr)?.[1]);
    assert.ok(
      suggested > busyPort + 2,
      `suggested ${suggested}: neither ${busyPort + 1} (its next is taken) nor below`,
    );

    // The replay origin's port is a second one: taken, it is named by its own setting.
    const replayBusy = spawnSync(process.execPath, ["local/main.ts"], {
      env: { ...npmStartEnv(await tempDir(), 0), REPLAY_PORT: new URL(url).port },
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.notEqual(replayBusy.status, 0);
    assertOneLine(
      replayBusy.stderr.trim(),
      /Port \d+ on 127\.0\.0\.1 is already in use.*REPLAY_PORT=\d+ npm start/,
    );
  });

  it("refuses a back-pressure age the file queue's ordinary retries reach (15 min + 2 × 3 min)", async () => {
    const low = spawnSync(process.execPath, ["local/main.ts"], {
      env: { ...npmStartEnv(await tempDir(), 0), MAX_QUEUE_AGE_SECONDS: "1260" },
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.notEqual(low.status, 0);
    assertOneLine(low.stderr.trim(), /MAX_QUEUE_AGE_SECONDS \(1260\) must be above 1260/);
  });

  it("takes over a lock left by a process that is gone", async () => {
    const dataDir = await tempDir();
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
      encoding: "utf8",
    });
    await writeFile(join(dataDir, LOCK_FILE), `${gone.stdout}\n`);
    const runner = await startLocalRunner({
      dataDir,
      port: 0,
      workerConcurrency: 0,
      sweepIntervalMs: 0,
      logger: createLogger({}, "silent"),
    });
    await runner.close();
  });
});

describe("local API server limits", () => {
  let runner: LocalRunner;
  before(async () => {
    runner = await startLocalRunner({
      dataDir: await tempDir(),
      port: 0,
      workerConcurrency: 0,
      sweepIntervalMs: 0,
      logger: createLogger({}, "silent"),
      serverLimits: { headersTimeoutMs: 1000, requestTimeoutMs: 2000, maxConnectionsPerClient: 4 },
    });
  });
  after(async () => {
    await runner?.close();
  });

  function send(agent: Agent, method: string, path: string, body?: Buffer) {
    return new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(`${runner.url}${path}`, {
        method,
        agent,
        headers: body ? { "content-type": "application/json", "content-length": body.length } : {},
      });
      req.on("response", (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on("error", reject);
      req.end(body);
    });
  }

  it("answers a 2 MB body with 413 and the kept-alive connection keeps working", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let round = 0; round < 3; round++) {
        const big = await send(agent, "POST", "/v1/captures", Buffer.alloc(2 * 1024 * 1024, 0x61));
        assert.equal(big.status, 413);
        const next = await send(agent, "GET", "/v1/captures");
        assert.equal(next.status, 200, next.text);
      }
    } finally {
      agent.destroy();
    }
  });

  it("drops a client that sends its headers too slowly", async () => {
    const socket = connect(Number(new URL(runner.url).port), "127.0.0.1");
    const startedAt = Date.now();
    socket.write("GET /v1/captures HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    const answer = await new Promise<string>((resolve) => {
      let text = "";
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString();
      });
      socket.on("close", () => resolve(text));
    });
    assert.ok(Date.now() - startedAt < 5000, `closed after ${Date.now() - startedAt} ms`);
    assert.match(answer, /^$|^HTTP\/1\.1 408/);
  });

  it("caps the connections one client may hold", async () => {
    const port = Number(new URL(runner.url).port);
    const sockets: Socket[] = [];
    const closed = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const socket = connect(port, "127.0.0.1");
      socket.on("close", () => closed.add(i));
      socket.on("error", () => undefined);
      await new Promise((resolve) => socket.once("connect", resolve));
      sockets.push(socket);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    try {
      assert.deepEqual([...closed].sort(), [4, 5]);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    const agent = new Agent({ keepAlive: false });
    assert.equal((await send(agent, "GET", "/v1/captures")).status, 200, "freed slots are usable again");
  });
});
