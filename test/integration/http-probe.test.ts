/**
 * Recaptures without a browser, end to end on the composed capture worker (functions/compose/)
 * with a real Chromium, the embedded S3 and DynamoDB, and a loopback news site: a browser capture
 * learns whether a page is server-rendered; a scheduled recapture of one is settled by one HTTP
 * request when nothing changed (304, or the same text), and captured by the browser otherwise —
 * an edit, a failing probe, a page whose scripts write or swap the article, every Nth recapture.
 */
import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { after, before, describe, it } from "node:test";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { createApiHandler } from "../../functions/api/create-handler.ts";
import { composeCaptureWorker } from "../../functions/compose/capture-worker.ts";
import { createChromiumPageCapturer } from "../../shared/adapters/chromium/page-capturer.ts";
import { createEgressProxy } from "../../shared/adapters/egress/egress-proxy.ts";
import { loadCaptureConfig } from "../../shared/config.ts";
import { type ProcessCaptureDeps, processCapture } from "../../shared/domain/capture/index.ts";
import { newCaptureId, urlIdFor } from "../../shared/domain/ids.ts";
import type { CaptureRecord, UrlRecord } from "../../shared/domain/model.ts";
import { normaliseUrl, parseAllowedPrivateHosts } from "../../shared/domain/url.ts";
import { createLogger } from "../../shared/logger.ts";
import type { PageCapturer } from "../../shared/ports.ts";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";

let storage: EmbeddedStorage;
let site: FixtureSite;
let chromium: PageCapturer;
let deps: ProcessCaptureDeps;
/** How many captures reached the browser. */
let browserCaptures = 0;
const logger = createLogger({}, "silent");
const PROBE_TIMEOUT_MS = 1_500;

before(async () => {
  storage = await startEmbeddedStorage();
  site = await startFixtureSite();
  const host = new URL(site.origin).host;
  chromium = createChromiumPageCapturer({
    logger,
    egress: createEgressProxy({ allowedPrivateHosts: parseAllowedPrivateHosts(host) }),
  });
  const counting: PageCapturer = {
    capture: (...args) => {
      browserCaptures++;
      return chromium.capture(...args);
    },
    close: () => chromium.close(),
  };
  deps = composeCaptureWorker({
    archive: { repository: storage.repository },
    blobs: storage.blobs,
    capturer: counting,
    logger,
    config: loadCaptureConfig({
      ALLOW_PRIVATE_HOSTS: host,
      CAPTURE_NAVIGATION_TIMEOUT_MS: "5000",
      CAPTURE_IDLE_TIMEOUT_MS: "1500",
      PROBE_BROWSER_EVERY: "3",
      PROBE_TIMEOUT_MS: String(PROBE_TIMEOUT_MS),
    }),
  });
});

after(async () => {
  await chromium?.close();
  await site?.close();
  await storage?.close();
});

const PARAGRAPHS = [
  "The regional water board approved a plan on Tuesday to replace four kilometres of lead pipes under the old town before the end of next year.",
  "Work will start in the streets around the market square in March, the board said, and households will be told a week before their supply is interrupted.",
  "The plan costs 12 million euros, two thirds of it paid for by a national grant that the town applied for after tests found lead above the legal limit in three schools.",
  "Residents asked at a public meeting why the work had taken so long to begin; the board's chair said the grant had been approved only in the autumn.",
];

/** A server-rendered article with a stylesheet and an image, as a news page has. */
function article(headline: string, paragraphs: readonly string[] = PARAGRAPHS): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${headline}</title>
<link rel="stylesheet" href="/probe/site.css"><meta property="article:published_time" content="2026-11-30T08:00:00Z"></head>
<body><header><nav><a href="/">Home</a> <a href="/local">Local</a></nav></header>
<main><article><h1>${headline}</h1><p class="byline">By Ines Varga</p>
<img src="/img/320x180-2a6f97.png" alt="Pipes stacked by a road">
${paragraphs.map((p) => `<p>${p}</p>`).join("\n")}
</article></main><footer><p>© The Town Courier</p></footer></body></html>`;
}

/** The same story, written into an empty shell by a script. */
function scriptWritten(headline: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${headline}</title></head>
<body><div id="app"><p>Loading…</p></div>
<script>
document.getElementById("app").innerHTML = ${JSON.stringify(`<article><h1>${headline}</h1><p class="byline">By Ines Varga</p>${PARAGRAPHS.map((p) => `<p>${p}</p>`).join("")}</article>`)};
</script></body></html>`;
}

