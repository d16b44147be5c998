/**
 * Memento's bounds on a long history, with the routes' page and scan sizes shrunk: the TimeMap
 * pages through every memento by its rel="timemap" links, lookups older than the scan window
 * fall back to versions, and a snapshot too large for a Lambda response is redirected to.
 * The history is seeded straight into the embedded DynamoDB and S3.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { createMementoRoutes } from "../../functions/api/memento.ts";
import type { ApiDeps } from "../../functions/api/route-types.ts";
import { newCaptureId, urlIdFor, versionIdForCapture } from "../../shared/domain/ids.ts";
import type { ArtifactRef, CaptureRecord } from "../../shared/domain/model.ts";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";

const URL_TEXT = "https://news.example/long-story";
const URL_ID = urlIdFor(URL_TEXT);
const START = Date.parse("2026-01-01T00:00:00Z");
const at = (i: number) => new Date(START + i * 10 * 60_000);
const stamp = (date: Date) => date.toISOString().slice(0, 19).replace(/[-T:]/g, "");
const BASE = "http://archive.test";

let storage: EmbeddedStorage;
let deps: ApiDeps;
let snapshot: ArtifactRef;
const routes = createMementoRoutes({ timemapPageSize: 10, scanCaptures: 20 });
/** Indexes of the captures that succeeded (every fifth failed). */
const succeeded: number[] = [];

before(async () => {
  storage = await startEmbeddedStorage();
  deps = {
    repository: storage.repository,
    blobs: storage.blobs,
    queue: { enqueue: async () => undefined },
    resolveHost: async () => ["93.184.215.14"],
    allowedPrivateHosts: new Set(),
    presignedUrlTtlSeconds: 60,
    publicBaseUrl: BASE,
  };
  snapshot = await storage.blobs.putBlob(new TextEncoder().encode("<!doctype html><p>The long story</p>"), {
    contentType: "text/html; charset=utf-8",
    fileName: "snapshot.html",
  });
  await storage.repository.ensureUrl({
    urlId: URL_ID,
    url: URL_TEXT,
    captureCount: 0,
    versionCount: 0,
    recapture: "off",
    createdAt: at(0).toISOString(),
    firstCapturedAt: at(0).toISOString(),
  });
  const captures: CaptureRecord[] = [];
  for (let i = 0; i < 45; i++) {
    const failed = i % 5 === 4;
    if (!failed) succeeded.push(i);
    captures.push({
      captureId: newCaptureId(new Date(at(i).getTime() - 5000)),
      urlId: URL_ID,
      url: URL_TEXT,
      requestedAt: new Date(at(i).getTime() - 5000).toISOString(),
      finishedAt: at(i).toISOString(),
      attempts: 1,
      ...(failed
        ? { status: "failed", error: { code: "timeout", message: "The page did not load in time." } }
        : {
            status: "succeeded",
            httpStatus: 200,
            // One capture's snapshot is (said to be) too large to return through Lambda.
            artifacts: { snapshot: i === 43 ? { ...snapshot, bytes: 6_000_000 } : snapshot },
          }),
    });
  }
  await storage.repository.putCaptures(captures);
  let latest: string | undefined;
  for (const i of [0, 20, 40]) {
    const capture = captures[i] as CaptureRecord;
    const versionId = versionIdForCapture(capture.captureId);
    const version = {
      versionId,
      urlId: URL_ID,
      captureId: capture.captureId,
      capturedAt: at(i).toISOString(),
      textSha256: `sha-${i}`,
      artifacts: { snapshot },
      ...(latest ? { previousVersionId: latest } : {}),
    };
    await storage.repository.putVersion(version);
    const seen = (await storage.repository.getUrl(URL_ID)) ?? assert.fail("URL record missing");
    const recorded = await storage.repository.recordCaptureOnUrl({
      seen,
      captureId: capture.captureId,
      capturedAt: version.capturedAt,
      count: false,
      version,
      nextCaptureAt: null,
    });
    assert.equal(recorded.recorded, true);
    latest = versionId;
  }
});

after(async () => {
  await storage?.close();
});

