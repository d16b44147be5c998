/**
 * Following outlets end to end through the API handler, the poll job and the sweep, on the
 * embedded DynamoDB with the fixture site on loopback: each kind of source, autodiscovery, a
 * sitemap index with a Google News sitemap and a gzipped child, a section page with a pattern,
 * conditional polling, new items on the next poll, dedupe across sources, OPML, the source's Atom
 * feed, and each bad input of issue 14. Captures are recorded and queued, not run: the queue here
 * is a list. Article URLs on `*.example` resolve through a table to a public address and are
 * never fetched.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { createApiHandler } from "../../functions/api/create-handler.ts";
import { createGuardedHttpFetcher } from "../../shared/adapters/guarded-http-fetcher.ts";
import { INDEX_SHARDS } from "../../shared/adapters/table-schema.ts";
import { diffArticles } from "../../shared/domain/diff/index.ts";
import { urlIdFor } from "../../shared/domain/ids.ts";
import type { Article } from "../../shared/domain/model.ts";
import { type PollSourceDeps, pollSource } from "../../shared/domain/sources/poll-source.ts";
import { sweepDueSources } from "../../shared/domain/sources/sweep-sources.ts";
import { normaliseUrl, parseAllowedPrivateHosts } from "../../shared/domain/url.ts";
import { createLogger } from "../../shared/logger.ts";
import type { CaptureMessage, PollMessage, ResolveHost } from "../../shared/ports.ts";
import { apiEvent } from "../support/api-event.ts";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";
import type { Json } from "../support/json.ts";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/sources/${name}`, import.meta.url));
const context = { awsRequestId: "test", getRemainingTimeInMillis: () => 30_000 } as unknown as Context;
const silent = createLogger({}, "silent");

let storage: EmbeddedStorage;
let site: FixtureSite;
let api: ReturnType<typeof createApiHandler>;
let pollDeps: PollSourceDeps;
const captures: CaptureMessage[] = [];
const polls: PollMessage[] = [];

/** Names resolve through this table only: no DNS query leaves the machine. */
const resolveHost: ResolveHost = async (host) => {
  if (/(^|\.)example$/.test(host)) return ["93.184.215.14"]; // public, and never connected to
  if (host === "metadata.example.test") return ["169.254.169.254"];
  if (/^[\d.]+$|:/.test(host)) return [host];
  throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: "ENOTFOUND" });
};

before(async () => {
  storage = await startEmbeddedStorage();
  site = await startFixtureSite();
  const allowedPrivateHosts = parseAllowedPrivateHosts(`127.0.0.1:${new URL(site.origin).port}`);
  const queue = { enqueue: async (message: CaptureMessage) => void captures.push(message) };
  const pollQueue = { enqueue: async (message: PollMessage) => void polls.push(message) };
  const fetcher = createGuardedHttpFetcher({ allowedPrivateHosts, resolveHost, timeoutMs: 5000 });
  api = createApiHandler({
    repository: storage.repository,
    blobs: storage.blobs,
    queue,
    resolveHost,
    allowedPrivateHosts,
    presignedUrlTtlSeconds: 900,
    following: { sources: storage.sources, fetcher, pollQueue },
  });
  pollDeps = {
    sources: storage.sources,
    submit: { repository: storage.repository, queue, resolveHost, allowedPrivateHosts },
    fetcher,
    logger: silent,
    limits: { maxSitemapChildren: 2 },
  };
});

after(async () => {
  await site.close();
  await storage.close();
});

function event(
  method: string,
  path: string,
  body?: string,
  headers?: Record<string, string>,
): APIGatewayProxyEvent {
  return apiEvent({
    method,
    path,
    body,
    headers: { "content-type": "application/json", host: "archive.test", ...headers },
    requestContext: { path },
  });
}

async function call(method: string, path: string, body?: unknown, headers?: Record<string, string>) {
  const raw = typeof body === "string" ? body : body === undefined ? undefined : JSON.stringify(body);
  const result = (await api(event(method, path, raw, headers), context)) as APIGatewayProxyResult;
  const type = String(result.headers?.["content-type"] ?? "");
  return {
    status: result.statusCode,
    headers: result.headers ?? {},
    text: result.body,
    json: (type.includes("json") && result.body ? JSON.parse(result.body) : null) as Record<string, Json>,
  };
}

/** Runs every queued poll job, as the poll worker would. */
async function runPolls(): Promise<void> {
  while (polls.length > 0) {
    const message = polls.shift() as PollMessage;
    await pollSource(pollDeps, message.sourceId, message.lease);
  }
}

async function follow(body: Record<string, unknown>): Promise<string> {
  const res = await call("POST", "/v1/sources", body);
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json.sourceId as string;
}

