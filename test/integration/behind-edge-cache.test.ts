/**
 * What the API tells caches, and how it answers when CloudFront (infra/constructs/edge-cache.ts)
 * stands in front of it: a memento with a successor is immutable and carries no link that moves;
 * the newest memento, TimeMaps, feeds and memento redirects are short-lived or revalidated; errors
 * are never kept. Behind the distribution the API sees its own execute-api host and stage path
 * while the browser sees the public one: pages link without "/prod" and forms from the public
 * origin are ours. Against the embedded S3 and DynamoDB, through the whole handler.
 */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { createApiHandler } from "../../functions/api/create-handler.ts";
import { createGuardedHttpFetcher } from "../../shared/adapters/guarded-http-fetcher.ts";
import { newCaptureId, urlIdFor } from "../../shared/domain/ids.ts";
import type { CaptureRecord } from "../../shared/domain/model.ts";
import { apiEvent } from "../support/api-event.ts";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";

const PUBLIC = "https://archive.example.org";
const API_HOST = "abc123defg.execute-api.eu-west-1.amazonaws.com";
const URL_TEXT = "https://news.example/bridge";
const URL_ID = urlIdFor(URL_TEXT);
const TIMES = ["2026-03-01T08:00:00.000Z", "2026-03-01T09:00:00.000Z", "2026-03-01T10:00:00.000Z"];
/** A second URL whose last two captures finished three minutes apart. */
const CLOSE_URL = "https://news.example/ferry";
const CLOSE_TIMES = ["2026-03-01T08:00:00.000Z", "2026-03-01T09:57:00.000Z", "2026-03-01T10:00:00.000Z"];
const stamp = (iso: string) => iso.slice(0, 19).replace(/[-T:]/g, "");
const context = { awsRequestId: "test", getRemainingTimeInMillis: () => 30_000 } as unknown as Context;
const IMMUTABLE = "public, max-age=31536000, immutable";

let storage: EmbeddedStorage;
let handler: ReturnType<typeof createApiHandler>;
let enqueued = 0;

before(async () => {
  storage = await startEmbeddedStorage();
  handler = createApiHandler({
    repository: storage.repository,
    blobs: storage.blobs,
    queue: { enqueue: async () => void enqueued++ },
    resolveHost: async () => ["93.184.215.14"],
    allowedPrivateHosts: new Set(),
    presignedUrlTtlSeconds: 900,
    publicBaseUrl: PUBLIC,
    csrfSecret: crypto.randomBytes(32),
    following: {
      sources: storage.sources,
      fetcher: createGuardedHttpFetcher(),
      pollQueue: { enqueue: async () => {} },
    },
  });
  const snapshot = await storage.blobs.putBlob(new TextEncoder().encode("<!doctype html><p>Bridge</p>"), {
    contentType: "text/html; charset=utf-8",
    fileName: "snapshot.html",
  });
  for (const [url, times] of [
    [URL_TEXT, TIMES],
    [CLOSE_URL, CLOSE_TIMES],
  ] as const) {
    await storage.repository.ensureUrl({
      urlId: urlIdFor(url),
      url,
      captureCount: 0,
      versionCount: 0,
      recapture: "off",
      createdAt: times[0] as string,
      firstCapturedAt: times[0] as string,
    });
    const captures: CaptureRecord[] = times.map((finishedAt) => ({
      captureId: newCaptureId(new Date(Date.parse(finishedAt) - 5000)),
      urlId: urlIdFor(url),
      url,
      requestedAt: new Date(Date.parse(finishedAt) - 5000).toISOString(),
      finishedAt,
      attempts: 1,
      status: "succeeded",
      httpStatus: 200,
      artifacts: { snapshot },
    }));
    await storage.repository.putCaptures(captures);
  }
});

after(async () => {
  await storage?.close();
});

/**
 * A request as API Gateway passes it on when CloudFront forwarded it to the stage `prod`, with the
 * headers CloudFront adds (its request id, and the reader's address from its function); with
 * `direct: true`, as it arrives on the execute-api URL itself.
 */
function viaEdge(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
  options: { direct?: boolean } = {},
) {
  const edge: Record<string, string> = options.direct
    ? {}
    : { "x-amz-cf-id": "Q0xPVURGUk9OVA==", "x-palimpsest-viewer-ip": "198.51.100.7" };
  const [pathname = "", search = ""] = path.split("?");
  return apiEvent({
    method,
    path: pathname,
    body,
    headers: { host: API_HOST, ...edge, ...headers },
    query: search ? Object.fromEntries(new URLSearchParams(search)) : null,
    requestContext: { path: `/prod${pathname}`, stage: "prod", domainName: API_HOST },
  });
}

async function send(event: APIGatewayProxyEvent) {
  const result = (await handler(event, context)) as APIGatewayProxyResult;
  const headers = Object.fromEntries(
    Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
  );
  return { status: result.statusCode, headers, text: result.body };
}

const get = (path: string, headers: Record<string, string> = {}) => send(viaEdge("GET", path, headers));
const memento = (iso: string) => `/memento/${stamp(iso)}/${URL_TEXT}`;

