/**
 * What a new user and a feed reader meet first (issue 12): a first capture reads "first version",
 * each feed entry has one alternate link (the diff page), feeds have an author and are named by
 * the pages they follow, and Memento links step through time (prev/next), reads Wayback-style
 * partial timestamps and gives each version a permanent link to cite. Against the embedded S3 and
 * DynamoDB, with the records a capture would write.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { APIGatewayProxyResult, Context } from "aws-lambda";
import { createApiHandler } from "../../functions/api/create-handler.ts";
import { diffArticles } from "../../shared/domain/diff/index.ts";
import { newCaptureId, urlIdFor, versionIdForCapture } from "../../shared/domain/ids.ts";
import type { CaptureRecord, VersionRecord } from "../../shared/domain/model.ts";
import { apiEvent } from "../support/api-event.ts";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";
import type { Json } from "../support/json.ts";

const context = { awsRequestId: "test", getRemainingTimeInMillis: () => 30_000 } as unknown as Context;
const PAGE = "https://news.example/ferry";
const URL_ID = urlIdFor(PAGE);
const BASE = "https://archive.example.org";
/** Capture i finishes at 10:00:0i on 3 March 2026 plus i hours. */
const at = (i: number) => new Date(Date.UTC(2026, 2, 3, 10 + i, 0, i));

let storage: EmbeddedStorage;
let api: ReturnType<typeof createApiHandler>;
const captures: CaptureRecord[] = [];
const versions: VersionRecord[] = [];

before(async () => {
  storage = await startEmbeddedStorage();
  api = createApiHandler({
    repository: storage.repository,
    blobs: storage.blobs,
    queue: { enqueue: async () => {} },
    resolveHost: async () => ["93.184.215.14"],
    allowedPrivateHosts: new Set(),
    presignedUrlTtlSeconds: 900,
    publicBaseUrl: BASE,
  });
  const snapshot = await storage.blobs.putBlob(
    new TextEncoder().encode("<!doctype html><p>Ferry fares</p>"),
    {
      contentType: "text/html; charset=utf-8",
      fileName: "snapshot.html",
    },
  );
  await storage.repository.ensureUrl({
    urlId: URL_ID,
    url: PAGE,
    captureCount: 0,
    versionCount: 0,
    recapture: "off",
    createdAt: at(0).toISOString(),
    firstCapturedAt: at(0).toISOString(),
  });
  const text = (fare: string) => `A return ticket will cost ${fare} from June, the ferry company said.`;
  const edit = diffArticles(
    { title: "Ferry fares to rise", byline: null, modifiedTime: null, text: text("24 euros") },
    { title: "Ferry fares to rise sharply", byline: null, modifiedTime: null, text: text("27 euros") },
  ).edit;
  assert.ok(edit);
  // Captures 0 (the first version), 1 (unchanged) and 2 (an edit).
  for (let i = 0; i < 3; i++) {
    captures.push({
      captureId: newCaptureId(new Date(at(i).getTime() - 5000)),
      urlId: URL_ID,
      url: PAGE,
      status: "succeeded",
      requestedAt: new Date(at(i).getTime() - 5000).toISOString(),
      finishedAt: at(i).toISOString(),
      attempts: 1,
      httpStatus: 200,
      artifacts: { snapshot },
    });
  }
  for (const i of [0, 2]) {
    const capture = captures[i] as CaptureRecord;
    const previous = versions.at(-1);
    const version: VersionRecord = {
      versionId: versionIdForCapture(capture.captureId),
      urlId: URL_ID,
      captureId: capture.captureId,
      capturedAt: at(i).toISOString(),
      title: i === 0 ? "Ferry fares to rise" : "Ferry fares to rise sharply",
      textSha256: `sha-${i}`,
      artifacts: { snapshot },
      ...(previous ? { previousVersionId: previous.versionId, edit, summary: "A figure changed." } : {}),
    };
    versions.push(version);
  }
  const [v1, v2] = versions as [VersionRecord, VersionRecord];
  captures[0] = { ...(captures[0] as CaptureRecord), versionId: v1.versionId, changed: false };
  captures[1] = { ...(captures[1] as CaptureRecord), versionId: v1.versionId, changed: false };
  captures[2] = { ...(captures[2] as CaptureRecord), versionId: v2.versionId, changed: true, edit };
  await storage.repository.putCaptures(captures);
  for (const version of versions) {
    await storage.repository.putVersion(version);
    const seen = (await storage.repository.getUrl(URL_ID)) ?? assert.fail("URL record missing");
    await storage.repository.recordCaptureOnUrl({
      seen,
      captureId: version.captureId,
      capturedAt: version.capturedAt,
      count: true,
      version,
      nextCaptureAt: null,
    });
  }
});

after(async () => {
  await storage?.close();
});

async function get(path: string) {
  const event = apiEvent({ path, headers: { host: "evil.example" }, requestContext: { path } });
  const result = (await api(event, context)) as APIGatewayProxyResult;
  const headers = result.headers ?? {};
  const isJson = String(headers["content-type"] ?? "").startsWith("application/json");
  return {
    status: result.statusCode,
    headers,
    text: result.body,
    json: (isJson ? JSON.parse(result.body) : {}) as Record<string, Json>,
  };
}

const stamp = (i: number) => at(i).toISOString().slice(0, 19).replace(/[-T:]/g, "");
const mementoUri = (i: number) => `${BASE}/memento/${stamp(i)}/${PAGE}`;