/** A feed served with an ETag that honours If-None-Match, so tests can change it between polls. */
function servedFeed(path: string, initial: string) {
  let body = initial;
  let version = 1;
  let conditional = 0;
  site.setRoute(path, (req: IncomingMessage, res: ServerResponse) => {
    const etag = `"v${version}"`;
    if (req.headers["if-none-match"] === etag) {
      conditional++;
      res.writeHead(304, { etag }).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/rss+xml; charset=utf-8", etag }).end(body);
  });
  return {
    set(next: string) {
      body = next;
      version++;
    },
    get notModifiedAnswers() {
      return conditional;
    },
  };
}

const rss = (items: string[]) =>
  `<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><link>https://wire.example/</link>${items
    .map((path) => `<item><title>${path}</title><link>https://wire.example${path}</link></item>`)
    .join("")}</channel></rss>`;

describe("following a feed", () => {
  let sourceId: string;

  it("is stored at once and its first poll links and submits each article, with the source's policy", async () => {
    site.setPage("/world.rss", fixture("rss2-outlet.xml"), { contentType: "application/rss+xml" });
    const res = await call("POST", "/v1/sources", {
      url: `${site.origin}/world.rss`,
      recapture: { everyMinutes: 60 },
      pollEveryMinutes: 30,
    });
    assert.equal(res.status, 201);
    sourceId = res.json.sourceId;
    assert.match(sourceId, /^src_[0-9a-z]{26}$/);
    assert.equal(res.headers.location, `/v1/sources/${sourceId}`);
    assert.equal(res.json.kind, "feed");
    assert.equal(res.json.format, "rss");
    assert.equal(res.json.title, "The Daily Example – World");
    assert.equal(res.json.status, "active");
    const firstPollAt = (await storage.sources.getSource(sourceId))?.nextPollAt;
    assert.deepEqual(
      polls,
      [{ kind: "poll", sourceId, lease: firstPollAt }],
      "its first poll is queued at once",
    );

    const before = captures.length;
    await runPolls();
    const urls = [
      "https://news.example/world/2026/mar/03/minister-resigns",
      "https://news.example/world/2026/mar/03/floods-evacuation",
      "https://news.example/world/live/2026/mar/02/summit",
    ];
    assert.equal(captures.length - before, 3, "the fragment-only duplicate is the same article");
    for (const url of urls) {
      const record = await storage.repository.getUrl(urlIdFor(url));
      assert.ok(record, url);
      assert.deepEqual(record.recapture, { everyMinutes: 60 });
    }
    const capture = await storage.repository.getCapture(captures.at(-1)?.captureId ?? "");
    assert.equal(capture?.trigger, "source");

    const shown = await call("GET", `/v1/sources/${sourceId}`);
    assert.equal(shown.json.articleCount, 3);
    assert.equal(shown.json.pollEveryMinutes, 30);
    assert.ok(shown.json.lastPolledAt);
    assert.equal(Date.parse(shown.json.nextPollAt) - Date.parse(shown.json.lastPolledAt), 30 * 60_000);
    assert.equal(shown.json.lastError, undefined);
    assert.equal(shown.json.seen, undefined, "internal fields stay inside");

    const found = await call("GET", `/v1/sources/${sourceId}/urls`);
    assert.deepEqual(found.json.items.map((i: Json) => i.url).sort(), [...urls].sort());
    assert.ok(found.json.items.every((i: Json) => i.submitted === true && i.archived === true));
  });

  it("a second poll of an unchanged feed submits nothing", async () => {
    const before = captures.length;
    polls.push({ kind: "poll", sourceId });
    await runPolls();
    assert.equal(captures.length, before);
    assert.equal((await call("GET", `/v1/sources/${sourceId}`)).json.articleCount, 3);
  });

  it("a feed that changes a little is polled conditionally: a 304 makes no work, a new item is found next time", async () => {
    const feed = servedFeed("/wire.rss", rss(["/a", "/b"]));
    const id = await follow({ url: `${site.origin}/wire.rss` });
    await runPolls();
    const afterFirst = captures.length;

    polls.push({ kind: "poll", sourceId: id });
    await runPolls();
    assert.equal(feed.notModifiedAnswers, 1, "the poll sent the feed's ETag back");
    assert.equal(captures.length, afterFirst, "a 304 makes no work");
    const polled = await call("GET", `/v1/sources/${id}`);
    assert.equal(polled.json.articleCount, 2);

    feed.set(rss(["/c", "/a", "/b"]));
    polls.push({ kind: "poll", sourceId: id });
    await runPolls();
    assert.equal(captures.length, afterFirst + 1, "only the new item is submitted");
    const newest = await call("GET", `/v1/sources/${id}/urls`);
    assert.equal(newest.json.items[0].url, "https://wire.example/c", "newest first");
    assert.equal((await call("GET", `/v1/sources/${id}`)).json.articleCount, 3);
  });

  it("an article already archived joins another source that lists it, and is not captured again", async () => {
    site.setPage(
      "/digest.json",
      JSON.stringify({
        version: "https://jsonfeed.org/version/1.1",
        title: "Digest",
        items: [
          { id: "1", url: "https://news.example/world/2026/mar/03/minister-resigns?utm_medium=email" },
          { id: "2", url: "https://digest.example/only-here" },
        ],
      }),
      { contentType: "application/feed+json" },
    );
    const id = await follow({ url: `${site.origin}/digest.json` });
    const before = captures.length;
    await runPolls();
    assert.equal(captures.length, before + 1, "only the URL new to the archive is captured");
    const found = await call("GET", `/v1/sources/${id}/urls`);
    const joined = found.json.items.find((i: Json) => i.url.includes("minister-resigns"));
    assert.equal(joined.submitted, false);
    assert.equal(joined.archived, true);
    assert.equal((await call("GET", `/v1/sources/${id}`)).json.articleCount, 2);
  });
});

describe("sitemaps and pages", () => {
  it("a sitemap index with a Google News sitemap and gzipped children: the newest children, each entry once", async () => {
    site.setPage("/sitemap.xml", fixture("sitemap-index.xml"), { contentType: "application/xml" });
    site.setPage("/sitemaps/news.xml", fixture("sitemap-news.xml"), { contentType: "application/xml" });
    site.setPage("/sitemaps/archive-2025.xml.gz", gzipSync(fixture("sitemap-archive.xml")), {
      contentType: "application/x-gzip",
    });
    site.setPage("/sitemaps/archive-2024.xml.gz", gzipSync("<urlset/>"), {
      contentType: "application/x-gzip",
    });
    const res = await call("POST", "/v1/sources", { url: `${site.origin}/sitemap.xml`, kind: "sitemap" });
    assert.equal(res.status, 201);
    assert.equal(res.json.format, "sitemapindex");
    const before = captures.length;
    await runPolls();
    assert.equal(captures.length - before, 4, "two news articles and two from the 2025 archive");
    assert.equal(site.requestCount("/sitemaps/archive-2024.xml.gz"), 0, "the oldest child is past the cap");
    const shown = await call("GET", `/v1/sources/${res.json.sourceId}`);
    assert.equal(shown.json.articleCount, 4);
    assert.equal(shown.json.lastError?.code, "too_many_children");
    const found = await call("GET", `/v1/sources/${res.json.sourceId}/urls`);
    const fire = found.json.items.find((i: Json) => i.url.endsWith("/harbour-fire"));
    assert.equal(fire.title, "Fire at the harbour: crews & residents");
    assert.equal(fire.publishedAt, "2026-03-03T08:15:00.000Z");
  });

  it("autodiscovery: a page that names its feed is followed through that feed", async () => {
    site.setPage(
      "/home.html",
      `<!doctype html><html><head><title>Tribune</title><link rel="alternate" type="application/atom+xml" href="/politics/atom.xml"></head><body></body></html>`,
    );
    site.setPage("/politics/atom.xml", fixture("atom.xml"), { contentType: "application/atom+xml" });
    const res = await call("POST", "/v1/sources", { url: `${site.origin}/home.html` });
    assert.equal(res.status, 201);
    assert.equal(res.json.url, `${site.origin}/politics/atom.xml`);
    assert.equal(res.json.discoveredFrom, `${site.origin}/home.html`);
    assert.equal(res.json.kind, "feed");
    assert.equal(res.json.format, "atom");
    await runPolls();
    assert.equal((await call("GET", `/v1/sources/${res.json.sourceId}`)).json.articleCount, 2);
  });

  it("a section page without a feed needs a pattern, and then only matching links are articles", async () => {
    site.setPage("/business", fixture("section-page.html"));
    const refused = await call("POST", "/v1/sources", { url: `${site.origin}/business` });
    assert.equal(refused.status, 422);
    assert.equal(refused.json.error.code, "not_a_feed");
    const res = await call("POST", "/v1/sources", {
      url: `${site.origin}/business`,
      linkPattern: "/business/20\\d\\d/\\d\\d/",
    });
    assert.equal(res.status, 201);
    assert.equal(res.json.kind, "page");
    await runPolls();
    const found = await call("GET", `/v1/sources/${res.json.sourceId}/urls`);
    assert.deepEqual(found.json.items.map((i: Json) => i.url).sort(), [
      `${site.origin}/business/2026/03/03/port-profits`,
      "https://harbour.example/business/2026/03/02/fish-prices",
    ]);
  });
});

describe("bad input", () => {
  it("answers each bad request with its status and code", async () => {
    site.setPage("/plain.txt", fixture("not-a-feed.txt"), { contentType: "text/plain" });
    site.setPage("/html-feed", rss(["/x"]), { contentType: "text/html" });
    // Starts like a feed and is garbage after: the poll's parser would find no channel in it.
    site.setPage("/rss-garbage", '<rss version="2.0">garbage \u0000 }{ <<not xml', {
      contentType: "application/rss+xml",
    });
    const cases: Array<[unknown, number, string]> = [
      [{}, 400, "missing_url"],
      [{ url: `${site.origin}/plain.txt`, colour: "red" }, 400, "unknown_field"],
      [{ url: "ftp://news.example/feed" }, 400, "unsupported_scheme"],
      [{ url: "http://127.0.0.1:8080/feed" }, 400, "private_address"],
      [{ url: "http://metadata.example.test/latest" }, 400, "private_address"],
      [{ url: "http://localhost:8080/feed" }, 400, "private_address"],
      [{ url: `${site.origin}/plain.txt`, pollEveryMinutes: 2 }, 400, "invalid_poll_interval"],
      [{ url: `${site.origin}/plain.txt`, pollEveryMinutes: 1441 }, 400, "invalid_poll_interval"],
      [{ url: `${site.origin}/plain.txt`, linkPattern: "(?<=x)" }, 400, "invalid_link_pattern"],
      [{ url: `${site.origin}/plain.txt`, kind: "page" }, 400, "missing_link_pattern"],
      [{ url: `${site.origin}/plain.txt`, kind: "podcast" }, 400, "invalid_kind"],
      [{ url: `${site.origin}/plain.txt`, recapture: "sometimes" }, 400, "invalid_recapture"],
      [{ url: `${site.origin}/plain.txt` }, 422, "not_a_feed"],
      [{ url: `${site.origin}/rss-garbage` }, 422, "not_a_feed"],
      [{ url: `${site.origin}/not-found` }, 422, "http_error"],
      [{ url: "http://news.example:22/feed" }, 400, "port_not_allowed"],
      [{ url: `${site.origin}/html-feed`, kind: "sitemap" }, 422, "kind_mismatch"],
    ];
    for (const [body, status, code] of cases) {
      const res = await call("POST", "/v1/sources", body);
      assert.equal(res.status, status, `${JSON.stringify(body)} → ${JSON.stringify(res.json)}`);
      assert.equal(res.json.error.code, code, JSON.stringify(body));
      assert.ok(typeof res.json.error.message === "string" && !res.json.error.message.includes("    at "));
    }
    const invalidJson = await call("POST", "/v1/sources", "{nope");
    assert.equal(invalidJson.status, 400);
  });

  it("an unreachable URL is a 422 with the fetch's code", async () => {
    const port = new URL(site.origin).port;
    // Allowed by address, but nothing listens there: the port of a server that was closed.
    const { createServer } = await import("node:http");
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const deadPort = (server.address() as { port: number }).port;
    await new Promise((done) => server.close(done));
    const local = createApiHandler({
      repository: storage.repository,
      blobs: storage.blobs,
      queue: { enqueue: async () => {} },
      resolveHost,
      allowedPrivateHosts: parseAllowedPrivateHosts(`127.0.0.1:${port},127.0.0.1:${deadPort}`),
      presignedUrlTtlSeconds: 900,
      following: {
        sources: storage.sources,
        fetcher: createGuardedHttpFetcher({
          allowedPrivateHosts: parseAllowedPrivateHosts(`127.0.0.1:${deadPort}`),
        }),
        pollQueue: { enqueue: async () => {} },
      },
    });
    const result = (await local(
      event("POST", "/v1/sources", JSON.stringify({ url: `http://127.0.0.1:${deadPort}/feed` })),
      context,
    )) as APIGatewayProxyResult;
    assert.equal(result.statusCode, 422);
    assert.equal(JSON.parse(result.body).error.code, "connection_failed");
  });

  it("following the same URL twice is a 409 that names the source", async () => {
    site.setPage("/twice.rss", rss(["/t"]), { contentType: "application/rss+xml" });
    const id = await follow({ url: `${site.origin}/twice.rss` });
    const again = await call("POST", "/v1/sources", { url: `${site.origin}/twice.rss?utm_source=x` });
    assert.equal(again.status, 409);
    assert.equal(again.json.error.code, "source_exists");
    assert.match(again.json.error.message, new RegExp(id));
    polls.length = 0;
  });

  it("a feed that turns to garbage keeps its articles, records lastError and is polled again", async () => {
    const feed = servedFeed("/turns.rss", rss(["/g1", "/g2"]));
    const id = await follow({ url: `${site.origin}/turns.rss` });
    await runPolls();
    feed.set("<html><body>Site under maintenance</body></html>");
    polls.push({ kind: "poll", sourceId: id });
    await runPolls();
    const broken = await call("GET", `/v1/sources/${id}`);
    assert.equal(broken.json.lastError.code, "not_a_feed");
    assert.equal(broken.json.articleCount, 2);
    assert.ok(Date.parse(broken.json.nextPollAt) > Date.now(), "still scheduled");
    assert.equal((await call("GET", `/v1/sources/${id}/urls`)).json.items.length, 2);
    feed.set(rss(["/g3", "/g1", "/g2"]));
    polls.push({ kind: "poll", sourceId: id });
    await runPolls();
    const healed = await call("GET", `/v1/sources/${id}`);
    assert.equal(healed.json.lastError, undefined);
    assert.equal(healed.json.articleCount, 3);
  });

  it("a stored pattern that RE2 refuses (JavaScript took it) is recorded by the poll, not retried forever", async () => {
    site.setPage("/re2.rss", rss(["/r1"]), { contentType: "application/rss+xml" });
    const id = await follow({ url: `${site.origin}/re2.rss`, linkPattern: "wire\\.example/\\cA" });
    await runPolls();
    const shown = await call("GET", `/v1/sources/${id}`);
    assert.equal(shown.json.lastError.code, "invalid_link_pattern");
    assert.equal(shown.json.articleCount, 0);
    assert.ok(shown.json.nextPollAt, "still scheduled: a PATCH of the pattern fixes it");
  });

  it("a feed whose server fails records the fetch's code", async () => {
    let healthy = true;
    site.setRoute("/flaky.rss", (_req, res) => {
      if (healthy) res.writeHead(200, { "content-type": "application/rss+xml" }).end(rss(["/f"]));
      else res.writeHead(503, { "retry-after": "60" }).end("busy");
    });
    const id = await follow({ url: `${site.origin}/flaky.rss` });
    await runPolls();
    healthy = false;
    polls.push({ kind: "poll", sourceId: id });
    await runPolls();
    const shown = await call("GET", `/v1/sources/${id}`);
    assert.equal(shown.json.lastError.code, "http_error");
    assert.match(shown.json.lastError.message, /503/);
    assert.equal(shown.json.articleCount, 1);
  });
});

