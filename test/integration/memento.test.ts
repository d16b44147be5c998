/**
 * Memento (RFC 7089), the Wayback-style availability API and CORS, as a client drives them: the
 * local runner archives a fixture page three times (the third after an edit), a few seconds
 * apart, and TimeMap, TimeGate and mementos must agree with those captures.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type LocalRunner, startLocalRunner } from "../../local/runner.ts";
import { loadApiConfig } from "../../shared/config.ts";
import { ConfigError } from "../../shared/errors.ts";
import { corsHeaders } from "../../shared/http/api-gateway.ts";
import { createLogger } from "../../shared/logger.ts";
import { captureUntilDone as submitAndWait } from "../support/capture-client.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";
import type { Json } from "../support/json.ts";

const READER = "https://reader.example";
let site: FixtureSite;
let runner: LocalRunner;
let dataDir: string;
let pageUrl: string;
/** The three captures, oldest first. */
let captures: Array<Record<string, Json>>;
let times: Date[];

function story(figure: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tram line extended</title></head>
<body><article><h1>Tram line extended</h1>
<p>The city council voted on Tuesday to extend the tram line to the harbour at a cost of ${figure}.</p>
<p>Work on the new track is due to start next spring and last about two years in total.</p>
<p>Residents can see the plans at the town hall until the end of the month, officials said.</p>
</article></body></html>`;
}

function captureUntilDone(url: string): Promise<Record<string, Json>> {
  return submitAndWait(runner.url, url, { timeoutMs: 30_000 });
}

/** Waits until two whole seconds after `after` began, so captures land in well separated seconds. */
async function nextSeconds(after: Date): Promise<void> {
  const wait = Math.floor(after.getTime() / 1000) * 1000 + 2000 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

before(async () => {
  site = await startFixtureSite();
  dataDir = await mkdtemp(join(tmpdir(), "palimpsest-memento-"));
  runner = await startLocalRunner({
    dataDir,
    port: 0,
    logger: createLogger({}, "silent"),
    sweepIntervalMs: 0,
    env: {
      ALLOW_PRIVATE_HOSTS: new URL(site.origin).host,
      CAPTURE_NAVIGATION_TIMEOUT_MS: "5000",
      CAPTURE_IDLE_TIMEOUT_MS: "1000",
      HOST_MIN_GAP_MS: "0",
      CORS_ALLOW_ORIGINS: `${READER}, https://other.example`,
      LOG_LEVEL: "silent",
    },
  });
  pageUrl = site.url("/memento/tram");
  site.setPage("/memento/tram", story("40 million euros"));
  captures = [await captureUntilDone(pageUrl)];
  await nextSeconds(new Date(captures[0]?.finishedAt));
  captures.push(await captureUntilDone(pageUrl)); // unchanged: still a memento
  await nextSeconds(new Date(captures[1]?.finishedAt));
  site.setPage("/memento/tram", story("45 million euros"));
  captures.push(await captureUntilDone(pageUrl));
  assert.equal(captures[2]?.changed, true, "the third capture is an edit");
  times = captures.map((c) => new Date(c.finishedAt));
});

after(async () => {
  await runner?.close();
  await site?.close();
  await rm(dataDir, { recursive: true, force: true });
});

interface Link {
  uri: string;
  rel: string;
  params: Record<string, string>;
}

/** A link-format body or Link header, parsed strictly enough to catch malformed output. */
function parseLinks(text: string): Link[] {
  const links: Link[] = [];
  const pattern = /\s*<([^>]*)>((?:\s*;\s*[a-z]+="[^"]*")*)\s*(,|$)/gy;
  let match: RegExpExecArray | null;
  let end = 0;
  // biome-ignore lint/suspicious/noAssignInExpressions: the usual exec loop.
  while (end < text.trim().length && (match = pattern.exec(text)) !== null) {
    const params: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? "").matchAll(/([a-z]+)="([^"]*)"/g))
      params[name ?? ""] = value ?? "";
    links.push({ uri: match[1] ?? "", rel: params.rel ?? "", params });
    end = pattern.lastIndex;
  }
  assert.equal(
    end >= text.trim().length,
    true,
    `unparsed link text after ${end}: ${text.slice(end, end + 80)}`,
  );
  return links;
}

const stamp = (date: Date) => date.toISOString().slice(0, 19).replace(/[-T:]/g, "");
const mementoUri = (date: Date) => `${runner.url}/memento/${stamp(date)}/${pageUrl}`;
const floorSecond = (date: Date) => new Date(Math.floor(date.getTime() / 1000) * 1000);

async function timegate(path: string, acceptDatetime?: string, headers: Record<string, string> = {}) {
  return fetch(`${runner.url}/timegate/${path}`, {
    redirect: "manual",
    headers: { ...(acceptDatetime ? { "accept-datetime": acceptDatetime } : {}), ...headers },
  });
}

