/**
 * Requests a web page on the same machine could forge, or a client could garble (issue 12): the
 * JSON API reads only `application/json`, the UI's forms need their CSRF token, `/_local/sweep`
 * needs the key, a forged cursor is the caller's error, links never come from the Host header,
 * and the API key is compared without its length showing. Against the embedded S3 and DynamoDB.
 */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { createServer, type Server } from "node:http";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { after, before, describe, it, mock } from "node:test";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { createApiHandler } from "../../functions/api/create-handler.ts";
import { writeResult } from "../../local/api-gateway-event.ts";
import { handleLocalSweep } from "../../local/local-sweep.ts";
import { createGuardedHttpFetcher } from "../../shared/adapters/guarded-http-fetcher.ts";
import { urlIdFor } from "../../shared/domain/ids.ts";
import { apiEvent } from "../support/api-event.ts";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";
import type { Json } from "../support/json.ts";

const API_KEY = "correct-horse-battery-staple";
const context = { awsRequestId: "test", getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

let storage: EmbeddedStorage;
let enqueued = 0;
type Handler = ReturnType<typeof createApiHandler>;
let open: Handler;
let locked: Handler;
let configured: Handler;

function depsWith(extra: Partial<Parameters<typeof createApiHandler>[0]>) {
  return createApiHandler({
    repository: storage.repository,
    blobs: storage.blobs,
    queue: { enqueue: async () => void enqueued++ },
    resolveHost: async () => ["93.184.215.14"],
    allowedPrivateHosts: new Set(),
    presignedUrlTtlSeconds: 900,
    following: {
      sources: storage.sources,
      fetcher: createGuardedHttpFetcher(),
      pollQueue: { enqueue: async () => {} },
    },
    csrfSecret: crypto.randomBytes(32),
    ...extra,
  });
}

before(async () => {
  storage = await startEmbeddedStorage();
  open = depsWith({});
  locked = depsWith({ apiKey: API_KEY });
  configured = depsWith({ publicBaseUrl: "https://archive.example.org/news" });
});

after(async () => {
  await storage.close();
});

interface Call {
  method?: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

function event(call: Call): APIGatewayProxyEvent {
  return apiEvent({ ...call, requestContext: { path: call.path } });
}

async function send(handler: Handler, call: Call) {
  const result = (await handler(event(call), context)) as APIGatewayProxyResult;
  const headers = result.headers ?? {};
  const isJson = String(headers["content-type"] ?? "").startsWith("application/json");
  return {
    status: result.statusCode,
    headers,
    text: result.body,
    json: (isJson ? JSON.parse(result.body) : {}) as Record<string, Json>,
  };
}

const submission = JSON.stringify({ url: "https://news.example/a" });

describe("the JSON API reads only application/json bodies", () => {
  it("answers 415 to text/plain, form and untyped bodies, and queues nothing", async () => {
    const before = enqueued;
    for (const type of ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", ""]) {
      const res = await send(open, {
        method: "POST",
        path: "/v1/captures",
        body: submission,
        headers: type ? { "content-type": type } : {},
      });
      assert.equal(res.status, 415, `content-type "${type}"`);
      assert.equal(res.json.error.code, "unsupported_media_type");
    }
    assert.equal(enqueued, before, "nothing was submitted");
    const good = await send(open, {
      method: "POST",
      path: "/v1/captures",
      body: submission,
      headers: { "content-type": "application/json; charset=utf-8" },
    });
    assert.equal(good.status, 202);
  });

  it("refuses the same on the other JSON bodies: PATCH a URL, follow a source, import OPML", async () => {
    const urlId = urlIdFor("https://news.example/a");
    const patch = await send(open, {
      method: "PATCH",
      path: `/v1/urls/${urlId}`,
      body: '{"recapture":"off"}',
      headers: { "content-type": "text/plain" },
    });
    assert.equal(patch.status, 415);
    const follow = await send(open, {
      method: "POST",
      path: "/v1/sources",
      body: '{"url":"https://news.example/rss"}',
      headers: { "content-type": "text/plain" },
    });
    assert.equal(follow.status, 415);
    const opml = await send(open, {
      method: "POST",
      path: "/v1/sources/opml",
      body: '<opml version="2.0"><body><outline xmlUrl="https://news.example/rss"/></body></opml>',
      headers: { "content-type": "text/plain" },
    });
    assert.equal(opml.status, 415);
  });
});

/** The home page's Set-Cookie and form token, as a browser would keep them. */
async function formSession(handler: Handler) {
  const home = await send(handler, { path: "/" });
  assert.equal(home.status, 200);
  const setCookie = String(home.headers["set-cookie"] ?? "");
  assert.match(setCookie, /^palimpsest_csrf=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
  const cookie = setCookie.split(";")[0] ?? "";
  const token = /<input type="hidden" name="csrf" value="([^"]+)">/.exec(home.text)?.[1];
  assert.ok(token, "the form carries a token");
  return { cookie, token };
}

function formPost(fields: Record<string, string>, headers: Record<string, string>): Call {
  return {
    method: "POST",
    path: "/ui/captures",
    body: new URLSearchParams(fields).toString(),
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
  };
}

describe("the web UI's forms carry a CSRF token", () => {
  it("a form POST with the page's token and cookie is accepted", async () => {
    const { cookie, token } = await formSession(open);
    const res = await send(open, formPost({ url: "https://news.example/b", csrf: token }, { cookie }));
    assert.equal(res.status, 303, res.text);
    assert.match(String(res.headers.location), /^\/ui\/captures\/cap_/);
  });

  it("a page that already has the cookie keeps it and signs the same nonce", async () => {
    const { cookie, token } = await formSession(open);
    const again = await send(open, { path: "/", headers: { cookie } });
    assert.equal(again.headers["set-cookie"], undefined);
    assert.match(again.text, new RegExp(`name="csrf" value="${token}"`));
  });

  it("refuses a POST without the token, without the cookie, or with a planted cookie", async () => {
    const before = enqueued;
    const { cookie, token } = await formSession(open);
    const cases: Array<[string, Call]> = [
      ["no token", formPost({ url: "https://news.example/c" }, { cookie })],
      ["no cookie", formPost({ url: "https://news.example/c", csrf: token }, {})],
      [
        "wrong token",
        formPost({ url: "https://news.example/c", csrf: `${token.slice(0, -2)}AA` }, { cookie }),
      ],
    ];
    // Another port of 127.0.0.1 shares our cookies: it can plant a nonce, but not sign it.
    const planted = "A".repeat(43);
    cases.push([
      "planted nonce",
      formPost({ url: "https://news.example/c", csrf: planted }, { cookie: `palimpsest_csrf=${planted}` }),
    ]);
    for (const [name, call] of cases) {
      const res = await send(open, call);
      assert.equal(res.status, 403, name);
      assert.match(res.text, /invalid_csrf_token/, name);
    }
    assert.equal(enqueued, before, "nothing was submitted");
  });

  it("refuses a POST the browser says came from another site, token or not", async () => {
    const { cookie, token } = await formSession(open);
    const res = await send(
      open,
      formPost(
        { url: "https://news.example/d", csrf: token },
        { cookie, origin: "http://127.0.0.1:8080", host: "127.0.0.1:3000", "sec-fetch-site": "same-site" },
      ),
    );
    assert.equal(res.status, 403);
  });

  it("accepts the Origin: null a browser sends from our no-referrer pages, when it says same-origin", async () => {
    const { cookie, token } = await formSession(open);
    const ours = await send(
      open,
      formPost(
        { url: "https://news.example/e", csrf: token },
        { cookie, origin: "null", host: "127.0.0.1:3000", "sec-fetch-site": "same-origin" },
      ),
    );
    assert.equal(ours.status, 303, ours.text);
    const sandboxed = await send(
      open,
      formPost(
        { url: "https://news.example/e", csrf: token },
        { cookie, origin: "null", host: "127.0.0.1:3000", "sec-fetch-site": "cross-site" },
      ),
    );
    assert.equal(sandboxed.status, 403);
  });

  it("without a secret (the Lambda), the token is the cookie's nonce and still required", async () => {
    const unsigned = depsWith({ csrfSecret: undefined });
    const { cookie, token } = await formSession(unsigned);
    assert.equal(cookie, `palimpsest_csrf=${token}`);
    const ok = await send(unsigned, formPost({ url: "https://news.example/f", csrf: token }, { cookie }));
    assert.equal(ok.status, 303, ok.text);
    const missing = await send(unsigned, formPost({ url: "https://news.example/f" }, { cookie }));
    assert.equal(missing.status, 403);
  });

  it("the sources forms need the token too", async () => {
    const { cookie, token } = await formSession(open);
    const page = await send(open, { path: "/ui/sources", headers: { cookie } });
    assert.match(page.text, new RegExp(`name="csrf" value="${token}"`));
    const res = await send(open, {
      method: "POST",
      path: "/ui/sources",
      body: "url=https%3A%2F%2Fnews.example%2Frss",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie },
    });
    assert.equal(res.status, 403);
    assert.match(res.text, /invalid_csrf_token/);
  });
});

