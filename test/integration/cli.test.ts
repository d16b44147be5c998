/**
 * The `palimpsest` command line against a running local runner: capture with --wait, status,
 * list and diff --url, and the errors a person meets (a capture that fails, an unknown id, an
 * API that is not there) as one line each, without stack traces.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../../cli/palimpsest.ts";
import { type LocalRunner, startLocalRunner } from "../../local/runner.ts";
import { createLogger } from "../../shared/logger.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";
import { runCli as spawnCli } from "../support/run-cli.ts";

let site: FixtureSite;
let runner: LocalRunner;
let dataDir: string;
let pageUrl: string;
let firstCaptureId: string;

function story(count: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Library reopens</title></head>
<body><article><h1>Library reopens</h1>
<p>The central library reopened on Saturday after a renovation that took ${count} months.</p>
<p>Visitors queued outside before the doors opened, and the children's floor was full by noon.</p>
<p>The council said the building now uses half the energy it did before the works began.</p>
</article></body></html>`;
}

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

before(async () => {
  site = await startFixtureSite();
  dataDir = await mkdtemp(join(tmpdir(), "palimpsest-cli-"));
  runner = await startLocalRunner({
    dataDir,
    port: 0,
    logger: createLogger({}, "silent"),
    sweepIntervalMs: 0,
    env: {
      ALLOW_PRIVATE_HOSTS: new URL(site.origin).host,
      CAPTURE_NAVIGATION_TIMEOUT_MS: "5000",
      CAPTURE_IDLE_TIMEOUT_MS: "1000",
      CAPTURE_MAX_ATTEMPTS: "1",
      HOST_MIN_GAP_MS: "0",
      LOG_LEVEL: "silent",
    },
  });
  process.env.PALIMPSEST_API = runner.url;
  delete process.env.PALIMPSEST_API_KEY;
  pageUrl = site.url("/cli/library");
  site.setPage("/cli/library", story("18"));
});

after(async () => {
  delete process.env.PALIMPSEST_API;
  await runner?.close();
  await site?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe("palimpsest capture, status, list and diff --url", () => {
  it("capture --wait prints the id, shows progress on stderr, then the artifact links", async () => {
    const { code, out, err } = await run("capture", pageUrl, "--wait");
    assert.equal(code, 0, err.join("\n"));
    firstCaptureId = out[0] ?? "";
    assert.match(firstCaptureId, /^cap_/);
    assert.equal(err[0], `${firstCaptureId}: queued`);
    assert.match(err.at(-1) ?? "", new RegExp(`^${firstCaptureId}: succeeded, first version ver_\\w+$`));
    const links = new Map(out.slice(1).map((line) => line.split(/\s+/) as [string, string]));
    assert.deepEqual([...links.keys()].sort(), ["article", "raw", "screenshot", "snapshot", "text", "wacz"]);
    const snapshot = await fetch(links.get("snapshot") ?? "");
    assert.equal(snapshot.status, 200, "the printed link works");
    assert.match(await snapshot.text(), /Library reopens/);
  });

  it("status prints the capture as JSON", async () => {
    const { code, out } = await run("status", firstCaptureId);
    assert.equal(code, 0);
    const capture = JSON.parse(out.join("\n"));
    assert.equal(capture.captureId, firstCaptureId);
    assert.equal(capture.status, "succeeded");
  });

  it("diff --url prints the latest edit once the page changed", async () => {
    const before = await run("diff", "--url", pageUrl);
    assert.equal(before.code, 1);
    assert.match(before.err[0] ?? "", /has not changed since it was first archived/);

    site.setPage("/cli/library", story("22"));
    const second = await run("capture", pageUrl, "--wait");
    assert.equal(second.code, 0);
    assert.match(
      second.err.at(-1) ?? "",
      /succeeded, new version ver_\w+: major (stealth )?edit \(.*number.*\)/,
    );

    const { code, out } = await run("diff", `--url=${pageUrl}`);
    assert.equal(code, 0);
    const diff = JSON.parse(out[0] ?? "{}");
    assert.equal(diff.url, pageUrl);
    assert.equal(diff.significance, "major");
    assert.ok(diff.kinds.includes("number"));
    assert.match(diff.summary, /“18” → “22”/);
    assert.equal(diff.html, undefined);
  });

  it("list shows recent captures newest first and the cursor for more", async () => {
    const first = await run("list", "--limit", "1");
    assert.equal(first.code, 0);
    assert.equal(first.out.length, 1);
    assert.match(
      first.out[0] ?? "",
      /^\d{4}-\d\d-\d\dT\S+Z {2}succeeded {2}cap_\w+ {2}http:\/\/127\.0\.0\.1:\d+\/cli\/library$/,
    );
    const cursor = /^more: palimpsest list --cursor (\S+)$/.exec(first.err[0] ?? "")?.[1];
    assert.ok(cursor, first.err.join("\n"));
    const next = await run("list", "--limit", "1", "--cursor", cursor);
    assert.match(next.out[0] ?? "", new RegExp(`${firstCaptureId}`));
    const json = await run("list", "--json");
    assert.equal(JSON.parse(json.out[0] ?? "{}").items.length, 2);
  });

  it("reports failures as one line: a failed capture, an API error, a bad option", async () => {
    const failed = await run("capture", site.url("/not-found"), "--wait");
    assert.equal(failed.code, 1);
    assert.match(failed.err.at(-1) ?? "", /: failed: http_error: .*404/);

    const missing = await run("status", "cap_doesnotexist");
    assert.equal(missing.code, 1);
    assert.deepEqual(missing.err, [
      "palimpsest status: capture_not_found: No capture has the id cap_doesnotexist.",
    ]);

    // A limit out of range is a bad argument (exit 2, as the README says), caught before the API.
    const badLimit = await run("list", "--limit", "500");
    assert.equal(badLimit.code, 2);
    assert.deepEqual(badLimit.err, [
      'palimpsest list: --limit must be a whole number from 1 to 100, not "500"',
    ]);

    const usage = await run("capture", "--wiat", pageUrl);
    assert.equal(usage.code, 2);
    assert.deepEqual(usage.err, ["palimpsest capture: unknown option --wiat"]);
  });

  it("sends PALIMPSEST_API_KEY as x-api-key", async () => {
    const seen: Array<string | undefined> = [];
    const stub = createHttpServer((req, res) => {
      seen.push(req.headers["x-api-key"] as string | undefined);
      res.writeHead(200, { "content-type": "application/json" }).end('{"items":[]}');
    });
    await new Promise<void>((r) => stub.listen(0, "127.0.0.1", r));
    try {
      const { port } = stub.address() as { port: number };
      const result = await spawnCli(
        { PALIMPSEST_API: `http://127.0.0.1:${port}/`, PALIMPSEST_API_KEY: "sekrit" },
        "list",
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, "no captures\n");
      assert.deepEqual(seen, ["sekrit"]);
    } finally {
      await new Promise((r) => stub.close(r));
    }
  });

  it("says plainly when the API cannot be reached, from the real executable", async () => {
    const port = await closedPort();
    const result = await spawnCli({ PALIMPSEST_API: `http://127.0.0.1:${port}` }, "status", "cap_x");
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.match(
      result.stderr,
      new RegExp(
        `^palimpsest status: cannot reach the API at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`,
      ),
    );
    assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");

    const badAddress = await spawnCli({ PALIMPSEST_API: "ftp://127.0.0.1" }, "list");
    assert.equal(badAddress.code, 2);
    assert.match(badAddress.stderr, /^palimpsest list: PALIMPSEST_API must be an http\(s\) URL/);
  });
});