describe("Cache-Control: what a cache may keep", () => {
  it("marks a memento with a successor immutable, and leaves out its moving last-memento link", async () => {
    for (const iso of TIMES.slice(0, 2)) {
      const res = await get(memento(iso));
      assert.equal(res.status, 200, iso);
      assert.equal(res.headers["cache-control"], IMMUTABLE, iso);
      const link = res.headers.link ?? "";
      assert.doesNotMatch(link, /last memento/, iso);
      assert.match(link, /rel="next memento"/, iso);
      assert.ok(link.includes(`<${PUBLIC}/memento/`), "links start with the public base URL");
    }
  });

  it("keeps the newest memento only briefly: a later capture gives it a next link", async () => {
    const res = await get(memento(TIMES[2] as string));
    assert.equal(res.status, 200);
    assert.equal(res.headers["cache-control"], "public, max-age=60");
    assert.match(res.headers.link ?? "", /rel="last memento"/);
    assert.doesNotMatch(res.headers.link ?? "", /next memento/);
  });

  it("keeps a memento near the newest only briefly: a capture from a skewed clock may still land before it", async () => {
    const close = (iso: string) => `/memento/${stamp(iso)}/${CLOSE_URL}`;
    const near = await get(close(CLOSE_TIMES[1] as string));
    assert.equal(near.status, 200);
    assert.equal(near.headers["cache-control"], "public, max-age=60", "3 minutes before the newest");
    const far = await get(close(CLOSE_TIMES[0] as string));
    assert.equal(far.headers["cache-control"], IMMUTABLE, "2 hours before the newest");
  });

  it("never keeps a redirect to a memento, whose target moves with newer captures", async () => {
    for (const path of [`/memento/2026/${URL_TEXT}`, `/memento/20260301113000/${URL_TEXT}`]) {
      const res = await get(path);
      assert.equal(res.status, 302, path);
      assert.equal(res.headers.location, `${PUBLIC}${memento(TIMES[2] as string)}`, path);
      assert.equal(res.headers["cache-control"], "no-cache", path);
    }
    const gate = await get(`/timegate/${URL_TEXT}`);
    assert.equal(gate.status, 302);
    assert.equal(gate.headers["cache-control"], "no-cache");
  });

  it("sends TimeMaps revalidated, feeds for a minute, errors and JSON never", async () => {
    assert.equal((await get(`/timemap/link/${URL_TEXT}`)).headers["cache-control"], "no-cache");
    const feed = await get("/v1/edits.atom");
    assert.equal(feed.status, 200);
    assert.equal(feed.headers["cache-control"], "public, max-age=60");
    const missing = await get("/memento/20260301080000/https://news.example/never-archived");
    assert.equal(missing.status, 404);
    assert.equal(missing.headers["cache-control"], "no-store");
    const keyed = await get(`/v1/urls/${URL_ID}`, { "x-api-key": "k" });
    assert.equal(keyed.status, 200);
    assert.equal(keyed.headers["cache-control"], "no-store");
  });
});

describe("the web UI behind the distribution", () => {
  it("links its pages and scopes its cookie at the public root, not at the stage path", async () => {
    const home = await get("/");
    assert.equal(home.status, 200);
    assert.doesNotMatch(home.text, /(href|action|src)="\/prod\//);
    assert.match(home.text, /action="\/ui\/captures"/);
    assert.match(
      home.headers["set-cookie"] ?? "",
      /^palimpsest_csrf=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax; Secure$/,
    );
  });

  it("accepts a form posted from the public origin, and still refuses another site's", async () => {
    const home = await get("/");
    const cookie = (home.headers["set-cookie"] ?? "").split(";")[0] ?? "";
    const token = /<input type="hidden" name="csrf" value="([^"]+)">/.exec(home.text)?.[1] ?? "";
    const post = (origin: string, site: string) =>
      send(
        viaEdge(
          "POST",
          "/ui/captures",
          { cookie, origin, "sec-fetch-site": site, "content-type": "application/x-www-form-urlencoded" },
          new URLSearchParams({ url: "https://news.example/harbour", csrf: token }).toString(),
        ),
      );
    const before = enqueued;
    const ours = await post(PUBLIC, "same-origin");
    assert.equal(ours.status, 303, ours.text);
    assert.equal(enqueued, before + 1);
    const theirs = await post("https://evil.example", "cross-site");
    assert.equal(theirs.status, 403);
    const forged = await post("https://evil.example", "none");
    assert.equal(forged.status, 403, "a foreign Origin is refused whatever Sec-Fetch-Site says");
    const plain = await post("http://archive.example.org", "none");
    assert.equal(plain.status, 403, "the public host over http is another origin");
    const otherPort = await post("https://archive.example.org:8443", "none");
    assert.equal(otherPort.status, 403, "so is the public host on another port");
    const apiOverHttp = await post(`http://${API_HOST}`, "none");
    assert.equal(apiOverHttp.status, 403, "and the API's own host over http");
    assert.equal(enqueued, before + 1);
  });

  it("on the execute-api URL itself, keeps the stage path in its links and cookie", async () => {
    const home = await send(viaEdge("GET", "/", {}, undefined, { direct: true }));
    assert.equal(home.status, 200);
    assert.match(home.text, /action="\/prod\/ui\/captures"/);
    assert.doesNotMatch(home.text, /(href|action)="\/ui\//);
    assert.match(home.headers["set-cookie"] ?? "", /; Path=\/prod\/; /);
  });
});