describe("caps on what a poll reads", () => {
  it("a feed over the entry cap (200): the first 200 in its order are taken, the rest left, too_many_entries noted", async () => {
    const paths = Array.from({ length: 205 }, (_, i) => `/many/${i + 1}`);
    site.setPage("/many.rss", rss(paths), { contentType: "application/rss+xml" });
    const id = await follow({ url: `${site.origin}/many.rss` });
    const before = captures.length;
    await runPolls();
    const shown = await call("GET", `/v1/sources/${id}`);
    assert.equal(shown.json.lastError.code, "too_many_entries");
    assert.match(shown.json.lastError.message, /lists 205 article links; each poll takes the 200 first/);
    assert.equal(shown.json.articleCount, 200);
    assert.equal(captures.length - before, 200, "each taken entry is submitted");
    const archived = async (path: string) =>
      (await storage.repository.getUrl(urlIdFor(normaliseUrl(`https://wire.example${path}`)))) !== null;
    assert.ok((await archived("/many/1")) && (await archived("/many/200")), "the feed's first 200");
    assert.equal(await archived("/many/201"), false, "past the cap: left out");
    assert.ok(Date.parse(shown.json.nextPollAt) > Date.now(), "still scheduled");
  });

  it("a feed that grows past 10 MiB records too_large on the poll and keeps its articles", async () => {
    const feed = servedFeed("/grows.rss", rss(["/big1", "/big2"]));
    const id = await follow({ url: `${site.origin}/grows.rss` });
    await runPolls();
    assert.equal((await call("GET", `/v1/sources/${id}`)).json.articleCount, 2);
    const padding = `<description>${"x".repeat(10 * 1024 * 1024)}</description>`;
    feed.set(rss(["/big3", "/big1", "/big2"]).replace("</channel>", `<item>${padding}</item></channel>`));
    const before = captures.length;
    polls.push({ kind: "poll", sourceId: id });
    await runPolls();
    const shown = await call("GET", `/v1/sources/${id}`);
    assert.equal(shown.json.lastError.code, "too_large");
    assert.equal(shown.json.articleCount, 2);
    assert.equal(captures.length, before, "nothing from the oversized feed");
    assert.equal((await call("GET", `/v1/sources/${id}/urls`)).json.items.length, 2);
    assert.ok(Date.parse(shown.json.nextPollAt) > Date.now(), "still scheduled");
  });
});