/**
 * Server HTML with one text, and a script that swaps in another from the page's inline data (a
 * correction the markup never got): what a reader sees is the inline data's text.
 */
function inlineDataSwap(headline: string): string {
  const corrected = PARAGRAPHS.map((p) => p.replace("12 million", "14 million"));
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${headline}</title></head>
<body><main><article><h1>${headline}</h1><p class="byline">By Ines Varga</p>
<div id="story">${PARAGRAPHS.map((p) => `<p>${p}</p>`).join("\n")}</div>
</article></main>
<script type="application/json" id="story-data">${JSON.stringify({ paragraphs: corrected })}</script>
<script>
const data = JSON.parse(document.getElementById("story-data").textContent);
document.getElementById("story").innerHTML = data.paragraphs.map((p) => "<p>" + p + "</p>").join("");
</script></body></html>`;
}

/** The same story written into an empty shell by a script (the given paragraphs). */
function scriptWrittenWith(headline: string, paragraphs: readonly string[]): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${headline}</title></head>
<body><main><div id="app"><p>Loading…</p></div></main>
<script>
document.getElementById("app").innerHTML = ${JSON.stringify(`<article><h1>${headline}</h1><p class="byline">By Ines Varga</p>${paragraphs.map((p) => `<p>${p}</p>`).join("")}</article>`)};
</script></body></html>`;
}

/**
 * A server-rendered article that a script hydrates from its inline data (as Next.js pages do):
 * the markup's paragraphs, then the data's, which a reader sees.
 */
