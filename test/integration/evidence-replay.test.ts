/**
 * Evidence that replays: a page with a stylesheet, images, a script that fetches JSON and a
 * cross-origin iframe is loaded in the project's Chromium, every HTTP exchange recorded as it
 * happened, packaged as a signed WACZ, then, with the site shut down, replayed offline in
 * ReplayWeb.page (its `ui.js` and `sw.js` served from node_modules, no CDN) in the same Chromium.
 * The replayed page must show its text, the fetched data, the iframe and every image; nothing may
 * leave the replay server's origin.
 *
 * The recorder here is a test's own (Playwright's view of each response); the capture function's
 * recorder is the egress proxy's. What this test holds is that the package Palimpsest writes is
 * one that web-archive tools nobody here wrote can replay.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Browser, chromium, type Frame, type Page, type Response } from "playwright-core";
import { chromiumLaunchArgs, resolveBundledChromium } from "../../shared/adapters/chromium/browser-launch.ts";
import { buildWacz } from "../../shared/domain/evidence/build-wacz.ts";
import type { EvidenceInput, RecordedExchange } from "../../shared/domain/evidence/model.ts";
import { verifyWacz } from "../../shared/domain/evidence/verify-wacz.ts";
import { testSigner } from "../support/evidence-fixture.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";
import { NO_DNS } from "../support/loopback-browser.ts";

const REPLAY_ASSETS = join(import.meta.dirname, "../../node_modules/replaywebpage");

let browser: Browser;
let site: FixtureSite;
let embedSite: FixtureSite;
let storyUrl: string;
let wacz: Uint8Array;

function storyHtml(embedUrl: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Harbour bridge reopens</title>
<link rel="stylesheet" href="/styles/story.css"></head>
<body><article><h1>Harbour bridge reopens</h1>
<p>The harbour bridge reopened to traffic on Tuesday after eight months of repairs.</p>
<figure><img id="photo" src="/img/64x40-aa3311.png" alt="The bridge at dawn"></figure>
<p id="figures">Loading figures…</p>
<iframe id="chart" src="${embedUrl}" width="320" height="120" title="Crossings chart"></iframe>
</article>
<script>
fetch("/api/figures.json").then((r) => r.json()).then((d) => {
  document.getElementById("figures").textContent = d.crossings + " crossings a day";
});
</script></body></html>`;
}

const EMBED_HTML = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Chart</title></head>
<body><p id="caption">Crossings by month, 2025</p><img id="bars" src="/img/48x24-1133aa.png" alt="bars"></body></html>`;

/** One exchange as Playwright saw it: request and response headers as sent, body as received. */
async function toExchange(response: Response): Promise<RecordedExchange> {
  const request = response.request();
  const redirect = response.status() >= 300 && response.status() < 400;
  const [requestHeaders, responseHeaders, body, server] = await Promise.all([
    request.headersArray(),
    response.headersArray(),
    redirect ? Promise.resolve(Buffer.alloc(0)) : response.body(),
    response.serverAddr(),
  ]);
  const postData = request.postDataBuffer();
  return {
    url: request.url(),
    startedAt: new Date(request.timing().startTime).toISOString(),
    request: {
      method: request.method(),
      // The fixture servers speak HTTP/1.1; Playwright does not say which version was used.
      httpVersion: "HTTP/1.1",
      headers: requestHeaders.map((h) => [h.name, h.value] as const),
      ...(postData ? { body: new Uint8Array(postData) } : {}),
    },
    response: {
      httpVersion: "HTTP/1.1",
      status: response.status(),
      statusText: response.statusText(),
      headers: responseHeaders.map((h) => [h.name, h.value] as const),
      body: new Uint8Array(body),
    },
    ...(server ? { remoteAddress: server.ipAddress } : {}),
  };
}

async function recordStory(): Promise<EvidenceInput> {
  const context = await browser.newContext({ locale: "en-US" });
  const page = await context.newPage();
  const pending: Promise<RecordedExchange>[] = [];
  page.on("response", (response) => pending.push(toExchange(response)));
  const capturedAt = new Date().toISOString();
  await page.goto(storyUrl, { waitUntil: "networkidle" });
  await page.waitForFunction(() => document.getElementById("figures")?.textContent?.includes("crossings"));
  const exchanges = await Promise.all(pending);
  const input: EvidenceInput = {
    pageUrl: storyUrl,
    capturedAt,
    createdAt: new Date().toISOString(),
    title: await page.title(),
    exchanges,
    resources: [
      {
        name: "snapshot",
        contentType: "text/html; charset=utf-8",
        body: new TextEncoder().encode(await page.content()),
      },
      { name: "screenshot", contentType: "image/png", body: new Uint8Array(await page.screenshot()) },
    ],
    provenance: {
      hosts: [...new Set(exchanges.map((e) => new URL(e.url).host))].map((host) => ({
        host,
        addresses: ["127.0.0.1"],
      })),
      userAgent: await page.evaluate(() => navigator.userAgent),
      browserVersion: browser.version(),
      palimpsestVersion: "0.1.0",
      timings: {},
    },
  };
  await context.close();
  return input;
}

