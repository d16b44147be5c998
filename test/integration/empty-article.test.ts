/**
 * A page whose article the extractor cannot find (the README's first-capture page is one: a
 * heading and one sentence) is captured by its main text, and says so (`extraction: "fallback"`):
 * its article.txt is not empty, and an edit to its paragraph makes a version, never "unchanged".
 * On the embedded S3 and DynamoDB behind the real adapters, with a capturer that serves fixed pages;
 * the API and the capture's UI page say where the text came from.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { APIGatewayProxyResult, Context } from "aws-lambda";
import { createApiHandler } from "../../functions/api/create-handler.ts";
import { processCapture } from "../../shared/domain/capture/index.ts";
import type { PageCapture, PageCapturer } from "../../shared/ports.ts";
import { apiEvent } from "../support/api-event.ts";
import { testCaptureOptions } from "../support/capture-options.ts";
import {
  captureDeps,
  type EmbeddedStorage,
  queuedCapture,
  startEmbeddedStorage,
} from "../support/embedded-storage.ts";

let storage: EmbeddedStorage;
before(async () => {
  storage = await startEmbeddedStorage();
});
after(async () => {
  await storage?.close();
});

/** The README's first page, with its paragraph as given. */
const readmePage = (paragraph: string) =>
  `<html><head><title>Hello</title></head><body><article><h1>Hello</h1><p>${paragraph}</p></article></body></html>`;

/** Serves whatever `html()` says now, as a browser would have rendered it. */
function pageCapturer(html: () => string): PageCapturer {
  return {
    async capture(url): Promise<PageCapture> {
      const page = html();
      const body = new TextEncoder().encode(page);
      return {
        finalUrl: url,
        httpStatus: 200,
        raw: { body, contentType: "text/html; charset=utf-8" },
        renderedHtml: page,
        snapshotHtml: page,
        screenshot: { body: new TextEncoder().encode(`jpeg of ${page}`), contentType: "image/jpeg" },
        timings: {},
      };
    },
    close: async () => {},
  };
}

describe("a page with no article the extractor can find", () => {
  it("is captured by its main text, says so, and its edit is found", async () => {
    let paragraph = "First paragraph of a local article.";
    const deps = captureDeps(
      storage,
      pageCapturer(() => readmePage(paragraph)),
      testCaptureOptions(),
    );
    const url = "https://news.example/readme-first-capture";
    const run = async () => {
      const captureId = await queuedCapture(storage.repository, url);
      const outcome = await processCapture(deps, captureId);
      assert.equal(outcome.kind, "succeeded", JSON.stringify(outcome));
      return (await storage.repository.getCapture(captureId)) ?? assert.fail("no capture record");
    };

    const first = await run();
    assert.equal(first.extraction, "fallback");
    const text = first.artifacts?.text ?? assert.fail("no article.txt");
    assert.equal(
      new TextDecoder().decode(await storage.blobs.getBlob(text)),
      "Hello\n\nFirst paragraph of a local article.",
    );

    const same = await run();
    assert.equal(same.changed, false, "the same text again is unchanged");
    assert.equal(same.versionId, first.versionId);

    paragraph = "First paragraph of a local article, now edited.";
    const edited = await run();
    assert.equal(edited.changed, true, "the edit is found");
    assert.notEqual(edited.versionId, first.versionId);
    assert.ok(edited.edit, "with its edit");
    const urlRecord = await storage.repository.getUrl(first.urlId);
    assert.equal(urlRecord?.versionCount, 2);

    const api = createApiHandler({
      repository: storage.repository,
      blobs: storage.blobs,
      queue: { enqueue: async () => {} },
      resolveHost: async () => ["93.184.215.14"],
      allowedPrivateHosts: new Set<string>(),
      presignedUrlTtlSeconds: 900,
    });
    const get = async (path: string) =>
      (await api(apiEvent({ path }), {
        awsRequestId: "t",
        getRemainingTimeInMillis: () => 30_000,
      } as unknown as Context)) as APIGatewayProxyResult;
    const json = JSON.parse((await get(`/v1/captures/${edited.captureId}`)).body) as { extraction?: string };
    assert.equal(json.extraction, "fallback");
    const page = await get(`/ui/captures/${edited.captureId}`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /no article was found on it/);
  });

  it("with no article at all, takes the page's <title> as stored before: entities as the markup has them", async () => {
    const page = `<html><head><title>Tides &amp; times</title></head><body><p>High water at 06:12.</p></body></html>`;
    // No article whatever: the title comes from the page itself (documentTitle, entities kept).
    const deps = {
      ...captureDeps(
        storage,
        pageCapturer(() => page),
        testCaptureOptions(),
      ),
      extract: () => null,
    };
    const url = "https://news.example/tide-table";
    const first = await processCapture(deps, await queuedCapture(storage.repository, url));
    assert.equal(first.kind, "succeeded", JSON.stringify(first));
    const record = first.kind === "succeeded" ? first.capture : assert.fail("not succeeded");
    const article = record.artifacts?.article ?? assert.fail("no article.json");
    const stored = JSON.parse(new TextDecoder().decode(await storage.blobs.getBlob(article))) as {
      title: string;
    };
    assert.equal(stored.title, "Tides &amp; times");
    const again = await processCapture(deps, await queuedCapture(storage.repository, url));
    assert.equal(again.kind === "succeeded" && again.capture.changed, false, "the same page is unchanged");
  });

  it("an article the extractor finds is recorded as `article`", async () => {
    const article = [
      "The council approved twelve new homes by the harbour on Tuesday evening after a long debate.",
      "Residents had asked for more parking and a new footpath along the sea wall for years.",
      "Building work is due to start in the spring and should take about eighteen months.",
      "The developer said that four of the homes would be offered to local families first.",
    ]
      .map((sentence) => `<p>${sentence}</p>`)
      .join("");
    const deps = captureDeps(
      storage,
      pageCapturer(
        () =>
          `<html><head><title>Homes</title></head><body><article><h1>Harbour homes approved</h1>${article}</article></body></html>`,
      ),
      testCaptureOptions(),
    );
    const captureId = await queuedCapture(storage.repository, "https://news.example/harbour");
    assert.equal((await processCapture(deps, captureId)).kind, "succeeded");
    assert.equal((await storage.repository.getCapture(captureId))?.extraction, "article");
  });
});
