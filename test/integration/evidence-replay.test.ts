/**
 * Evidence that stands outside Palimpsest, end to end: the local runner captures a page with a
 * stylesheet, images, a script that fetches JSON and a cross-origin iframe (a second fixture site),
 * reached through a redirect; the capture's `wacz` artifact is downloaded through its link and
 * checked with tools nobody here wrote — the zip opened by zip.js, every file against the
 * datapackage's sha256, the signature with WebCrypto against the key the API publishes, every WARC
 * record read back by warcio's parser with its digests recomputed here — then `palimpsest verify`
 * accepts it and refuses a copy with one byte changed. Finally, with both sites shut down, the
 * package is replayed offline in ReplayWeb.page (served from node_modules, no CDN) in the
 * project's Chromium: the text, the fetched data, the stylesheet, the iframe and every image show,
 * and nothing leaves the replay server's origin.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Uint8ArrayReader, Uint8ArrayWriter, ZipReader } from "@zip.js/zip.js";
import { type Browser, chromium } from "playwright-core";
import { WARCParser } from "warcio";
import { type LocalRunner, startLocalRunner } from "../../local/runner.ts";
import { chromiumLaunchArgs, resolveBundledChromium } from "../../shared/adapters/chromium/browser-launch.ts";
import { createLogger } from "../../shared/logger.ts";
import { captureUntilDone } from "../support/capture-client.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";
import type { Json } from "../support/json.ts";
import { NO_DNS } from "../support/loopback-browser.ts";
import { allImagesShown, replayFrame, startReplayServer } from "../support/replay-harness.ts";
import { runCli as palimpsest } from "../support/run-cli.ts";

const STORY = "/story.html";
const REQUESTED = `/redirect?to=${STORY}`;

let site: FixtureSite;
let embedSite: FixtureSite;
let runner: LocalRunner;
let dataDir: string;
let capture: Record<string, Json>;
let wacz: Uint8Array;
let files: Map<string, Uint8Array>;

function storyHtml(embedUrl: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Harbour bridge reopens</title>
<link rel="stylesheet" href="/styles/story.css"></head>
<body><article><h1>Harbour bridge reopens</h1>
<p>The harbour bridge reopened to traffic on Tuesday after eight months of repairs, the city said.</p>
<p>Engineers replaced the cables and the deck, and the footpath on the eastern side is wider now.</p>
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

const sha256 = (bytes: Uint8Array | string) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

async function unzipAll(bytes: Uint8Array): Promise<Map<string, Uint8Array>> {
  const reader = new ZipReader(new Uint8ArrayReader(bytes));
  const out = new Map<string, Uint8Array>();
  for (const entry of await reader.getEntries()) {
    if (!entry.directory) out.set(entry.filename, await entry.getData(new Uint8ArrayWriter()));
  }
  await reader.close();
  return out;
}

before(async () => {
  process.env.LOG_LEVEL = "silent";
  site = await startFixtureSite();
  embedSite = await startFixtureSite();
  site.setPage(STORY, storyHtml(embedSite.url("/embed/chart.html")));
  site.setPage("/styles/story.css", "h1 { color: rgb(170, 17, 0); }\n", {
    contentType: "text/css; charset=utf-8",
  });
  site.setPage("/api/figures.json", '{"crossings": 41000}', { contentType: "application/json" });
  embedSite.setPage("/embed/chart.html", EMBED_HTML);
  dataDir = await mkdtemp(join(tmpdir(), "palimpsest-evidence-"));
  runner = await startLocalRunner({
    dataDir,
    port: 0,
    logger: createLogger({}, "silent"),
    sweepIntervalMs: 0,
    env: {
      ALLOW_PRIVATE_HOSTS: `${new URL(site.origin).host},${new URL(embedSite.origin).host}`,
      CAPTURE_NAVIGATION_TIMEOUT_MS: "10000",
      LOG_LEVEL: "silent",
    },
  });
  capture = await captureUntilDone(runner.url, site.url(REQUESTED), { timeoutMs: 90_000 });
  const link = (capture.artifacts as Record<string, Record<string, Json>> | undefined)?.wacz;
  assert.ok(link, `the capture has a wacz artifact: ${JSON.stringify(capture.artifacts)}`);
  const response = await fetch(String(link.url));
  assert.equal(response.status, 200);
  wacz = new Uint8Array(await response.arrayBuffer());
  files = await unzipAll(wacz);
});

after(async () => {
  await runner?.close();
  await Promise.all([site?.close(), embedSite?.close()]);
  await rm(dataDir, { recursive: true, force: true });
});

describe("a captured page's WACZ", () => {
  it("is the capture's `wacz` artifact, downloaded as it was stored", () => {
    const link = (capture.artifacts as Record<string, Record<string, Json>>).wacz as Record<string, Json>;
    assert.equal(link.contentType, "application/wacz");
    assert.equal(link.bytes, wacz.length);
    assert.equal(`sha256:${link.sha256}`, sha256(wacz));
    assert.equal(capture.validity, "ok");
  });

  it("is a zip whose datapackage lists every file with its sha256", () => {
    assert.deepEqual([...files.keys()].sort(), [
      "archive/data.warc.gz",
      "datapackage-digest.json",
      "datapackage.json",
      "indexes/index.cdx",
      "pages/pages.jsonl",
    ]);
    const datapackage = JSON.parse(text(files.get("datapackage.json")));
    assert.equal(datapackage.wacz_version, "1.1.1");
    // The URL as the archive normalised it (`%2F` in the query), which the browser requested.
    assert.equal(datapackage.mainPageUrl, capture.url);
    for (const resource of datapackage.resources) {
      const data = files.get(resource.path);
      assert.ok(data, `${resource.path} is in the zip`);
      assert.equal(resource.hash, sha256(data));
      assert.equal(resource.bytes, data.length);
    }
    assert.match(text(files.get("pages/pages.jsonl")), /reopened to traffic on Tuesday/);
  });

  it("is signed with the key the archive publishes, and WebCrypto verifies the signature", async () => {
    const digest = JSON.parse(text(files.get("datapackage-digest.json")));
    assert.equal(digest.hash, sha256(files.get("datapackage.json") ?? new Uint8Array()));
    const published = (await (await fetch(`${runner.url}/v1/signing-key`)).json()) as { publicKey: string };
    assert.equal(digest.signedData.publicKey, published.publicKey);
    const key = await crypto.subtle.importKey(
      "spki",
      Buffer.from(published.publicKey, "base64"),
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["verify"],
    );
    const valid = await crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" },
      key,
      Buffer.from(digest.signedData.signature, "base64"),
      new TextEncoder().encode(digest.hash),
    );
    assert.equal(valid, true);
  });

  it("holds a request and a response for every exchange, read back by warcio with digests that hold", async () => {
    const warc = files.get("archive/data.warc.gz") ?? new Uint8Array();
    const records: { type: string; uri: string; headers: Map<string, string>; block: Uint8Array }[] = [];
    for await (const record of new WARCParser([warc], { parseHttp: false, keepHeadersCase: true })) {
      const block = await record.readFully(false);
      const headers = new Map([...record.warcHeaders.headers].map(([k, v]) => [k, v]));
      records.push({ type: record.warcType ?? "", uri: record.warcTargetURI ?? "", headers, block });
      if (record.warcType !== "warcinfo") assert.equal(headers.get("WARC-Block-Digest"), sha256(block));
      if (record.warcType === "response" || record.warcType === "request") {
        const split = Buffer.from(block).indexOf("\r\n\r\n");
        assert.equal(headers.get("WARC-Payload-Digest"), sha256(block.subarray(split + 4)));
      }
    }
    const responses = new Map(records.filter((r) => r.type === "response").map((r) => [r.uri, r]));
    const expected = [
      String(capture.url),
      site.url(STORY),
      site.url("/styles/story.css"),
      site.url("/img/64x40-aa3311.png"),
      site.url("/api/figures.json"),
      embedSite.url("/embed/chart.html"),
      embedSite.url("/img/48x24-1133aa.png"),
    ];
    for (const url of expected) {
      const response = responses.get(url);
      assert.ok(response, `a response record for ${url}`);
      assert.equal(response.headers.get("WARC-IP-Address"), "127.0.0.1");
    }
    assert.match(text(responses.get(String(capture.url))?.block), /^HTTP\/1\.1 302 Found\r\n/);
    assert.match(text(responses.get(site.url(STORY))?.block), /^HTTP\/1\.1 200 OK\r\n[\s\S]*eight months/);
    const ids = new Map(records.map((r) => [r.headers.get("WARC-Record-ID"), r]));
    const requests = records.filter((r) => r.type === "request");
    assert.ok(requests.length >= expected.length);
    for (const request of requests) {
      assert.equal(ids.get(request.headers.get("WARC-Concurrent-To"))?.uri, request.uri);
    }
    assert.deepEqual(
      records.filter((r) => r.type === "resource").map((r) => r.uri.split(":")[2]),
      ["snapshot", "screenshot", "article"],
    );
    const provenance = JSON.parse(text(records.find((r) => r.type === "metadata")?.block));
    assert.deepEqual(
      provenance.hosts.map((h: { host: string }) => h.host).sort(),
      [new URL(site.origin).host, new URL(embedSite.origin).host].sort(),
    );
    assert.equal(provenance.validity.verdict, "ok");
    assert.equal(provenance.captureId, capture.captureId);
    assert.match(provenance.userAgent, /Chrome\//);
    assert.match(provenance.browserVersion, /^\d+\./);
  });

  it("passes `palimpsest verify`, and a copy with one byte changed does not", async () => {
    const work = await mkdtemp(join(tmpdir(), "palimpsest-evidence-files-"));
    try {
      const genuine = join(work, "capture.wacz");
      await writeFile(genuine, wacz);
      const accepted = await palimpsest({ PALIMPSEST_API: runner.url }, "verify", genuine, "--api");
      assert.equal(accepted.code, 0, accepted.stdout + accepted.stderr);
      assert.match(accepted.stdout, /^valid: .*capture\.wacz\n/);
      assert.match(accepted.stdout, /\(the archive's key\)/);
      const tampered = new Uint8Array(wacz);
      // A byte inside the WARC's data, past its first records.
      const at = Buffer.from(tampered).indexOf("archive/data.warc.gz") + 1500;
      tampered[at] = (tampered[at] ?? 0) ^ 0x01;
      await writeFile(join(work, "tampered.wacz"), tampered);
      const refused = await palimpsest({}, "verify", join(work, "tampered.wacz"));
      assert.equal(refused.code, 1);
      assert.match(refused.stdout, /^invalid: .*tampered\.wacz\n/);
      assert.match(refused.stdout, /archive\/data\.warc\.gz: its sha256 is sha256:[0-9a-f]{64}, not/);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it("replays offline in ReplayWeb.page: text, fetched data, the cross-origin iframe and every image", async () => {
    // From here on the sites are gone: whatever replays comes from the package.
    await Promise.all([site.close(), embedSite.close()]);
    const replay = await startReplayServer(wacz, String(capture.url));
    const browser: Browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? (await resolveBundledChromium()),
      args: chromiumLaunchArgs([NO_DNS]),
      headless: true,
    });
    const context = await browser.newContext({ locale: "en-US" });
    const elsewhere: string[] = [];
    context.on("request", (request) => {
      const url = request.url();
      if (!url.startsWith(`${replay.origin}/`) && !/^(blob|data):/.test(url)) elsewhere.push(url);
    });
    try {
      const page = await context.newPage();
      await page.goto(`${replay.origin}/`);
      const story = await replayFrame(page, STORY, 90_000);
      const within = { timeout: 30_000 };
      await story.waitForFunction(
        () => document.querySelector("h1")?.textContent === "Harbour bridge reopens",
        null,
        within,
      );
      assert.match(
        // biome-ignore lint/performance/useDomNodeTextContent: Playwright's locator, and the text as rendered is the point
        await story.locator("article").innerText(),
        /reopened to traffic on Tuesday after eight months/,
      );
      await story.waitForFunction(
        () => document.getElementById("figures")?.textContent === "41000 crossings a day",
        null,
        within,
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
        within,
      );
      for (const frame of [story, chart]) {
        await frame.waitForFunction(() => [...document.images].every((i) => i.complete), null, within);
        const images = await frame.evaluate(allImagesShown);
        assert.ok(images.length > 0);
        for (const image of images) assert.ok(image.shown, `${image.src} is shown`);
      }
      assert.deepEqual(elsewhere, [], "nothing left the replay server's origin");
    } finally {
      await context.close();
      await browser.close();
      await replay.close();
    }
  });
});