/** Serves the replay page, ReplayWeb.page's two files and the WACZ (with ranges, as WACZ wants). */
async function startReplayServer(): Promise<{ origin: string; strays: string[]; close(): Promise<void> }> {
  const strays: string[] = [];
  const [ui, sw] = await Promise.all([
    readFile(join(REPLAY_ASSETS, "ui.js")),
    readFile(join(REPLAY_ASSETS, "sw.js")),
  ]);
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://replay.invalid").pathname;
    if (path === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><html><head><meta charset="utf-8"><script src="/replay/ui.js"></script></head>
<body style="margin:0"><replay-web-page style="display:block;width:1000px;height:700px" source="/capture.wacz"
url="${storyUrl}" replaybase="/replay/" embed="replayonly"></replay-web-page></body></html>`);
      return;
    }
    if (path === "/replay/" || path === "/replay/index.html") {
      // What sw.js serves here once it controls the page; a load that beats its activation gets
      // the same app from the server instead of a 404.
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(
        `<!doctype html><html><head><script src="./ui.js"></script></head><body><replay-app-main></replay-app-main></body></html>`,
      );
      return;
    }
    if (path === "/replay/ui.js" || path === "/replay/sw.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" });
      res.end(path.endsWith("ui.js") ? ui : sw);
      return;
    }
    if (path === "/capture.wacz") {
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
      const headers = { "content-type": "application/wacz", "accept-ranges": "bytes" };
      if (range) {
        const start = Number(range[1]);
        const end = range[2] ? Math.min(Number(range[2]), wacz.length - 1) : wacz.length - 1;
        res.writeHead(206, {
          ...headers,
          "content-range": `bytes ${start}-${end}/${wacz.length}`,
          "content-length": end - start + 1,
        });
        res.end(req.method === "HEAD" ? undefined : wacz.subarray(start, end + 1));
      } else {
        res.writeHead(200, { ...headers, "content-length": wacz.length });
        res.end(req.method === "HEAD" ? undefined : wacz);
      }
      return;
    }
    strays.push(`${req.method} ${path}`);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    strays,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** The frame ReplayWeb.page replays a URL in (`…/replay/w/<collection>/<ts>mp_/<url>`, `if_` for iframes). */
async function replayFrame(page: Page, pathEnd: string, timeoutMs: number): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const frame = page
      .frames()
      .find((f) => /\/replay\/w\/.+(mp|if)_\//.test(f.url()) && f.url().endsWith(pathEnd));
    if (frame) return frame;
    await page.waitForTimeout(200);
  }
  throw new Error(
    `no replay frame for ${pathEnd}; frames: ${page
      .frames()
      .map((f) => f.url())
      .join(", ")}`,
  );
}

const allImagesShown = () =>
  [...document.images].map((img) => ({ src: img.currentSrc, shown: img.complete && img.naturalWidth > 0 }));

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? (await resolveBundledChromium()),
    args: chromiumLaunchArgs([NO_DNS]),
    headless: true,
  });
  site = await startFixtureSite();
  embedSite = await startFixtureSite();
  storyUrl = site.url("/story.html");
  site.setPage("/story.html", storyHtml(embedSite.url("/embed/chart.html")));
  site.setPage("/styles/story.css", "h1 { color: rgb(170, 17, 0); }\n", {
    contentType: "text/css; charset=utf-8",
  });
  site.setPage("/api/figures.json", '{"crossings": 41000}', { contentType: "application/json" });
  embedSite.setPage("/embed/chart.html", EMBED_HTML);
  wacz = (await buildWacz(await recordStory(), testSigner(), { version: "0.1.0" })).bytes;
  // From here on the site is gone: whatever replays comes from the package.
  await Promise.all([site.close(), embedSite.close()]);
});

after(async () => {
  await browser?.close();
});

describe("a recorded page's WACZ", () => {
  it("holds every exchange of the load, and verifies", async () => {
    const result = await verifyWacz(wacz);
    assert.deepEqual(result.problems, []);
    // warcinfo, 6 exchanges × (response + request), snapshot, screenshot, provenance.
    assert.ok(result.records >= 15, `${result.records} records`);
  });

  it("replays offline in ReplayWeb.page: text, fetched data, the cross-origin iframe and every image", async () => {
    const replay = await startReplayServer();
    const context = await browser.newContext({ locale: "en-US" });
    const elsewhere: string[] = [];
    context.on("request", (request) => {
      const url = request.url();
      if (!url.startsWith(`${replay.origin}/`) && !/^(blob|data):/.test(url)) elsewhere.push(url);
    });
    try {
      const page = await context.newPage();
      await page.goto(`${replay.origin}/`);
      const story = await replayFrame(page, "/story.html", 90_000);
      await story.waitForFunction(
        () => document.querySelector("h1")?.textContent === "Harbour bridge reopens",
        null,
        {
          timeout: 30_000,
        },
      );
      assert.match(
        // biome-ignore lint/performance/useDomNodeTextContent: Playwright's locator, and the text as rendered is the point
        await story.locator("article").innerText(),
        /reopened to traffic on Tuesday after eight months/,
      );
      await story.waitForFunction(
        () => document.getElementById("figures")?.textContent === "41000 crossings a day",
        null,
        {
          timeout: 30_000,
        },
      );
      assert.equal(
        await story.evaluate(() => getComputedStyle(document.querySelector("h1") as Element).color),
        "rgb(170, 17, 0)",
        "the stylesheet replays",
      );
      const chart = await replayFrame(page, "/embed/chart.html", 30_000);
      assert.equal(chart.parentFrame(), story, "the iframe replays inside the page");
      await chart.waitForFunction(
        () => document.getElementById("caption")?.textContent === "Crossings by month, 2025",
        null,
        {
          timeout: 30_000,
        },
      );
      for (const frame of [story, chart]) {
        await frame.waitForFunction(() => [...document.images].every((i) => i.complete), null, {
          timeout: 30_000,
        });
        const images = await frame.evaluate(allImagesShown);
        assert.ok(images.length > 0);
        for (const image of images) assert.ok(image.shown, `${image.src} is shown`);
      }
      assert.deepEqual(elsewhere, [], "nothing left the replay server's origin");
    } finally {
      await context.close();
      await replay.close();
    }
  });
});