function hydrated(headline: string, markup: readonly string[], data: readonly string[] = markup): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${headline}</title></head>
<body><main><article><h1>${headline}</h1><p class="byline">By Ines Varga</p>
<div id="story">${markup.map((p) => `<p>${p}</p>`).join("")}</div>
</article></main>
<script id="__NEXT_DATA__" type="application/json">${JSON.stringify({ props: { pageProps: { paragraphs: data } } })}</script>
<script>
const story = JSON.parse(document.getElementById("__NEXT_DATA__").textContent).props.pageProps;
document.getElementById("story").innerHTML = story.paragraphs.map((p) => "<p>" + p + "</p>").join("");
</script></body></html>`;
}

/** A URL record on the adaptive schedule (as a submission leaves it), once. */
async function ensureUrl(url: string): Promise<string> {
  const normalised = normaliseUrl(url);
  const urlId = urlIdFor(normalised);
  await storage.repository.ensureUrl({
    urlId,
    url: normalised,
    captureCount: 0,
    versionCount: 0,
    recapture: "adaptive",
    createdAt: new Date().toISOString(),
  });
  return urlId;
}

/** Records a capture of `path` (by a person, or by the schedule) and processes it. */
async function capture(
  path: string,
  trigger: "api" | "schedule",
  worker: ProcessCaptureDeps = deps,
): Promise<CaptureRecord> {
  const url = normaliseUrl(site.url(path));
  const urlId = await ensureUrl(url);
  const captureId = newCaptureId();
  await storage.repository.putCapture({
    captureId,
    urlId,
    url,
    status: "queued",
    requestedAt: new Date().toISOString(),
    attempts: 0,
    trigger,
  });
  const outcome = await processCapture(worker, captureId);
  assert.equal(outcome.kind, "succeeded", JSON.stringify(outcome));
  const stored = await storage.repository.getCapture(captureId);
  assert.ok(stored);
  return stored;
}

async function urlOf(path: string): Promise<UrlRecord> {
  const url = await storage.repository.getUrl(urlIdFor(normaliseUrl(site.url(path))));
  assert.ok(url);
  return url;
}

/** GET on the API handler over the same storage (what `GET /v1/…` and the web UI answer). */
async function apiGet(path: string): Promise<APIGatewayProxyResult> {
  const api = createApiHandler({
    repository: storage.repository,
    blobs: storage.blobs,
    queue: { enqueue: async () => undefined },
    resolveHost: async (host) => [host],
    allowedPrivateHosts: parseAllowedPrivateHosts(new URL(site.origin).host),
    presignedUrlTtlSeconds: 60,
  });
  const event = {
    httpMethod: "GET",
    path,
    body: null,
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    isBase64Encoded: false,
    pathParameters: null,
    stageVariables: null,
    requestContext: {},
    resource: "",
  } as unknown as APIGatewayProxyEvent;
  const context = {
    awsRequestId: "probe-test",
    getRemainingTimeInMillis: () => 30_000,
  } as unknown as Context;
  return (await api(event, context)) as APIGatewayProxyResult;
}

/** The requests the site received while `run` ran. */
async function requestsDuring<T>(run: () => Promise<T>): Promise<{ result: T; paths: string[] }> {
  const from = site.requests.length;
  const result = await run();
  return { result, paths: site.requests.slice(from).map((r) => r.path) };
}

describe("HTTP probes of scheduled recaptures", () => {
  it("recaptures an unchanged server-rendered page with one request, finds an edit with the browser, and uses the browser every Nth time", async () => {
    const path = "/probe/static";
    site.setPage("/probe/site.css", "body{font:16px/1.5 serif}", { contentType: "text/css" });
    site.setPage(path, article("Lead pipes to go from the old town"));
    const first = await capture(path, "api");
    assert.equal(first.method, "browser");
    assert.equal(first.probe, undefined, "a person's capture is never probed");
    const learned = (await urlOf(path)).probe;
    assert.equal(learned?.serverRendered, true, JSON.stringify(learned));
    assert.equal(learned?.versionId, first.versionId);

    const before = await urlOf(path);
    const browserBefore = browserCaptures;
    const { result: probed, paths } = await requestsDuring(() => capture(path, "schedule"));
    assert.deepEqual(paths, [path], "one request for the page, no stylesheet, image or script");
    assert.equal(browserCaptures, browserBefore, "the browser was not asked");
    assert.equal(probed.method, "http");
    assert.equal(probed.probe?.outcome, "unchanged");
    assert.equal(probed.versionId, first.versionId);
    assert.equal(probed.changed, false);
    assert.equal(probed.validity, "ok");
    assert.equal(probed.httpStatus, 200);
    const after = await urlOf(path);
    assert.equal(after.captureCount, before.captureCount + 1, "counted like a browser capture");
    // Rescheduled from this capture by the policy (which adds jitter, so it may land before the last).
    assert.ok(after.nextCaptureAt && after.nextCaptureAt !== before.nextCaptureAt, "rescheduled");
    assert.ok(after.nextCaptureAt > (probed.finishedAt ?? ""), "the next capture is later");
    assert.equal(after.probe?.httpCount, 1);
    const view = JSON.parse((await apiGet(`/v1/captures/${probed.captureId}`)).body);
    assert.equal(view.method, "http");
    assert.deepEqual(view.probe, probed.probe);
    const list = JSON.parse((await apiGet(`/v1/urls/${probed.urlId}/captures`)).body);
    assert.deepEqual(
      list.items.map((c: { method: string }) => c.method),
      ["http", "browser"],
    );
    const ui = await apiGet(`/ui/urls/${probed.urlId}`);
    assert.match(ui.body, /scheduled, over HTTP/);
    assert.match(ui.body, /requested, in the browser/);
    assert.match((await apiGet("/")).body, /over HTTP, no browser/);

    // An edit: the probe declines, and the browser, in the same invocation, makes the version.
    site.setPage(
      path,
      article(
        "Lead pipes to go from the old town",
        PARAGRAPHS.map((p) => p.replace("four kilometres", "six kilometres")),
      ),
    );
    const edited = await capture(path, "schedule");
    assert.equal(edited.method, "browser");
    assert.equal(edited.probe?.outcome, "declined");
    assert.match(edited.probe?.reason ?? "", /text differs/);
    assert.equal(edited.changed, true);
    assert.notEqual(edited.versionId, first.versionId);
    assert.ok(edited.edit?.kinds.includes("number"), JSON.stringify(edited.edit));
    assert.ok(edited.artifacts?.snapshot && edited.artifacts.screenshot && edited.artifacts.raw);
    assert.equal((await urlOf(path)).probe?.httpCount, 0, "the browser capture learned afresh");

    // PROBE_BROWSER_EVERY=3: two recaptures over HTTP, the third in the browser.
    const methods: string[] = [];
    for (let i = 0; i < 3; i++) methods.push((await capture(path, "schedule")).method ?? "");
    assert.deepEqual(methods, ["http", "http", "browser"]);
    const third = (
      await storage.repository.listCaptures(urlIdFor(normaliseUrl(site.url(path))), { limit: 1 })
    ).items[0];
    assert.equal(third?.probe?.outcome, "not_tried");
    assert.match(third?.probe?.reason ?? "", /Every 3rd recapture uses the browser/);
    assert.equal((await urlOf(path)).versionCount, 2, "no version from any of them");
  });

  it("never probes a page whose article a script writes, or whose script swaps the text from inline data", async () => {
    site.setPage("/probe/script", scriptWritten("Market square closed for pipe works"));
    site.setPage("/probe/swap", inlineDataSwap("Grant covers two thirds of pipe works"));
    for (const path of ["/probe/script", "/probe/swap"]) {
      const first = await capture(path, "api");
      assert.equal(first.validity, "ok", path);
      const learned = (await urlOf(path)).probe;
      assert.equal(learned?.serverRendered, false, path);
      assert.match(learned?.reason ?? "", /scripts write or change it/, path);
      const browserBefore = browserCaptures;
      const again = await capture(path, "schedule");
      assert.equal(again.method, "browser", path);
      assert.equal(again.probe?.outcome, "not_tried", path);
      assert.equal(browserCaptures, browserBefore + 1, path);
    }
    // What the browser showed is the inline data's text, the one a reader sees.
    const swapped = await storage.repository.listVersions(urlIdFor(normaliseUrl(site.url("/probe/swap"))));
    assert.equal(swapped.length, 1);
  });

  it("trusts a 304 only to a strong ETag; with a Last-Modified date or a weak ETag it compares the text", async () => {
    const page = article("Schools get filters while pipes are replaced");
    const validators = {
      "/probe/etag": { header: "etag", value: '"v1-8c1f"', conditional: true },
      "/probe/modified": {
        header: "last-modified",
        value: "Mon, 30 Nov 2026 08:00:00 GMT",
        conditional: false,
      },
      "/probe/weak": { header: "etag", value: 'W/"v1-8c1f"', conditional: false },
    } as const;
    const asked: Record<string, Array<{ inm?: string; ims?: string }>> = {};
    for (const [path, v] of Object.entries(validators)) {
      asked[path] = [];
      site.setRoute(path, (req: IncomingMessage, res: ServerResponse) => {
        const inm = req.headers["if-none-match"];
        const ims = req.headers["if-modified-since"];
        asked[path]?.push({
          ...(typeof inm === "string" ? { inm } : {}),
          ...(typeof ims === "string" ? { ims } : {}),
        });
        // A server that answers 304 to whatever validator matches, as many do.
        if (inm === v.value || ims === v.value) {
          res.writeHead(304, { [v.header]: v.value }).end();
          return;
        }
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", [v.header]: v.value }).end(page);
      });
      await capture(path, "api");
      assert.equal((await urlOf(path)).probe?.[v.header === "etag" ? "etag" : "lastModified"], v.value);
      const probed = await capture(path, "schedule");
      assert.equal(probed.method, "http", path);
      const sent = asked[path]?.at(-1);
      if (v.conditional) {
        assert.deepEqual(sent, { inm: v.value }, `${path}: If-None-Match only`);
        assert.equal(probed.httpStatus, 304, path);
        assert.match(probed.probe?.reason ?? "", /304 Not Modified to the ETag/, path);
      } else {
        assert.deepEqual(sent, {}, `${path}: no conditional request (neither a date nor a weak ETag)`);
        assert.equal(probed.httpStatus, 200, path);
        assert.match(probed.probe?.reason ?? "", /text in the server's HTML is the same/, path);
      }
    }
  });

  it("declines a probe that another capture overtook: the learning it read is not written back", async () => {
    const path = "/probe/overtaken";
    const headline = "Water board names the streets first in line";
    site.setPage(path, article(headline));
    await capture(path, "api");
    assert.equal((await urlOf(path)).probe?.serverRendered, true);
    // While the probe's answer (the server-rendered page, unchanged) is on its way, the site moves
    // the same story into a script-written shell and a person's capture learns that.
    const fetcher = deps.probe?.fetcher;
    assert.ok(fetcher);
    const racing: ProcessCaptureDeps = {
      ...deps,
      probe: {
        ...(deps.probe as NonNullable<ProcessCaptureDeps["probe"]>),
        fetcher: {
          fetch: async (url, options) => {
            const answer = await fetcher.fetch(url, options);
            site.setPage(path, scriptWrittenWith(headline, PARAGRAPHS));
            const person = await capture(path, "api");
            assert.equal(person.changed, false, "the same text, rendered by a script");
            return answer;
          },
        },
      },
    };
    assert.equal((await urlOf(path)).probe?.serverRendered, true);
    const probed = await capture(path, "schedule", racing);
    assert.equal(probed.method, "browser", "the probe's unchanged answer was overtaken");
    assert.equal(probed.probe?.outcome, "declined");
    assert.match(probed.probe?.reason ?? "", /changed what the URL learned/);
    const learned = (await urlOf(path)).probe;
    assert.equal(learned?.serverRendered, false, "the newer learning stands");
    assert.equal(learned?.httpCount, 0);
  });

  it("declines when only the inline data a script renders from was edited, and the browser finds the edit", async () => {
    const path = "/probe/hydrated";
    const headline = "Grant for pipe works approved in the autumn";
    site.setPage(path, hydrated(headline, PARAGRAPHS));
    const first = await capture(path, "api");
    const learned = (await urlOf(path)).probe;
    assert.equal(learned?.serverRendered, true, "the inline data matched the markup");
    assert.ok(learned?.inlineDataSha256);
    assert.equal((await capture(path, "schedule")).method, "http", "nothing changed: over HTTP");
    // The correction reaches only the data the script renders from; the markup keeps the old text.
    site.setPage(
      path,
      hydrated(
        headline,
        PARAGRAPHS,
        PARAGRAPHS.map((p) => p.replace("12 million", "14 million")),
      ),
    );
    const edited = await capture(path, "schedule");
    assert.equal(edited.method, "browser");
    assert.equal(edited.probe?.outcome, "declined");
    assert.match(edited.probe?.reason ?? "", /inline data/);
    assert.equal(edited.changed, true);
    assert.notEqual(edited.versionId, first.versionId);
    assert.ok(edited.edit?.kinds.includes("number"), JSON.stringify(edited.edit));
  });

  it("forgets what was learned when a browser capture runs with probes off", async () => {
    const path = "/probe/off";
    site.setPage(path, article("Pipe works pause for the market"));
    await capture(path, "api");
    assert.ok((await urlOf(path)).probe, "learned with probes on");
    const off = composeCaptureWorker({
      archive: { repository: storage.repository },
      blobs: storage.blobs,
      capturer: chromium,
      logger,
      config: loadCaptureConfig({ ALLOW_PRIVATE_HOSTS: new URL(site.origin).host, PROBE: "off" }),
    });
    await capture(path, "schedule", off);
    assert.equal((await urlOf(path)).probe, undefined, "nothing stale for probes turned on again");
  });

  it("falls back to the browser when the probe's connection is reset, the server answers 500, or it times out", async () => {
    const path = "/probe/flaky";
    const page = article("Board chair defends the timetable");
    let failNext: "reset" | "500" | "hang" | undefined;
    site.setRoute(path, (req: IncomingMessage, res: ServerResponse) => {
      const mode = failNext;
      failNext = undefined;
      if (mode === "reset") {
        req.socket.destroy();
        return;
      }
      if (mode === "500") {
        res.writeHead(500, { "content-type": "text/html" }).end("<h1>Internal error</h1>");
        return;
      }
      if (mode === "hang") {
        setTimeout(() => {
          if (!res.destroyed) res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page);
        }, PROBE_TIMEOUT_MS + 1_000);
        return;
      }
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page);
    });
    const first = await capture(path, "api");
    for (const [mode, reason] of [
      ["reset", /The probe failed: The connection failed/],
      ["500", /The probe failed: The server answered HTTP 500/],
      ["hang", /The probe failed: .*(sent nothing|took longer)/],
    ] as const) {
      failNext = mode;
      const browserBefore = browserCaptures;
      const recaptured = await capture(path, "schedule");
      assert.equal(recaptured.method, "browser", mode);
      assert.equal(recaptured.probe?.outcome, "declined", mode);
      assert.match(recaptured.probe?.reason ?? "", reason, mode);
      assert.equal(browserCaptures, browserBefore + 1, mode);
      assert.equal(recaptured.versionId, first.versionId, `${mode}: unchanged, as the browser found`);
    }
  });
});
