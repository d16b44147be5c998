import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { createApiHandler } from "../../functions/api/create-handler.ts";
import { FileQueue } from "../../local/file-queue.ts";
import { parseAllowedPrivateHosts } from "../../shared/domain/url.ts";
import { apiEvent } from "../support/api-event.ts";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";
import type { Json } from "../support/json.ts";

let storage: EmbeddedStorage;
let queue: FileQueue;
let queueDir: string;
let api: ReturnType<typeof createApiHandler>;
let failEnqueue = false;

const context = { awsRequestId: "test", getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

before(async () => {
  storage = await startEmbeddedStorage();
  queueDir = await mkdtemp(join(tmpdir(), "palimpsest-api-queue-"));
  queue = await FileQueue.open({ directory: queueDir, visibilityTimeoutMs: 60_000, maxReceiveCount: 3 });
  api = createApiHandler({
    repository: storage.repository,
    blobs: storage.blobs,
    queue: {
      enqueue: async (message) => {
        if (failEnqueue) throw new Error("queue down");
        await queue.send(JSON.stringify(message));
      },
    },
    // Names resolve through this table only: no DNS query leaves the machine.
    resolveHost: async (host) => {
      const table: Record<string, string[]> = {
        "news.example": ["93.184.215.14"],
        "intranet.example": ["10.0.0.7"],
        "metadata.example": ["169.254.169.254"],
      };
      const found = table[host] ?? (/^[\d.]+$|:/.test(host) ? [host] : undefined);
      if (!found) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: "ENOTFOUND" });
      return found;
    },
    allowedPrivateHosts: parseAllowedPrivateHosts("127.0.0.1:9"),
    presignedUrlTtlSeconds: 900,
  });
});

after(async () => {
  await storage.close();
  await rm(queueDir, { recursive: true, force: true });
});

function event(
  method: string,
  path: string,
  body?: string,
  query?: Record<string, string>,
): APIGatewayProxyEvent {
  return apiEvent({ method, path, body, headers: { "content-type": "application/json" }, query });
}

async function call(method: string, path: string, body?: unknown, query?: Record<string, string>) {
  const raw = typeof body === "string" ? body : body === undefined ? undefined : JSON.stringify(body);
  const result = (await api(event(method, path, raw, query), context)) as APIGatewayProxyResult;
  return {
    status: result.statusCode,
    headers: result.headers ?? {},
    json: JSON.parse(result.body) as Record<string, Json>,
  };
}

describe("POST /v1/captures", () => {
  it("accepts a URL, normalises it, records it queued and enqueues it", async () => {
    const before = queue.size;
    const res = await call("POST", "/v1/captures", { url: "HTTPS://News.Example:443/a?utm_source=x#top" });
    assert.equal(res.status, 202);
    assert.equal(res.json.status, "queued");
    assert.equal(res.json.url, "https://news.example/a");
    assert.equal(res.headers.location, `/v1/captures/${res.json.captureId}`);
    assert.equal(queue.size, before + 1);
    const status = await call("GET", `/v1/captures/${res.json.captureId}`);
    assert.equal(status.status, 200);
    assert.equal(status.json.status, "queued");
    assert.equal(status.json.urlId, res.json.urlId);
  });

  it("answers each bad input with a 4xx, a specific code and no stack trace", async () => {
    const cases: Array<[unknown, number, string]> = [
      ["{not json", 400, "invalid_json"],
      ["", 400, "invalid_json"],
      [[1, 2], 400, "invalid_body"],
      [{}, 400, "missing_url"],
      [{ url: 7 }, 400, "invalid_url"],
      [{ url: "no scheme here" }, 400, "invalid_url"],
      [{ url: "ftp://news.example/a" }, 400, "unsupported_scheme"],
      [{ url: "https://u:p@news.example/a" }, 400, "credentials_in_url"],
      [{ url: `https://news.example/${"x".repeat(2100)}` }, 400, "url_too_long"],
      [{ url: "https://intranet.example/" }, 400, "private_address"],
      [{ url: "https://metadata.example/latest" }, 400, "private_address"],
      [{ url: "http://127.0.0.1:8080/" }, 400, "private_address"],
      [{ url: "https://nowhere.example/" }, 400, "unresolvable_host"],
      [{ url: "https://news.example/", recapture: "sometimes" }, 400, "invalid_recapture"],
      [{ url: "https://news.example/", colour: "blue" }, 400, "unknown_field"],
      [JSON.stringify({ url: `https://news.example/${"x".repeat(17_000)}` }), 413, "body_too_large"],
    ];
    for (const [body, status, code] of cases) {
      const res = await call("POST", "/v1/captures", body);
      assert.equal(res.status, status, `${JSON.stringify(body).slice(0, 60)} → ${JSON.stringify(res.json)}`);
      assert.equal(res.json.error.code, code);
      assert.equal(typeof res.json.error.message, "string");
      assert.doesNotMatch(res.json.error.message, /at .*\.ts:\d+/);
    }
  });

  it("lets an allowed private host through", async () => {
    const res = await call("POST", "/v1/captures", { url: "http://127.0.0.1:9/page" });
    assert.equal(res.status, 202);
  });

  it("records the capture as failed and answers 503 when the queue is down", async () => {
    failEnqueue = true;
    try {
      const res = await call("POST", "/v1/captures", { url: "https://news.example/queue-down" });
      assert.equal(res.status, 503);
      assert.equal(res.json.error.code, "queue_unavailable");
      assert.equal(res.headers["retry-after"], "5");
    } finally {
      failEnqueue = false;
    }
    const url = await call("GET", "/v1/urls", undefined, { url: "https://news.example/queue-down" });
    const captures = await call("GET", `/v1/urls/${url.json.urlId}/captures`);
    assert.equal(captures.json.items[0].status, "failed");
    assert.equal(captures.json.items[0].error.code, "queue_unavailable");
  });
});

describe("reads", () => {
  it("finds a URL by any spelling of it and lists its captures", async () => {
    const submitted = await call("POST", "/v1/captures", {
      url: "https://news.example/read-me",
      recapture: { everyMinutes: 30 },
    });
    const byUrl = await call("GET", "/v1/urls", undefined, { url: "https://NEWS.example/read-me#x" });
    assert.equal(byUrl.status, 200);
    assert.equal(byUrl.json.urlId, submitted.json.urlId);
    assert.deepEqual(byUrl.json.recapture, { everyMinutes: 30 });
    assert.deepEqual(byUrl.json.versions, []);
    const byId = await call("GET", `/v1/urls/${submitted.json.urlId}`);
    assert.deepEqual(byId.json, byUrl.json);
    const captures = await call("GET", `/v1/urls/${submitted.json.urlId}/captures`, undefined, {
      limit: "1",
    });
    assert.equal(captures.json.items.length, 1);
  });

  it("answers unknown things with 404 and wrong methods with 405", async () => {
    assert.equal((await call("GET", "/v1/captures/cap_nope")).json.error.code, "capture_not_found");
    assert.equal((await call("GET", "/v1/urls/url_nope")).json.error.code, "url_not_found");
    assert.equal(
      (await call("GET", "/v1/urls", undefined, { url: "https://news.example/never" })).status,
      404,
    );
    assert.equal((await call("GET", "/v1/urls")).json.error.code, "missing_url");
    assert.equal((await call("GET", "/v2/anything")).status, 404);
    const wrong = await call("DELETE", "/v1/captures");
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.allow, "POST, GET");
    assert.equal((await call("GET", "/v1/urls/url_x/captures", undefined, { limit: "0" })).status, 404);
  });
});
