/**
 * Following an outlet as a user does it under `npm start`: the local runner (real API, poll and
 * capture handlers, both file queues, embedded storage, a real Chromium) follows a feed on the
 * fixture site and archives its articles with no other step; a later sweep polls it again and
 * archives only what is new.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../../cli/palimpsest.ts";
import { type LocalRunner, startLocalRunner } from "../../local/runner.ts";
import { createLogger } from "../../shared/logger.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";
import type { Json } from "../support/json.ts";

let site: FixtureSite;
let runner: LocalRunner;
let dataDir: string;

before(async () => {
  process.env.LOG_LEVEL = "silent";
  site = await startFixtureSite();
  dataDir = await mkdtemp(join(tmpdir(), "palimpsest-runner-sources-"));
  runner = await startLocalRunner({
    dataDir,
    port: 0,
    logger: createLogger({}, "silent"),
    sweepIntervalMs: 0,
    env: {
      ALLOW_PRIVATE_HOSTS: new URL(site.origin).host,
      CAPTURE_NAVIGATION_TIMEOUT_MS: "5000",
      CAPTURE_IDLE_TIMEOUT_MS: "2000",
      HOST_MIN_GAP_MS: "0",
      LOG_LEVEL: "silent",
    },
  });
});

after(async () => {
  await runner?.close();
  await site?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${runner.url}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, Json> };
}

const article = (n: number) =>
  `<!doctype html><html lang="en"><head><title>Local story ${n}</title><meta property="og:type" content="article"></head><body><article><h1>Local story ${n}</h1><p>The first paragraph of local story number ${n} says what happened, where and when, in enough words for the extractor.</p><p>A second paragraph adds the reactions of the people involved and what happens next.</p></article></body></html>`;

const feed = (numbers: number[]) =>
  `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Local Gazette</title><link>${site.origin}/</link>${numbers
    .map((n) => `<item><title>Local story ${n}</title><link>/stories/${n}.html</link></item>`)
    .join("")}</channel></rss>`;

describe("local runner: following a feed", () => {
  it("archives the feed's articles with no other step, and a later sweep archives only what is new", async () => {
    for (const n of [1, 2, 3]) site.setPage(`/stories/${n}.html`, article(n));
    site.setPage("/gazette.rss", feed([2, 1]), { contentType: "application/rss+xml" });

    // Recapture off: the sweep below then polls the source and recaptures nothing.
    const followed = await api("POST", "/v1/sources", {
      url: `${site.origin}/gazette.rss`,
      recapture: "off",
    });
    assert.equal(followed.status, 201);
    const sourceId = followed.json.sourceId as string;
    await runner.drain(120_000);

    const found = await api("GET", `/v1/sources/${sourceId}/urls`);
    assert.equal(found.json.items.length, 2);
    for (const item of found.json.items) {
      assert.equal(item.archived, true);
      assert.equal(item.captureCount, 1, `${item.url} was captured`);
      assert.equal(item.versionCount, 1, `${item.url} has its first version`);
      assert.match(item.title, /^Local story \d$/);
    }

    site.setPage("/gazette.rss", feed([3, 2, 1]), { contentType: "application/rss+xml" });
    const swept = await fetch(`${runner.url}/_local/sweep`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ now: new Date(Date.now() + 20 * 60_000).toISOString() }),
    });
    const sweep = (await swept.json()) as Json;
    assert.equal(sweep.polls, 1, "the due source is polled by the sweep");
    await runner.drain(120_000);

    const source = await api("GET", `/v1/sources/${sourceId}`);
    assert.equal(source.json.articleCount, 3);
    assert.equal(source.json.lastError, undefined);
    assert.equal(
      site.requestCount("/stories/1.html"),
      1,
      "an article already archived is not captured again by the poll",
    );
    assert.equal(site.requestCount("/stories/3.html"), 1);
    const captures = await api("GET", "/v1/captures?limit=10");
    assert.ok(captures.json.items.every((c: Json) => c.trigger === "source" && c.status === "succeeded"));
  });

  it("palimpsest follow and palimpsest sources, and their errors as one line", async () => {
    process.env.PALIMPSEST_API = runner.url;
    const run = async (...argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
      return { code, out, err };
    };
    try {
      site.setPage(
        "/front",
        `<!doctype html><html><head><title>Front page</title></head><body><a href="/stories/1.html">One</a><a href="/about">About</a></body></html>`,
      );
      const followed = await run(
        "follow",
        `${site.origin}/front`,
        "--link-pattern",
        "/stories/",
        "--every",
        "30",
      );
      assert.equal(followed.code, 0, followed.err.join("\n"));
      assert.match(followed.out[0] ?? "", /^src_\w+$/);
      assert.equal(
        followed.err[0],
        `${followed.out[0]}: following page ${site.origin}/front (Front page), every 30 min`,
      );

      const listed = await run("sources");
      assert.equal(listed.code, 0);
      assert.ok(
        listed.out.some((line) => line.includes(followed.out[0] ?? "?") && line.startsWith("active")),
      );
      assert.equal(JSON.parse((await run("sources", "--json")).out[0] ?? "{}").items.length, 2);

      site.setPage("/plain", "just text", { contentType: "text/plain" });
      const refused = await run("follow", `${site.origin}/plain`);
      assert.equal(refused.code, 1);
      assert.match(refused.err[0] ?? "", /^palimpsest follow: not_a_feed: /);
      assert.equal((await run("follow")).code, 2);
      assert.equal((await run("follow", `${site.origin}/front`, "--every", "soon")).code, 2);
    } finally {
      delete process.env.PALIMPSEST_API;
    }
    await runner.drain(60_000);
  });
});