describe("/_local/sweep", () => {
  let server: Server;
  let base: string;
  let sweeps = 0;
  before(async () => {
    server = createServer((req, res) => {
      handleLocalSweep(
        req,
        async () => {
          sweeps++;
          return { enqueued: 0, polls: 0, complete: true, lostClaims: 0, parked: 0, expired: 0 };
        },
        { apiKey: API_KEY },
      ).then((result) => writeResult(res, result));
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => new Promise<void>((done) => server.close(() => done())));

  it("needs the API key where API_KEY is set", async () => {
    const res = await fetch(`${base}/_local/sweep`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(res.status, 401);
    const wrong = await fetch(`${base}/_local/sweep`, { method: "POST", headers: { "x-api-key": "nope" } });
    assert.equal(wrong.status, 401);
    assert.equal(sweeps, 0);
  });

  it("reads a body only as application/json", async () => {
    const res = await fetch(`${base}/_local/sweep`, {
      method: "POST",
      headers: { "x-api-key": API_KEY },
      body: '{"now": "2030-01-01T00:00:00Z"}',
    });
    assert.equal(res.status, 415);
    assert.equal(sweeps, 0);
    const ok = await fetch(`${base}/_local/sweep`, {
      method: "POST",
      headers: { "x-api-key": API_KEY, "content-type": "application/json" },
      body: '{"now": "2030-01-01T00:00:00Z"}',
    });
    assert.equal(ok.status, 200);
    const bare = await fetch(`${base}/_local/sweep`, { method: "POST", headers: { "x-api-key": API_KEY } });
    assert.equal(bare.status, 200, "no body: the sweeper's own clock");
    assert.equal(sweeps, 2);
  });
});

describe("forged cursors", () => {
  const forged = (key: unknown) => Buffer.from(JSON.stringify(key)).toString("base64url");
  const cursors = [
    "not-a-cursor",
    forged({ pk: "URL#nope", sk: 1 }),
    forged({ gsi9pk: { S: "x" } }),
    forged({}),
  ];

  it("are 400 invalid_cursor on every paginated JSON list, never 500", async () => {
    const urlId = urlIdFor("https://news.example/a");
    for (const path of ["/v1/edits", "/v1/captures", `/v1/urls/${urlId}/captures`, "/v1/sources"]) {
      for (const cursor of cursors) {
        const res = await send(open, { path, query: { cursor } });
        assert.equal(res.status, 400, `${path}?cursor=${cursor}: ${res.text}`);
        assert.equal(res.json.error.code, "invalid_cursor");
      }
    }
  });

  it("are a 400 page in the web UI and a 400 in a TimeMap", async () => {
    for (const cursor of cursors) {
      const home = await send(open, { path: "/", query: { edits: cursor } });
      assert.equal(home.status, 400, `/?edits=${cursor}`);
      assert.match(home.text, /invalid_cursor/);
      const sources = await send(open, { path: "/ui/sources", query: { cursor } });
      assert.equal(sources.status, 400, `/ui/sources?cursor=${cursor}`);
    }
    for (const cursor of cursors.slice(1)) {
      const timemap = await send(open, { path: `/timemap/link/page/${cursor}/https://news.example/a` });
      assert.equal(timemap.status, 400, `TimeMap page ${cursor}: ${timemap.text}`);
    }
  });
});

describe("absolute links", () => {
  it("never come from the Host or X-Forwarded-* headers", async () => {
    const res = await send(open, {
      path: "/v1/edits.atom",
      headers: { host: "evil.example", "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" },
    });
    assert.equal(res.status, 200);
    assert.doesNotMatch(res.text, /evil\.example/);
  });

  it("use the configured public base URL", async () => {
    const res = await send(configured, { path: "/v1/edits.atom", headers: { host: "evil.example" } });
    assert.match(
      res.text,
      /<link rel="self" type="application\/atom\+xml" href="https:\/\/archive\.example\.org\/news\/v1\/edits\.atom"\/>/,
    );
    assert.doesNotMatch(res.text, /evil\.example/);
  });
});

describe("the API key", () => {
  it("is required and compared over hashes, so a wrong length costs as much as a wrong key", async () => {
    // The module object behind node:crypto's named exports, which syncBuiltinESMExports updates.
    const cjs = createRequire(import.meta.url)("node:crypto") as typeof crypto;
    const compare = mock.method(cjs, "timingSafeEqual");
    syncBuiltinESMExports();
    try {
      for (const key of [undefined, "x", `${API_KEY}-and-more`, API_KEY.replace("c", "k")]) {
        const res = await send(locked, { path: "/v1/edits", headers: key ? { "x-api-key": key } : {} });
        assert.equal(res.status, 401, `key ${key}`);
      }
      const calls = compare.mock.calls.map((call) => call.arguments.map((b) => (b as Uint8Array).length));
      assert.deepEqual(
        calls,
        [
          [32, 32],
          [32, 32],
          [32, 32],
        ],
        "every key given was compared, as 32-byte digests",
      );
      assert.equal(
        (await send(locked, { path: "/v1/edits", headers: { "x-api-key": API_KEY } })).status,
        200,
      );
    } finally {
      compare.mock.restore();
      syncBuiltinESMExports();
    }
  });
});