async function get(path: string, headers: Record<string, string> = {}): Promise<APIGatewayProxyResult> {
  const [pathname = "", search = ""] = path.split("?");
  const query = search ? Object.fromEntries(new URLSearchParams(search)) : null;
  const event = {
    httpMethod: "GET",
    path: pathname,
    headers: { host: "archive.test", ...headers },
    queryStringParameters: query,
    multiValueQueryStringParameters: null,
    requestContext: { path: pathname },
  } as unknown as APIGatewayProxyEvent;
  for (const route of routes) {
    const match = route.pattern.exec(pathname);
    if (match) return route.handle(deps, event, { id: match[1] ?? "", match });
  }
  throw new Error(`no route for ${path}`);
}

function links(text: string): Array<{ uri: string; rel: string; datetime?: string }> {
  return [...text.matchAll(/<([^>]*)>; rel="([^"]*)"(?:; type="[^"]*")?(?:; datetime="([^"]*)")?/g)].map(
    (m) => ({
      uri: m[1] ?? "",
      rel: m[2] ?? "",
      ...(m[3] ? { datetime: m[3] } : {}),
    }),
  );
}

describe("Memento over a long history", () => {
  it("pages the TimeMap newest page first and reaches every memento exactly once through rel=timemap", async () => {
    let next: string | undefined = `/timemap/link/${URL_TEXT}`;
    const seen: string[] = [];
    let pages = 0;
    while (next) {
      const response = await get(next);
      assert.equal(response.statusCode, 200);
      const page = links(response.body);
      const self = page.find((l) => l.rel === "self");
      assert.equal(self?.uri, `${BASE}${next}`);
      const mementos = page.filter((l) => l.rel.split(" ").includes("memento")).map((l) => l.uri);
      assert.ok(mementos.length <= 11, "a page holds the page size (plus a first-memento link)");
      seen.push(...mementos);
      const older = page.find((l) => l.rel === "timemap")?.uri;
      next = older?.slice(BASE.length);
      pages++;
    }
    assert.equal(pages, 4);
    const expected = succeeded.map((i) => `${BASE}/memento/${stamp(at(i))}/${URL_TEXT}`);
    assert.deepEqual(new Set(seen), new Set(expected));
    // The first memento appears on its own page and is linked from every page as "first memento".
    assert.equal(seen.length, expected.length + (pages - 1));
  });

  it("negotiates inside the scan window from captures, and older datetimes among versions", async () => {
    const near = await get(`/timegate/${URL_TEXT}`, { "accept-datetime": at(31).toUTCString() });
    assert.equal(near.headers?.location, `${BASE}/memento/${stamp(at(31))}/${URL_TEXT}`);
    // Captures 2 and 3 are beyond the 20 captures read: the closest version (capture 0) answers.
    const old = await get(`/timegate/${URL_TEXT}`, { "accept-datetime": at(2).toUTCString() });
    assert.equal(old.headers?.location, `${BASE}/memento/${stamp(at(0))}/${URL_TEXT}`);
    const served = await get(`/memento/${stamp(at(0))}/${URL_TEXT}`);
    assert.equal(served.statusCode, 200);
    assert.equal(served.headers?.["memento-datetime"], at(0).toUTCString());
    assert.match(served.body, /The long story/);
  });

  it("caches a memento served from the versions fallback briefly, one inside the window for good", async () => {
    // Capture 0 is past the 20 captures read: its neighbours come partly from versions, and
    // change as captures age out of the window, so a cache may not keep it for a year.
    const fallback = await get(`/memento/${stamp(at(0))}/${URL_TEXT}`);
    assert.equal(fallback.statusCode, 200);
    assert.equal(fallback.headers?.["cache-control"], "public, max-age=60");
    const inside = await get(`/memento/${stamp(at(31))}/${URL_TEXT}`);
    assert.equal(inside.statusCode, 200);
    assert.equal(inside.headers?.["cache-control"], "public, max-age=31536000, immutable");
  });

  it("redirects to the stored snapshot when it is too large to return, keeping the Memento headers", async () => {
    const response = await get(`/memento/${stamp(at(43))}/${URL_TEXT}`);
    assert.equal(response.statusCode, 302);
    assert.match(String(response.headers?.location), /X-Amz-Signature=/);
    assert.equal(response.headers?.["memento-datetime"], at(43).toUTCString());
    assert.match(String(response.headers?.link), new RegExp(`<${URL_TEXT}>; rel="original"`));
  });

  it("refuses a cursor it did not issue", async () => {
    await assert.rejects(get(`/timemap/link/page/bm90LWEtY3Vyc29y/${URL_TEXT}`), { code: "invalid_cursor" });
  });
});