describe("Memento", () => {
  it("lists every successful capture in the TimeMap, oldest first, with its datetime", async () => {
    const response = await fetch(`${runner.url}/timemap/link/${pageUrl}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/link-format");
    const links = parseLinks(await response.text());
    const byRel = (rel: string) => links.filter((l) => l.rel.split(" ").includes(rel));
    assert.deepEqual(
      byRel("original").map((l) => l.uri),
      [pageUrl],
    );
    assert.deepEqual(
      byRel("timegate").map((l) => l.uri),
      [`${runner.url}/timegate/${pageUrl}`],
    );
    const [self] = byRel("self");
    assert.equal(self?.uri, `${runner.url}/timemap/link/${pageUrl}`);
    assert.equal(self?.params.type, "application/link-format");
    assert.equal(self?.params.from, floorSecond(times[0] as Date).toUTCString());
    assert.equal(self?.params.until, floorSecond(times[2] as Date).toUTCString());
    assert.equal(byRel("timemap").length, 0, "one page holds them all");
    const mementos = byRel("memento");
    assert.deepEqual(
      mementos.map((l) => l.uri),
      times.map(mementoUri),
    );
    assert.deepEqual(
      mementos.map((l) => l.params.datetime),
      times.map((t) => t.toUTCString()),
    );
    assert.equal(mementos[0]?.rel, "first memento");
    assert.equal(mementos[2]?.rel, "last memento");
  });

  it("negotiates the closest memento at the TimeGate: before, between and after the captures", async () => {
    const cases: Array<[string | undefined, number]> = [
      [undefined, 2],
      ["Sat, 01 Jan 2000 00:00:00 GMT", 0],
      [floorSecond(times[0] as Date).toUTCString(), 0],
      [floorSecond(times[1] as Date).toUTCString(), 1],
      [floorSecond(times[2] as Date).toUTCString(), 2],
      ["Fri, 01 Jan 2100 00:00:00 GMT", 2],
    ];
    for (const [acceptDatetime, expected] of cases) {
      const response = await timegate(pageUrl, acceptDatetime);
      assert.equal(response.status, 302, acceptDatetime);
      assert.equal(response.headers.get("location"), mementoUri(times[expected] as Date), acceptDatetime);
      assert.match(response.headers.get("vary") ?? "", /^accept-datetime\b/);
      const links = parseLinks(response.headers.get("link") ?? "");
      const rels = new Map(links.map((l) => [l.rel, l]));
      assert.equal(rels.get("original")?.uri, pageUrl);
      assert.equal(rels.get("timemap")?.uri, `${runner.url}/timemap/link/${pageUrl}`);
      const memento = links.find(
        (l) => l.rel.split(" ").includes("memento") && l.uri === mementoUri(times[expected] as Date),
      );
      assert.ok(memento, `the chosen memento is linked for ${acceptDatetime}`);
      assert.equal(memento.params.datetime, (times[expected] as Date).toUTCString());
      assert.ok(
        links.some((l) => l.rel.split(" ").includes("first") && l.uri === mementoUri(times[0] as Date)),
      );
      assert.ok(
        links.some((l) => l.rel.split(" ").includes("last") && l.uri === mementoUri(times[2] as Date)),
      );
    }
  });

  it("finds the page however the URL in the path is spelled", async () => {
    const url = new URL(pageUrl);
    const spellings = [
      `http:/${url.host}${url.pathname}`,
      encodeURIComponent(pageUrl),
      `${url.host}${url.pathname}?utm_source=feed`,
    ];
    for (const spelling of spellings) {
      const response = await timegate(spelling);
      assert.equal(response.status, 302, spelling);
      assert.equal(response.headers.get("location"), mementoUri(times[2] as Date), spelling);
    }
  });

  it("refuses an unparseable Accept-Datetime and answers 404 for a page never archived", async () => {
    const bad = await timegate(pageUrl, "last Tuesday");
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as Json).error.code, "invalid_accept_datetime");
    const unknown = await timegate(site.url("/never-archived"));
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as Json).error.code, "url_not_found");
    const timemap = await fetch(`${runner.url}/timemap/link/${site.url("/never-archived")}`);
    assert.equal(timemap.status, 404);
  });

  it("serves each memento: the snapshot bytes with Memento-Datetime, Link and a locked-down CSP", async () => {
    for (const [i, capture] of captures.entries()) {
      const response = await fetch(mementoUri(times[i] as Date), { redirect: "manual" });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
      assert.equal(response.headers.get("memento-datetime"), (times[i] as Date).toUTCString());
      assert.match(response.headers.get("content-security-policy") ?? "", /^default-src 'none';.*\bsandbox$/);
      const links = parseLinks(response.headers.get("link") ?? "");
      const rel = (r: string) => links.find((l) => l.rel.split(" ").includes(r))?.uri;
      assert.equal(rel("original"), pageUrl);
      assert.equal(rel("timegate"), `${runner.url}/timegate/${pageUrl}`);
      assert.equal(rel("timemap"), `${runner.url}/timemap/link/${pageUrl}`);
      const body = Buffer.from(await response.arrayBuffer());
      assert.equal(createHash("sha256").update(body).digest("hex"), capture.artifacts.snapshot.sha256);
      assert.match(body.toString("utf8"), i < 2 ? /40 million euros/ : /45 million euros/);
    }
    const head = await fetch(mementoUri(times[0] as Date), { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("memento-datetime"), (times[0] as Date).toUTCString());
  });

  it("redirects a datetime without a memento to the nearest one, and refuses a malformed one", async () => {
    const response = await fetch(`${runner.url}/memento/20000101000000/${pageUrl}`, { redirect: "manual" });
    assert.equal(response.status, 302);
    assert.equal(response.headers.get("location"), mementoUri(times[0] as Date));
    const malformed = await fetch(`${runner.url}/memento/2026-03-02/${pageUrl}`);
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as Json).error.code, "invalid_timestamp");
  });
});

describe("GET /v1/available (Wayback Machine style)", () => {
  it("answers the closest snapshot to a timestamp, the newest without one, and {} for unknown pages", async () => {
    const ask = async (query: Record<string, string>) => {
      const response = await fetch(`${runner.url}/v1/available?${new URLSearchParams(query)}`);
      assert.equal(response.status, 200);
      return (await response.json()) as Json;
    };
    const newest = await ask({ url: pageUrl });
    assert.deepEqual(newest.archived_snapshots, {
      closest: {
        available: true,
        url: mementoUri(times[2] as Date),
        timestamp: stamp(times[2] as Date),
        status: "200",
      },
    });
    const oldest = await ask({ url: pageUrl, timestamp: "2000" });
    assert.equal(oldest.archived_snapshots.closest.url, mementoUri(times[0] as Date));
    assert.equal(oldest.timestamp, "2000");
    assert.deepEqual((await ask({ url: site.url("/never-archived") })).archived_snapshots, {});
    const bad = await fetch(
      `${runner.url}/v1/available?url=${encodeURIComponent(pageUrl)}&timestamp=yesterday`,
    );
    assert.equal(bad.status, 400);
  });
});

describe("CORS (CORS_ALLOW_ORIGINS)", () => {
  it("reads the setting strictly: exact origins, or * alone", () => {
    assert.equal(loadApiConfig({}).corsAllowOrigins, undefined);
    assert.deepEqual(
      loadApiConfig({ CORS_ALLOW_ORIGINS: " https://a.example , http://b.example:8080 " }).corsAllowOrigins,
      ["https://a.example", "http://b.example:8080"],
    );
    assert.deepEqual(loadApiConfig({ CORS_ALLOW_ORIGINS: "*" }).corsAllowOrigins, ["*"]);
    for (const bad of ["*, https://a.example", "https://a.example/", "a.example", "ftp://a.example"]) {
      assert.throws(() => loadApiConfig({ CORS_ALLOW_ORIGINS: bad }), ConfigError, bad);
    }
  });

  it("with *, allows every origin without varying on it", async () => {
    const cors = corsHeaders(["*"]);
    const event = { httpMethod: "OPTIONS", path: "/v1/edits", headers: { Origin: "https://any.example" } };
    const preflight = (await cors.before?.({ event } as never)) as { statusCode: number; headers: Json };
    assert.equal(preflight.statusCode, 204);
    assert.equal(preflight.headers["access-control-allow-origin"], "*");
    assert.equal(preflight.headers.vary, undefined);
  });

  it("answers a preflight on any path with the allowed methods and headers", async () => {
    for (const path of ["/v1/captures", `/timegate/${pageUrl}`, "/no/such/path"]) {
      const response = await fetch(`${runner.url}${path}`, {
        method: "OPTIONS",
        headers: {
          origin: READER,
          "access-control-request-method": "POST",
          "access-control-request-headers": "x-api-key",
        },
      });
      assert.equal(response.status, 204, path);
      assert.equal(response.headers.get("access-control-allow-origin"), READER);
      assert.match(response.headers.get("access-control-allow-methods") ?? "", /\bPOST\b/);
      const allowed = (response.headers.get("access-control-allow-headers") ?? "").split(/,\s*/);
      for (const name of ["content-type", "x-api-key", "accept-datetime"])
        assert.ok(allowed.includes(name), name);
      assert.match(response.headers.get("vary") ?? "", /Origin/);
    }
  });

  it("echoes an allowed origin on responses and errors, exposes the Memento headers, and ignores other origins", async () => {
    const gate = await timegate(pageUrl, undefined, { origin: READER });
    assert.equal(gate.headers.get("access-control-allow-origin"), READER);
    assert.equal(gate.headers.get("vary"), "accept-datetime, Origin");
    const exposed = (gate.headers.get("access-control-expose-headers") ?? "").split(/,\s*/);
    for (const name of ["location", "link", "memento-datetime"]) assert.ok(exposed.includes(name), name);

    const missing = await fetch(`${runner.url}/v1/captures/cap_missing`, { headers: { origin: READER } });
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get("access-control-allow-origin"), READER, "errors carry CORS headers too");

    const stranger = await fetch(`${runner.url}/v1/edits`, { headers: { origin: "https://evil.example" } });
    assert.equal(stranger.status, 200);
    assert.equal(stranger.headers.get("access-control-allow-origin"), null);
    assert.equal(stranger.headers.get("vary"), "Origin");
  });
});