describe("changing and removing sources", () => {
  it("pause takes a source off the sweep, resume puts it back; a deleted source stops and loses nothing", async () => {
    site.setPage("/pause.rss", rss(["/p1"]), { contentType: "application/rss+xml" });
    const id = await follow({ url: `${site.origin}/pause.rss` });
    await runPolls();

    const paused = await call("PATCH", `/v1/sources/${id}`, { paused: true, pollEveryMinutes: 60 });
    assert.equal(paused.status, 200);
    assert.equal(paused.json.status, "paused");
    assert.equal(paused.json.nextPollAt, null);
    assert.equal(paused.json.pollEveryMinutes, 60);
    const later = new Date(Date.now() + 3 * 3600_000);
    const sweepDeps = { sources: storage.sources, shards: INDEX_SHARDS, logger: silent };
    const swept: PollMessage[] = [];
    const pollQueue = { enqueue: async (m: PollMessage) => void swept.push(m) };
    await sweepDueSources({ ...sweepDeps, pollQueue }, later);
    assert.ok(!swept.some((m) => m.sourceId === id), "a paused source is not swept");
    assert.equal((await pollSource(pollDeps, id)).kind, "paused");

    const resumed = await call("PATCH", `/v1/sources/${id}`, { paused: false });
    assert.equal(resumed.json.status, "active");
    assert.ok(resumed.json.nextPollAt);
    swept.length = 0;
    const first = await sweepDueSources({ ...sweepDeps, pollQueue }, later);
    assert.ok(swept.some((m) => m.sourceId === id));
    const second = await sweepDueSources({ ...sweepDeps, pollQueue }, later);
    assert.ok(first.polls > 0);
    assert.equal(second.polls, 0, "a claimed source is not swept twice");

    const badPatch = await call("PATCH", `/v1/sources/${id}`, { url: "https://elsewhere.example/" });
    assert.equal(badPatch.json.error.code, "unknown_field");
    assert.equal(
      (await call("PATCH", `/v1/sources/${id}`, { paused: "yes" })).json.error.code,
      "invalid_paused",
    );

    const articleUrl = normaliseUrl("https://wire.example/p1");
    const removed = await call("DELETE", `/v1/sources/${id}`);
    assert.equal(removed.status, 204);
    assert.equal((await call("GET", `/v1/sources/${id}`)).status, 404);
    assert.equal((await call("DELETE", `/v1/sources/${id}`)).status, 404);
    assert.equal((await pollSource(pollDeps, id)).kind, "gone");
    swept.length = 0;
    await sweepDueSources({ ...sweepDeps, pollQueue }, new Date(Date.now() + 48 * 3600_000));
    assert.ok(!swept.some((m) => m.sourceId === id), "a deleted source is never polled again");
    assert.equal((await call("GET", `/v1/urls/${urlIdFor(articleUrl)}`)).status, 200, "its articles stay");
    const again = await call("POST", "/v1/sources", { url: `${site.origin}/pause.rss` });
    assert.equal(again.status, 201, "the URL may be followed again, as a new source");
    polls.length = 0;
  });

  it("a PATCH of linkPattern and recapture: the next poll takes only what matches, with the new policy", async () => {
    const feed = servedFeed("/patched.rss", rss(["/news/1", "/sport/1"]));
    const id = await follow({ url: `${site.origin}/patched.rss`, recapture: "adaptive" });
    await runPolls();
    const policyOf = async (path: string) =>
      (await storage.repository.getUrl(urlIdFor(normaliseUrl(`https://wire.example${path}`))))?.recapture;
    assert.equal(await policyOf("/news/1"), "adaptive");
    assert.equal(await policyOf("/sport/1"), "adaptive");

    const patched = await call("PATCH", `/v1/sources/${id}`, {
      linkPattern: "wire\\.example/news/",
      recapture: { everyMinutes: 120 },
    });
    assert.equal(patched.status, 200);
    assert.equal(patched.json.linkPattern, "wire\\.example/news/");
    assert.deepEqual(patched.json.recapture, { everyMinutes: 120 });

    feed.set(rss(["/news/2", "/sport/2", "/news/1", "/sport/1"]));
    const before = captures.length;
    polls.push({ kind: "poll", sourceId: id });
    await runPolls();
    assert.equal(captures.length - before, 1, "only the new matching article");
    assert.deepEqual(await policyOf("/news/2"), { everyMinutes: 120 });
    assert.equal(await policyOf("/sport/2"), undefined, "a link the pattern leaves out is not archived");
    assert.equal(
      await policyOf("/news/1"),
      "adaptive",
      "what was archived keeps the policy it was submitted with",
    );

    // A wider pattern on a document that has not changed: the next poll reads it whole (no 304
    // from the old validators) and takes what the new pattern matches.
    const widened = await call("PATCH", `/v1/sources/${id}`, { linkPattern: "wire\\.example/(news|sport)/" });
    assert.equal(widened.status, 200);
    const answered304 = feed.notModifiedAnswers;
    polls.push({ kind: "poll", sourceId: id });
    await runPolls();
    assert.equal(feed.notModifiedAnswers, answered304, "the old validators were not sent");
    assert.deepEqual(await policyOf("/sport/2"), { everyMinutes: 120 });
    const found = await call("GET", `/v1/sources/${id}/urls`);
    assert.deepEqual(found.json.items.map((i: Json) => i.url).sort(), [
      "https://wire.example/news/1",
      "https://wire.example/news/2",
      "https://wire.example/sport/1",
      "https://wire.example/sport/2",
    ]);
  });

  it("lists sources newest first and pages through them", async () => {
    const first = await call("GET", "/v1/sources", undefined);
    assert.equal(first.status, 200);
    assert.ok(first.json.items.length >= 5);
    const times = first.json.items.map((s: Json) => s.createdAt);
    assert.deepEqual(times, [...times].sort().reverse());
  });
});