/** `Link` header entries as {uri, rel}. */
function linksOf(value: unknown): Array<{ uri: string; rel: string }> {
  return [...String(value).matchAll(/<([^>]+)>;\s*rel="([^"]+)"/g)].map((m) => ({
    uri: m[1] ?? "",
    rel: m[2] ?? "",
  }));
}
const withRel = (links: Array<{ uri: string; rel: string }>, rel: string) =>
  links.filter((l) => l.rel.split(" ").includes(rel)).map((l) => l.uri);

describe("a first capture", () => {
  it("is the first version in the API, not 'no change'", async () => {
    const [first, unchanged, edited] = await Promise.all(
      captures.map((c) => get(`/v1/captures/${c.captureId}`)),
    );
    assert.equal(first?.json.outcome, "first_version");
    assert.equal(first?.json.changed, false);
    assert.equal(unchanged?.json.outcome, "unchanged");
    assert.equal(edited?.json.outcome, "new_version");
  });

  it("is the first version on the URL page, whose head names its feed", async () => {
    const page = await get(`/ui/urls/${URL_ID}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /made the first version/);
    assert.match(
      page.text,
      new RegExp(
        `<link rel="alternate" type="application/atom\\+xml" title="[^"]+" href="/v1/urls/${URL_ID}/edits.atom">`,
      ),
    );
  });
});

describe("Atom feeds", () => {
  it("give each entry one alternate link, the diff page, and the feed an author and a page", async () => {
    const feed = await get(`/v1/urls/${URL_ID}/edits.atom`);
    assert.equal(feed.status, 200);
    const [head = "", ...entries] = feed.text.split("<entry>");
    assert.equal(entries.length, 1);
    for (const entry of entries) {
      const alternates = [...entry.matchAll(/<link rel="alternate"[^>]*>/g)].map((m) => m[0]);
      assert.equal(alternates.length, 1, alternates.join("\n"));
      assert.match(
        alternates[0] ?? "",
        /type="text\/html" href="https:\/\/archive\.example\.org\/ui\/urls\/[^"]+\/diff\?/,
      );
      assert.match(
        entry,
        /<link rel="describedby" type="application\/json" href="https:\/\/archive\.example\.org\/v1\/urls\//,
      );
    }
    assert.match(head, /<author><name>Palimpsest<\/name><\/author>/, "a feed-level author");
    const feedAlternates = [...head.matchAll(/<link rel="alternate"[^>]*>/g)].map((m) => m[0]);
    assert.deepEqual(feedAlternates, [
      `<link rel="alternate" type="text/html" href="${BASE}/ui/urls/${URL_ID}"/>`,
    ]);
  });
});

describe("Memento", () => {
  it("links a memento to the previous and next ones, and to the first (the newest also to the last)", async () => {
    const res = await get(`/memento/${stamp(1)}/${PAGE}`);
    assert.equal(res.status, 200);
    const links = linksOf(res.headers.link);
    assert.deepEqual(withRel(links, "prev"), [mementoUri(0)]);
    assert.deepEqual(withRel(links, "next"), [mementoUri(2)]);
    assert.deepEqual(withRel(links, "first"), [mementoUri(0)]);
    // An older memento is immutable: the last-memento link, which moves, is on the newest only.
    assert.deepEqual(withRel(links, "last"), []);
    const newest = linksOf((await get(`/memento/${stamp(2)}/${PAGE}`)).headers.link);
    assert.deepEqual(withRel(newest, "last"), [mementoUri(2)]);
    const first = linksOf((await get(`/memento/${stamp(0)}/${PAGE}`)).headers.link);
    assert.deepEqual(withRel(first, "prev"), [], "the first memento has no predecessor");
    assert.deepEqual(withRel(first, "next"), [mementoUri(1)]);
  });

  it("the TimeGate's answer links the chosen memento's neighbours too", async () => {
    const res = await get(`/timegate/${PAGE}`);
    assert.equal(res.status, 302);
    assert.equal(res.headers.location, mementoUri(2));
    assert.deepEqual(withRel(linksOf(res.headers.link), "prev"), [mementoUri(1)]);
  });

  it("reads a partial timestamp as the Wayback Machine does: a period, and its latest memento", async () => {
    const cases: Array<[string, number]> = [
      ["2026", 2],
      ["202603", 2],
      ["2026030310", 0], // 10:00–10:59 on 3 March holds 10:00:00 (11:00:01 is nearer its end)
      ["20260303112", 1], // 11:20–11:29 holds none: 11:00:01 is the nearest
      ["2025", 0],
      [stamp(1).slice(0, 13), 1],
    ];
    for (const [partial, expected] of cases) {
      const res = await get(`/memento/${partial}/${PAGE}`);
      assert.equal(res.status, 302, `${partial}: ${res.text}`);
      assert.equal(res.headers.location, mementoUri(expected), partial);
    }
    for (const bad of ["202613", "2026023", "20260230", "20x6"]) {
      assert.equal((await get(`/memento/${bad}/${PAGE}`)).status, 400, bad);
    }
  });

  it("gives the version page a permanent memento link to cite, and times to the second", async () => {
    const v2 = versions[1] as VersionRecord;
    const page = await get(`/ui/urls/${URL_ID}/versions/${v2.versionId}`);
    assert.equal(page.status, 200);
    assert.ok(page.text.includes(`href="${mementoUri(2)}" rel="bookmark"`), "citable memento link");
    assert.match(page.text, /<time datetime="2026-03-03T12:00:02\.000Z">2026-03-03 12:00:02 UTC<\/time>/);
  });
});
