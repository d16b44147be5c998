/**
 * After a bot challenge Palimpsest never solves it: it plans one retry, later, in a fresh browser
 * context, and records it. Through the capture worker's domain on the embedded DynamoDB and S3
 * with the real adapters, and the API handler over them: a challenge leaves the retry plan on the
 * URL (`GET /v1/urls/{id}`, the URL page); the next capture says it was that retry, whether its
 * context was fresh as the capturer reported it, and, challenged again, that it was still
 * challenged (API, capture page, URL page) and plans nothing more; later challenges of the same run
 * plan nothing either (the wall backoff goes on), and the article showing again ends the run. A
 * 403 challenge (taken from the `http_error`) and a 200 one (classified with the page) go through
 * the two paths that record a challenge.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { APIGatewayProxyResult, Context } from "aws-lambda";
import { createApiHandler } from "../../functions/api/create-handler.ts";
import { processCapture } from "../../shared/domain/capture/index.ts";
import { urlIdFor } from "../../shared/domain/ids.ts";
import type { CaptureRecord } from "../../shared/domain/model.ts";
import { CaptureError } from "../../shared/errors.ts";
import type { PageCapture, PageCapturer } from "../../shared/ports.ts";
import { apiEvent } from "../support/api-event.ts";
import { testCaptureOptions } from "../support/capture-options.ts";
import {
  captureDeps,
  type EmbeddedStorage,
  queuedCapture,
  startEmbeddedStorage,
} from "../support/embedded-storage.ts";

const FIXTURES = new URL("../fixtures/validity/", import.meta.url);
const context = { awsRequestId: "test", getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

interface Answer {
  html: string;
  status: number;
  headers: Record<string, string>;
  /** What the capturer reports of its browser context (the Chromium one: fresh-context.ts). */
  freshContext?: boolean;
}