describe("OPML and the source's feed", () => {
  it("exports every source as OPML, and an import skips what is followed and adds the rest", async () => {
    const exported = await call("GET", "/v1/sources.opml");
    assert.equal(exported.status, 200);
    assert.match(String(exported.headers["content-type"]), /opml/);
    assert.match(exported.text, new RegExp(`xmlUrl="${site.origin}/world.rss"`));
    assert.match(exported.text, /palimpsestKind="page"/);

    site.setPage("/one.rss", rss(["/o1"]), { contentType: "application/rss+xml" });
    site.setPage("/two.rss", rss(["/o2"]), { contentType: "application/rss+xml" });
    const opml = `<?xml version="1.0"?><opml version="2.0"><head><title>Reader</title></head><body>
      <outline text="News"><outline type="rss" text="One" xmlUrl="${site.origin}/one.rss"/>
      <outline type="rss" text="Two" xmlUrl="${site.origin}/two.rss"/></outline>
      <outline type="rss" text="World again" xmlUrl="${site.origin}/world.rss"/>
      <outline type="rss" text="Intranet" xmlUrl="http://127.0.0.1:8080/feed"/></body></opml>`;
    const imported = await call("POST", "/v1/sources/opml", opml, { "content-type": "text/x-opml" });
    assert.equal(imported.status, 200);
    assert.equal(imported.json.imported.length, 2);
    assert.deepEqual(
      imported.json.skipped.map((s: Json) => s.code),
      ["source_exists", "private_address"],
    );
    assert.equal(polls.length, 2, "each imported source gets its first poll");
    await runPolls();
    const one = await call("GET", `/v1/sources/${imported.json.imported[0].sourceId}`);
    assert.equal(one.json.articleCount, 1);
    assert.equal(one.json.title, "One");

    const roundTrip = await call("POST", "/v1/sources/opml", exported.text, {
      "content-type": "application/xml",
    });
    assert.equal(roundTrip.json.imported.length, 0, "an export imports back onto itself as nothing new");
    assert.equal(
      (await call("POST", "/v1/sources/opml", "<html/>", { "content-type": "text/xml" })).json.error.code,
      "invalid_opml",
    );
  });

  it("each source has an Atom feed of its articles' edits, public like the other feeds", async () => {
    site.setPage("/edited.rss", rss(["/story"]), { contentType: "application/rss+xml" });
    const id = await follow({ url: `${site.origin}/edited.rss` });
    await runPolls();
    const url = normaliseUrl("https://wire.example/story");
    const urlId = urlIdFor(url);
    const article = (text: string): Article => ({
      title: "Story",
      byline: null,
      publishedTime: null,
      modifiedTime: null,
      lang: "en",
      text,
    });
    const edit = diffArticles(
      article("The mayor said 12 people were hurt."),
      article("The mayor said 40 people were hurt."),
    );
    assert.ok(edit.edit);
    const stored = await storage.repository.getUrl(urlId);
    assert.ok(stored);
    const v1 = {
      versionId: "ver_01",
      urlId,
      captureId: "cap_01",
      capturedAt: "2026-03-03T10:00:00.000Z",
      textSha256: "a",
      artifacts: {},
    };
    const v2 = {
      ...v1,
      versionId: "ver_02",
      captureId: "cap_02",
      capturedAt: "2026-03-03T11:00:00.000Z",
      textSha256: "b",
      previousVersionId: "ver_01",
      edit: edit.edit,
      summary: "A figure changed: 12 → 40.",
    };
    await storage.repository.putVersion(v1);
    await storage.repository.recordCaptureOnUrl({
      seen: stored,
      captureId: "cap_01",
      capturedAt: v1.capturedAt,
      count: true,
      version: v1,
      nextCaptureAt: null,
    });
    const withFirst = await storage.repository.getUrl(urlId);
    assert.ok(withFirst);
    await storage.repository.putVersion(v2);
    await storage.repository.recordCaptureOnUrl({
      seen: withFirst,
      captureId: "cap_02",
      capturedAt: v2.capturedAt,
      count: true,
      version: v2,
      nextCaptureAt: null,
    });

    const feed = await call("GET", `/v1/sources/${id}/edits.atom`, undefined, { host: "archive.test" });
    assert.equal(feed.status, 200);
    assert.match(String(feed.headers["content-type"]), /application\/atom\+xml/);
    assert.match(feed.text, /<entry>/);
    assert.match(feed.text, /urn:palimpsest:edit:ver_02/);
    assert.equal(feed.text.match(/<entry>/g)?.length, 1, "only edits, not first versions");
    assert.equal((await call("GET", "/v1/sources/src_0000000000000000000000000/edits.atom")).status, 404);
  });
});

describe("web UI", () => {
  /** The cookie and form token a browser gets with the sources page (every form POST needs them). */
  const session = async () => {
    const page = await call("GET", "/ui/sources");
    const cookie = String(page.headers["set-cookie"]).split(";")[0] ?? "";
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? assert.fail("no CSRF token");
    return { cookie, csrf };
  };
  const form = async (fields: Record<string, string>, headers: Record<string, string> = {}) => {
    const { cookie, csrf } = await session();
    return call("POST", "/ui/sources", new URLSearchParams({ ...fields, csrf }).toString(), {
      "content-type": "application/x-www-form-urlencoded",
      origin: "http://archive.test",
      "sec-fetch-site": "same-origin",
      cookie,
      ...headers,
    });
  };

  it("lists sources with their status and last error, under the pages' CSP, with no script needed", async () => {
    const page = await call("GET", "/ui/sources");
    assert.equal(page.status, 200);
    assert.match(String(page.headers["content-security-policy"]), /default-src 'none'/);
    assert.match(page.text, /<form class="submit" method="post" action="\/ui\/sources">/);
    assert.match(page.text, /The Daily Example – World/);
    assert.match(page.text, /Last poll: http_error/, "a failing source says so");
    assert.doesNotMatch(page.text, /<script>/);
  });

  it("follows a URL from the form and goes to the source's page, which links its feed of edits", async () => {
    site.setPage("/form.rss", rss(["/f1"]), { contentType: "application/rss+xml" });
    const res = await form({ url: `${site.origin}/form.rss`, every: "60", recapture: "off" });
    assert.equal(res.status, 303);
    const location = String(res.headers.location);
    assert.match(location, /^\/ui\/sources\/src_\w+$/);
    await runPolls();
    const sourceId = location.split("/").at(-1) ?? "";
    const page = await call("GET", location);
    assert.equal(page.status, 200);
    assert.match(
      page.text,
      new RegExp(
        `<link rel="alternate" type="application/atom\\+xml" title="[^"]*" href="/v1/sources/${sourceId}/edits.atom">`,
      ),
    );
    assert.match(page.text, /Every 60 minutes/);
    assert.match(page.text, /wire\.example\/f1/);
    assert.match(page.text, /Pause polling/);

    const { cookie, csrf } = await session();
    const paused = await call("POST", location, `action=pause&csrf=${csrf}`, {
      "content-type": "application/x-www-form-urlencoded",
      origin: "http://archive.test",
      cookie,
    });
    assert.equal(paused.status, 303);
    assert.equal((await call("GET", `/v1/sources/${sourceId}`)).json.status, "paused");
    const removed = await call("POST", location, `action=remove&csrf=${csrf}`, {
      "content-type": "application/x-www-form-urlencoded",
      cookie,
    });
    assert.equal(removed.status, 303);
    assert.equal(removed.headers.location, "/ui/sources");
    assert.equal((await call("GET", `/v1/sources/${sourceId}`)).status, 404);
  });

  it("sets and clears a source's noise rules from its page, refusing a bad selector with the input kept", async () => {
    site.setPage("/noise-form.rss", rss(["/n1"]), { contentType: "application/rss+xml" });
    const followed = await form({ url: `${site.origin}/noise-form.rss`, every: "60", recapture: "off" });
    const location = String(followed.headers.location);
    const sourceId = location.split("/").at(-1) ?? "";
    const before = await call("GET", location);
    assert.match(before.text, /None set on this source/);
    assert.match(before.text, /name="action" value="set-noise-rules"/);

    const { cookie, csrf } = await session();
    const post = (fields: Record<string, string>, token = csrf) =>
      call("POST", location, new URLSearchParams({ ...fields, csrf: token }).toString(), {
        "content-type": "application/x-www-form-urlencoded",
        origin: "http://archive.test",
        "sec-fetch-site": "same-origin",
        cookie,
      });
    const saved = await post({
      action: "set-noise-rules",
      dropSelectors: ".ticker\r\n\r\n#clock",
      minChangedWords: "4",
    });
    assert.equal(saved.status, 303, saved.text.slice(0, 300));
    assert.equal(saved.headers.location, location);
    const rules = (await call("GET", `/v1/sources/${sourceId}/noise-rules`)).json;
    assert.deepEqual(rules.dropSelectors, [".ticker", "#clock"]);
    assert.equal(rules.minChangedWords, 4);
    const shown = await call("GET", location);
    assert.match(shown.text, /Set on this source:[\s\S]*<code>\.ticker<\/code>, <code>#clock<\/code>/);
    assert.match(shown.text, /fewer than 4 words/);
    assert.match(shown.text, /Clear noise rules/);

    const refused = await post({
      action: "set-noise-rules",
      dropSelectors: ".ticker\ndiv[[[",
      minChangedWords: "4",
    });
    assert.equal(refused.status, 400);
    assert.match(
      refused.text,
      /<textarea id="drop-selectors"[^>]*aria-invalid="true"[^>]*>\.ticker\ndiv\[\[\[<\/textarea>/,
    );
    assert.match(refused.text, /&quot;div\[\[\[&quot; is not a CSS selector/);
    assert.deepEqual((await call("GET", `/v1/sources/${sourceId}/noise-rules`)).json.dropSelectors, [
      ".ticker",
      "#clock",
    ]);

    const forged = await post({ action: "clear-noise-rules" }, "not-the-token");
    assert.equal(forged.status, 403);
    assert.match(forged.text, /invalid_csrf_token/);
    assert.equal((await call("GET", `/v1/sources/${sourceId}/noise-rules`)).json.minChangedWords, 4);

    const cleared = await post({ action: "clear-noise-rules" });
    assert.equal(cleared.status, 303);
    assert.deepEqual((await call("GET", `/v1/sources/${sourceId}/noise-rules`)).json.dropSelectors, []);
  });

  it("shows the form again with the reason when the URL cannot be followed", async () => {
    const res = await form({ url: `${site.origin}/plain.txt`, every: "15", recapture: "adaptive" });
    assert.equal(res.status, 422);
    assert.match(res.text, /aria-invalid="true"/);
    assert.match(res.text, /not a feed, a sitemap or an HTML page/);
  });

  it("refuses a form sent from another site", async () => {
    const foreign = await form(
      { url: `${site.origin}/form.rss` },
      { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
    );
    assert.equal(foreign.status, 403);
    assert.match(foreign.text, /cross_site_form/);
  });

  it("where the forms cannot check a key, the pages say how to change sources and the POSTs are refused", async () => {
    const locked = createApiHandler({
      repository: storage.repository,
      blobs: storage.blobs,
      queue: { enqueue: async () => {} },
      resolveHost,
      allowedPrivateHosts: new Set(),
      presignedUrlTtlSeconds: 900,
      following: {
        sources: storage.sources,
        fetcher: createGuardedHttpFetcher(),
        pollQueue: { enqueue: async () => {} },
      },
      sourceForms: false,
    });
    const page = (await locked(event("GET", "/ui/sources"), context)) as APIGatewayProxyResult;
    assert.doesNotMatch(page.body, /<form class="submit"/);
    assert.match(page.body, /palimpsest follow/);
    const sourceId =
      (await storage.sources.listSources({ limit: 1 })).items[0]?.sourceId ?? assert.fail("no source");
    const sourcePage = (await locked(
      event("GET", `/ui/sources/${sourceId}`),
      context,
    )) as APIGatewayProxyResult;
    assert.equal(sourcePage.statusCode, 200);
    assert.doesNotMatch(sourcePage.body, /set-noise-rules/, "no noise-rule form");
    assert.match(sourcePage.body, new RegExp(`PUT /v1/sources/${sourceId}/noise-rules`));
    const noisePost = (await locked(
      event("POST", `/ui/sources/${sourceId}`, "action=set-noise-rules&dropSelectors=.x", {
        "content-type": "application/x-www-form-urlencoded",
      }),
      context,
    )) as APIGatewayProxyResult;
    assert.equal(noisePost.statusCode, 403);
    const post = (await locked(
      event("POST", "/ui/sources", "url=https%3A%2F%2Fnews.example%2Frss", {
        "content-type": "application/x-www-form-urlencoded",
      }),
      context,
    )) as APIGatewayProxyResult;
    assert.equal(post.statusCode, 403);
  });
});