const ARTICLE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Ferry timetable changes</title></head>
<body><article><h1>Ferry timetable changes for the summer</h1>
<p>The ferry operator said on Tuesday that crossings to the islands would run every forty minutes from June, instead of every hour, after a second boat joined the fleet.</p>
<p>Early morning sailings will start half an hour sooner on weekdays, and the last crossing on Fridays and Saturdays will leave the mainland at half past eleven at night.</p>
<p>Fares will not change this year, the operator said, though the discount for residents will need a new card that islanders can order online or at the harbour office.</p>
</article></body></html>`;

const wall = (file: string, status: number, headers: Record<string, string> = {}): Answer => ({
  html: readFileSync(new URL(file, FIXTURES), "utf8"),
  status,
  headers: { "content-type": "text/html; charset=utf-8", ...headers },
});

/** What the Chromium capturer reports for `answer`: a page, or a 4xx `http_error` carrying it. */
function capturerOf(serve: () => Answer): PageCapturer {
  return {
    async capture(url) {
      const answer = serve();
      const page: PageCapture = {
        finalUrl: url,
        httpStatus: answer.status,
        headers: answer.headers,
        raw: { body: new TextEncoder().encode(answer.html), contentType: "text/html; charset=utf-8" },
        renderedHtml: answer.html,
        snapshotHtml: answer.html,
        screenshot: { body: new TextEncoder().encode("jpeg"), contentType: "image/jpeg" },
        timings: {},
        freshContext: answer.freshContext ?? true,
      };
      if (answer.status >= 400) {
        throw new CaptureError("http_error", `The server answered HTTP ${answer.status}.`, {
          httpStatus: answer.status,
          evidence: page,
        });
      }
      return page;
    },
    close: async () => {},
  };
}

let storage: EmbeddedStorage;
let api: ReturnType<typeof createApiHandler>;

before(async () => {
  storage = await startEmbeddedStorage();
  api = createApiHandler({
    repository: storage.repository,
    blobs: storage.blobs,
    queue: { enqueue: async () => {} },
    resolveHost: async () => ["93.184.215.14"],
    allowedPrivateHosts: new Set(),
    presignedUrlTtlSeconds: 900,
  });
});

after(async () => {
  await storage?.close();
});

async function get(path: string): Promise<{ status: number; text: string }> {
  const event = apiEvent({ path, headers: { host: "archive.test" }, requestContext: { path } });
  const result = (await api(event, context)) as APIGatewayProxyResult;
  return { status: result.statusCode, text: result.body };
}

describe("a challenge's retry", () => {
  it("is planned on the URL, recorded on the capture that retries, and ends when the article shows", async () => {
    const url = "https://news.example/ferries/summer-timetable";
    const urlId = urlIdFor(url);
    let answer: Answer = { html: ARTICLE, status: 200, headers: { "content-type": "text/html" } };
    const deps = captureDeps(
      storage,
      capturerOf(() => answer),
      testCaptureOptions({ navigationTimeoutMs: 5_000 }),
    );
    const capture = async (): Promise<CaptureRecord> => {
      const captureId = await queuedCapture(storage.repository, url);
      assert.equal((await processCapture(deps, captureId)).kind, "succeeded");
      return (await storage.repository.getCapture(captureId)) ?? assert.fail("capture missing");
    };
    const urlJson = async () => JSON.parse((await get(`/v1/urls/${urlId}`)).text) as Record<string, unknown>;

    const first = await capture();
    assert.equal(first.validity, "ok");
    assert.equal(first.challengeRetried, undefined);
    await storage.repository.setRecapture(urlId, { everyMinutes: 24 * 60 }, null);

    // A Cloudflare challenge answered with 403: the retry is planned, at the backoff's time.
    answer = wall("cloudflare-challenge.html", 403, { "cf-mitigated": "challenge", server: "cloudflare" });
    const challenged = await capture();
    assert.equal(challenged.validity, "challenge");
    assert.equal(challenged.challengeRetried, undefined, "the challenged capture is no retry");
    const record = (await storage.repository.getUrl(urlId)) ?? assert.fail("URL missing");
    assert.deepEqual(record.challengeRetry, {
      at: record.nextCaptureAt,
      afterCaptureId: challenged.captureId,
    });
    const retryIn = Date.parse(record.nextCaptureAt ?? "") - Date.parse(challenged.finishedAt ?? "");
    assert.ok(retryIn >= 14 * 60_000 && retryIn <= 16 * 60_000, `retried after ${retryIn} ms`);
    assert.deepEqual((await urlJson()).challengeRetry, record.challengeRetry);
    const planned = await get(`/ui/urls/${urlId}`);
    assert.match(
      planned.text,
      new RegExp(
        `A bot challenge stopped capture ${challenged.captureId}; Palimpsest never solves one, and tries the page once more at`,
      ),
    );
    assert.match(planned.text, /in a fresh browser context/);

    // The retry meets another challenge (a 200 this time): it says it was the retry, in a fresh
    // context, still challenged, and plans nothing more; the URL stays on the wall backoff.
    answer = wall("imperva-incapsula.html", 200);
    const retry = await capture();
    assert.equal(retry.validity, "challenge");
    assert.deepEqual(retry.challengeRetried, {
      afterCaptureId: challenged.captureId,
      freshContext: true,
      stillChallenged: true,
    });
    const shown = JSON.parse((await get(`/v1/captures/${retry.captureId}`)).text) as Record<string, unknown>;
    assert.deepEqual(shown.challengeRetried, retry.challengeRetried);
    assert.equal((await urlJson()).challengeRetry, undefined, "no second retry is planned");
    const spent = (await storage.repository.getUrl(urlId)) ?? assert.fail("URL missing");
    assert.equal(spent.challengeRetry, undefined);
    assert.equal(spent.notOkSince, challenged.finishedAt, "the run of walls goes on");
    const backoff = Date.parse(spent.nextCaptureAt ?? "") - Date.parse(retry.finishedAt ?? "");
    assert.ok(backoff >= 14 * 60_000 && backoff <= 16 * 60_000, `backed off ${backoff} ms`);
    const capturePage = await get(`/ui/captures/${retry.captureId}`);
    assert.match(
      capturePage.text,
      new RegExp(
        `The one retry after a bot challenge met by <a href="[^"]*">capture ${challenged.captureId}</a>, in a fresh browser context`,
      ),
    );
    assert.match(capturePage.text, /It was challenged again: no further challenge retry is planned/);
    const urlPage = await get(`/ui/urls/${urlId}`);
    assert.match(
      urlPage.text,
      /the retry after a challenge, in a fresh browser context; still challenged, no further challenge retry/,
    );
    assert.doesNotMatch(urlPage.text, /A bot challenge stopped capture/);

    // Still walled: the backoff retries, but that is no challenge retry, and none is planned.
    answer = wall("cloudflare-challenge.html", 403, { "cf-mitigated": "challenge" });
    const walled = await capture();
    assert.equal(walled.validity, "challenge");
    assert.equal(walled.challengeRetried, undefined);
    const still = (await storage.repository.getUrl(urlId)) ?? assert.fail("URL missing");
    assert.equal(still.challengeRetry, undefined);
    assert.ok(still.nextCaptureAt, "the wall backoff keeps the URL due");

    // The article shows again: the run ends, and a later challenge plans its one retry afresh.
    answer = { html: ARTICLE, status: 200, headers: { "content-type": "text/html" } };
    const back = await capture();
    assert.equal(back.validity, "ok");
    assert.equal(back.challengeRetried, undefined);
    answer = wall("cloudflare-challenge.html", 403, { "cf-mitigated": "challenge" });
    const again = await capture();
    const replanned = (await storage.repository.getUrl(urlId)) ?? assert.fail("URL missing");
    assert.equal(replanned.challengeRetry?.afterCaptureId, again.captureId);
    answer = { html: ARTICLE, status: 200, headers: { "content-type": "text/html" } };
    const recovered = await capture();
    assert.deepEqual(recovered.challengeRetried, { afterCaptureId: again.captureId, freshContext: true });
    assert.equal((await storage.repository.getUrl(urlId))?.challengeRetry, undefined);
    const after = await capture();
    assert.equal(after.challengeRetried, undefined, "only the capture after a challenge is its retry");
  });

  it("records freshContext as the capturer reported it, on a page and on a refusal's evidence", async () => {
    const url = "https://news.example/ferries/reused-context";
    let answer: Answer = { html: ARTICLE, status: 200, headers: { "content-type": "text/html" } };
    const deps = captureDeps(
      storage,
      capturerOf(() => answer),
      testCaptureOptions({ navigationTimeoutMs: 5_000 }),
    );
    const capture = async (): Promise<CaptureRecord> => {
      const captureId = await queuedCapture(storage.repository, url);
      assert.equal((await processCapture(deps, captureId)).kind, "succeeded");
      return (await storage.repository.getCapture(captureId)) ?? assert.fail("capture missing");
    };
    await capture();
    await storage.repository.setRecapture(urlIdFor(url), { everyMinutes: 24 * 60 }, null);
    answer = wall("cloudflare-challenge.html", 403, { "cf-mitigated": "challenge" });
    const first = await capture();

    // A retry whose context was not fresh (a 403 challenge: the http_error's evidence) says so.
    answer = {
      ...wall("cloudflare-challenge.html", 403, { "cf-mitigated": "challenge" }),
      freshContext: false,
    };
    const retry = await capture();
    assert.deepEqual(retry.challengeRetried, {
      afterCaptureId: first.captureId,
      freshContext: false,
      stillChallenged: true,
    });
    const capturePage = await get(`/ui/captures/${retry.captureId}`);
    assert.match(capturePage.text, /in a browser context that was not fresh/);
  });

  it("plans nothing when the challenged capture ran beside another pending one, which keeps the schedule", async () => {
    // Arrange: the URL has its article and a capture pending (a sweep's claim); another capture,
    // submitted meanwhile, runs beside it and meets a challenge.
    const url = "https://news.example/ferries/beside";
    const urlId = urlIdFor(url);
    let answer: Answer = { html: ARTICLE, status: 200, headers: { "content-type": "text/html" } };
    const deps = captureDeps(
      storage,
      capturerOf(() => answer),
      testCaptureOptions({ navigationTimeoutMs: 5_000 }),
    );
    await processCapture(deps, await queuedCapture(storage.repository, url));
    await storage.repository.setRecapture(urlId, { everyMinutes: 24 * 60 }, null);
    const pending = await queuedCapture(storage.repository, url);
    const startAt = new Date(Date.now() + 3 * 3600_000).toISOString();
    assert.ok(
      await storage.repository.holdPending({
        urlId,
        captureId: pending,
        startAt,
        dueAt: startAt,
        parked: true,
      }),
    );
    answer = wall("cloudflare-challenge.html", 403, { "cf-mitigated": "challenge" });

    // Act
    const beside = await queuedCapture(storage.repository, url);
    assert.equal((await processCapture(deps, beside)).kind, "succeeded");

    // Assert: the pending capture's time stands, and no retry is promised at a time nothing is due.
    const record = (await storage.repository.getUrl(urlId)) ?? assert.fail("URL missing");
    assert.equal(record.lastValidity, "challenge");
    assert.equal(record.pendingCaptureId, pending);
    assert.equal(record.nextCaptureAt, startAt);
    assert.equal(record.challengeRetry, undefined);
  });

  it("plans nothing where a wall is not retried sooner (re-capture off once the URL has its article)", async () => {
    const url = "https://news.example/ferries/off";
    let answer: Answer = { html: ARTICLE, status: 200, headers: { "content-type": "text/html" } };
    const deps = captureDeps(
      storage,
      capturerOf(() => answer),
      testCaptureOptions({ navigationTimeoutMs: 5_000 }),
    );
    await processCapture(deps, await queuedCapture(storage.repository, url));
    answer = wall("cloudflare-challenge.html", 403, { "cf-mitigated": "challenge" });
    await processCapture(deps, await queuedCapture(storage.repository, url));
    const record = (await storage.repository.getUrl(urlIdFor(url))) ?? assert.fail("URL missing");
    assert.equal(record.lastValidity, "challenge");
    assert.equal(record.challengeRetry, undefined);
  });
});
