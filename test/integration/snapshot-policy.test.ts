/**
 * The snapshot fetches nothing live, wherever it is opened: it carries its own
 * Content-Security-Policy as the first element of its `<head>`, and a resource it could not inline
 * is left blank with its URL kept as provenance. Captured with the real browser from the fixture
 * site on 127.0.0.1, then opened in a second browser from a file:// path and from another loopback
 * origin that sends no policy of its own, counting every request the fixture site receives.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { parseHTML } from "linkedom";
import type { Browser, Page } from "playwright-core";
import { createChromiumPageCapturer } from "../../shared/adapters/chromium/page-capturer.ts";
import { buildSnapshot } from "../../shared/adapters/snapshot/build-snapshot.ts";
import { SNAPSHOT_CONTENT_SECURITY_POLICY } from "../../shared/adapters/snapshot/content-security-policy.ts";
import type { CollectedResource, SerializedDocument } from "../../shared/adapters/snapshot/types.ts";
import type { PageCapture, PageCapturer } from "../../shared/ports.ts";
import { testCaptureOptions } from "../support/capture-options.ts";
import { encodeRgbPng, type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";
import { launchViewer, loopbackEgress, NO_DNS } from "../support/loopback-browser.ts";

/** Resources over 40 KB stay out of the snapshot; the photo below is about 120 KB. */
const OPTIONS = testCaptureOptions({ inlineResourceMaxBytes: 40_000 });

/** A PNG of noise, which does not compress: its size is about width × height × 3 bytes. */
function noisePng(width: number, height: number, seed: number): Buffer {
  const raw = Buffer.alloc(height * (1 + width * 3));
  let state = seed;
  for (let i = 0; i < raw.length; i++) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    raw[i] = i % (1 + width * 3) === 0 ? 0 : state >>> 24; // each row starts with filter type 0
  }
  return encodeRgbPng(width, height, raw);
}

const PHOTO = noisePng(200, 200, 7);
const BANNER = noisePng(160, 120, 11);
/** A stylesheet over the cap: a long comment, then one rule. */
const BIG_CSS = `/* ${"filler ".repeat(7_000)} */\n.standfirst { color: rgb(10, 20, 30); }`;

const ARTICLE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Quay lights replaced</title>
<meta http-equiv="Content-Security-Policy" content="img-src *">
<link rel="stylesheet" href="/styles/big.css">
<style>.masthead { background-image: url("/photos/banner.png"); height: 40px; }</style>
</head><body>
<header class="masthead">The Fixture Gazette</header>
<article><h1>Quay lights replaced</h1>
<p class="standfirst">The council replaced every light on the quay this week.</p>
<img id="photo" src="/photos/quay.png" alt="The quay at night" width="200" height="200">
<img id="icon" src="/img/16x16-3366cc.png" alt="">
<p>The new lamps use a third of the power of the old ones, the council said.</p></article>
<script>
  // Some scripts put content before <head>; a parser meeting it there starts the body.
  const early = document.createElement("div");
  early.id = "before-head";
  early.textContent = "BEFORE-HEAD";
  document.documentElement.insertBefore(early, document.head);
</script>
</body></html>`;

let site: FixtureSite;
let capturer: PageCapturer;
let viewer: Browser;
let capture: PageCapture;
let dir: string;

before(async () => {
  site = await startFixtureSite();
  site.setPage("/quay-lights.html", ARTICLE);
  site.setPage("/photos/quay.png", PHOTO, { contentType: "image/png" });
  site.setPage("/photos/banner.png", BANNER, { contentType: "image/png" });
  site.setPage("/styles/big.css", BIG_CSS, { contentType: "text/css; charset=utf-8" });
  capturer = createChromiumPageCapturer({ extraArgs: [NO_DNS], egress: loopbackEgress() });
  capture = await capturer.capture(site.url("/quay-lights.html"), OPTIONS);
  viewer = await launchViewer();
  dir = mkdtempSync(join(tmpdir(), "palimpsest-snapshot-policy-"));
});

after(async () => {
  await viewer?.close();
  await capturer?.close();
  await site?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** What a snapshot opened in the viewer showed, and what it tried. */
interface Opened {
  /** The first child node of `<head>`: its name and, for an element, its policy attributes. */
  headFirst: { node: string; httpEquiv: string | null; content: string | null };
  /** Whether the policy's `<meta>` is in `<head>` at all, as the browser parsed the document. */
  policyInHead: boolean;
  photo: { src: string | null; provenance: string | null; naturalWidth: number };
  iconWidth: number;
  beforeHeadText: string | null;
  /** What happened when the page was made to fetch from the fixture site (see `tryToFetch`). */
  attempts: { fetch: string; image: string; violations: string[] };
}

/** Opens `url` in a fresh viewer context, waits for anything late, then pushes the page to fetch. */
async function openSnapshot(url: string): Promise<Opened> {
  const context = await viewer.newContext({ locale: "en-US" });
  try {
    const page = await context.newPage();
    await page.goto(url, { waitUntil: "load" });
    await page.waitForTimeout(300);
    const seen = await page.evaluate(() => {
      const first = document.head.firstChild;
      const photo = document.getElementById("photo") as HTMLImageElement;
      const icon = document.getElementById("icon") as HTMLImageElement;
      return {
        headFirst: {
          node: first?.nodeName ?? "none",
          httpEquiv: first instanceof Element ? first.getAttribute("http-equiv") : null,
          content: first instanceof Element ? first.getAttribute("content") : null,
        },
        policyInHead: document.head.querySelector('meta[http-equiv="Content-Security-Policy"]') !== null,
        photo: {
          src: photo.getAttribute("src"),
          provenance: photo.getAttribute("data-palimpsest-src"),
          naturalWidth: photo.naturalWidth,
        },
        iconWidth: icon.naturalWidth,
        beforeHeadText: document.getElementById("before-head")?.textContent ?? null,
      };
    });
    return { ...seen, attempts: await tryToFetch(page, site.url("/photos/quay.png")) };
  } finally {
    await context.close();
  }
}

/**
 * What a script that got into the snapshot would do: fetch the live URL and load it as an image.
 * Runs through the debugger, which no policy stops; the requests it makes are the page's own.
 */
function tryToFetch(page: Page, live: string): Promise<Opened["attempts"]> {
  return page.evaluate(async (target) => {
    const violations: string[] = [];
    document.addEventListener("securitypolicyviolation", (event) =>
      violations.push(event.effectiveDirective),
    );
    const fetched = await fetch(target).then(
      () => "fetched",
      () => "refused",
    );
    const image = await new Promise<string>((resolve) => {
      const img = new Image();
      img.onload = () => resolve("loaded");
      img.onerror = () => resolve("refused");
      img.src = `${target}?from-script`;
    });
    await new Promise((resolve) => setTimeout(resolve, 50)); // violation events are queued
    return { fetch: fetched, image, violations: [...new Set(violations)].sort() };
  }, live);
}

function assertOpenedOffline(opened: Opened): void {
  assert.deepEqual(
    opened.headFirst,
    { node: "META", httpEquiv: "Content-Security-Policy", content: SNAPSHOT_CONTENT_SECURITY_POLICY },
    "the policy is the first child of <head>",
  );
  assert.ok(opened.policyInHead);
  assert.equal(opened.photo.src, null, "the photo over the cap is left blank");
  assert.equal(opened.photo.provenance, site.url("/photos/quay.png"));
  assert.equal(opened.photo.naturalWidth, 0);
  assert.equal(opened.iconWidth, 16, "the inlined icon shows");
  assert.equal(opened.beforeHeadText, "BEFORE-HEAD", "content from before <head> is kept");
  assert.deepEqual(opened.attempts, {
    fetch: "refused",
    image: "refused",
    violations: ["connect-src", "img-src"],
  });
}

describe("a snapshot opened outside the archive", () => {
  it("was built with the photo, the banner and the big stylesheet over the cap", () => {
    const html = capture.snapshotHtml;
    assert.match(
      html,
      /^<!DOCTYPE html><html lang="en"><head><meta [^>]*http-equiv="Content-Security-Policy"/,
    );
    assert.equal(
      (html.match(/http-equiv="Content-Security-Policy"/g) ?? []).length,
      1,
      "the page's own policy went",
    );
    assert.doesNotMatch(html, /\ssrc="http/, "no live src");
    assert.doesNotMatch(html, /\shref="[^"]*big\.css"/, "the big stylesheet links nowhere");
    assert.match(html, /data-palimpsest-href="http:\/\/127\.0\.0\.1:\d+\/styles\/big\.css"/);
    assert.match(html, /background-image: url\("data:,#http:\/\/127\.0\.0\.1:\d+\/photos\/banner\.png"\)/);
    assert.doesNotMatch(html.replace(/data:[^"]*"/g, '"'), /url\("?http/, "no live url() in the CSS");
  });

  it("fetches nothing when opened from disk", async () => {
    const file = join(dir, "snapshot.html");
    writeFileSync(file, capture.snapshotHtml);
    const before = site.requests.length;
    const opened = await openSnapshot(pathToFileURL(file).href);
    assert.deepEqual(site.requests.slice(before), [], "requests to the fixture site");
    assertOpenedOffline(opened);
  });

  it("fetches nothing when served from another origin that sends no policy", async () => {
    const served: string[] = [];
    const server: Server = createServer((req, res) => {
      served.push(req.url ?? "");
      if (req.url !== "/snapshot.html") {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(capture.snapshotHtml);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const before = site.requests.length;
      const opened = await openSnapshot(`http://127.0.0.1:${port}/snapshot.html`);
      assert.deepEqual(site.requests.slice(before), [], "requests to the fixture site");
      assert.deepEqual(served, ["/snapshot.html"], "requests to the snapshot's own origin");
      assertOpenedOffline(opened);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("buildSnapshot leaves nothing live", () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const dom = (html: string): SerializedDocument => ({
    html,
    doctype: { name: "html", publicId: "", systemId: "" },
    baseUrl: "https://news.example/a/story",
    markAttribute: "data-palimpsest-test",
    marks: [],
    adoptedCss: "",
    pageWidth: 1280,
    pageHeight: 800,
  });
  const build = (html: string, resources: CollectedResource[] = []) =>
    buildSnapshot({
      dom: dom(html),
      resources: new Map(resources.map((resource) => [resource.url, resource])),
      pageUrl: "https://news.example/a/story",
      resourceMaxBytes: 1_000,
      totalMaxBytes: 10_000,
    });
  const large = (url: string, contentType: string): CollectedResource => ({
    url,
    contentType,
    body: Buffer.alloc(2_000, 1),
  });

  it("puts its policy first in <head>, even when the page put content before <head>", () => {
    const { html } = build(
      '<html><div id="early">early</div><head><meta http-equiv="content-security-policy" content="img-src *"><title>t</title></head><body><p>x</p></body></html>',
    );
    const { document } = parseHTML(html);
    const first = document.documentElement.firstElementChild;
    assert.equal(first?.localName, "head");
    const policy = document.head.firstElementChild;
    assert.equal(policy?.getAttribute("http-equiv"), "Content-Security-Policy");
    assert.equal(policy?.getAttribute("content"), SNAPSHOT_CONTENT_SECURITY_POLICY);
    assert.equal(document.querySelectorAll("meta[http-equiv]").length, 1, "the page's own policy went");
    assert.match(html, /<div id="early">early<\/div>/);
  });

  it("allows only data: images, styles and fonts, and inline styles", () => {
    const directives = new Map(
      SNAPSHOT_CONTENT_SECURITY_POLICY.split(";").map((directive) => {
        const [name = "", ...sources] = directive.trim().split(/\s+/);
        return [name, sources.sort()];
      }),
    );
    assert.deepEqual(Object.fromEntries(directives), {
      "default-src": ["'none'"],
      "img-src": ["data:"],
      "style-src": ["'unsafe-inline'", "data:"],
      "font-src": ["data:"],
      "base-uri": ["'none'"],
      "form-action": ["'none'"],
    });
  });

  it("blanks what it cannot inline, in elements and in CSS, keeping each URL as provenance", () => {
    const { html, stats } = build(
      "<html><head>" +
        '<link rel="stylesheet" href="/big.css" media="screen">' +
        '<style>@import url("/missing.css") print; .a { background: url(/big.png) } .b { background: url("/small.png") }</style>' +
        "</head><body>" +
        '<video poster="/big.png"></video><input type="image" src="/missing.png">' +
        '<table background="/big.png"><tr><td style="background-image: url(\'/big.png#x\')">t</td></tr></table>' +
        '<svg><image href="/big.png"></image><use href="/sprites.svg#icon"></use><use href="#local"></use></svg>' +
        "</body></html>",
      [
        large("https://news.example/big.css", "text/css"),
        large("https://news.example/big.png", "image/png"),
        { url: "https://news.example/small.png", contentType: "image/png", body: png },
      ],
    );
    assert.match(html, /<link [^>]*data-palimpsest-href="https:\/\/news\.example\/big\.css"/);
    assert.doesNotMatch(html, /<link [^>]*\shref="https/);
    assert.match(html, /@import url\("data:text\/css,#https:\/\/news\.example\/missing\.css"\) print;/);
    assert.match(html, /\.a \{ background: url\("data:,#https:\/\/news\.example\/big\.png"\) \}/);
    assert.match(html, /\.b \{ background: url\("data:image\/png;base64,/);
    assert.match(html, /<video [^>]*data-palimpsest-poster="https:\/\/news\.example\/big\.png"/);
    assert.match(html, /<input [^>]*data-palimpsest-src="https:\/\/news\.example\/missing\.png"/);
    assert.match(html, /<table [^>]*data-palimpsest-background="https:\/\/news\.example\/big\.png"/);
    assert.match(html, /background-image: url\(&quot;data:,#https:\/\/news\.example\/big\.png#x&quot;\)/);
    assert.match(html, /<image [^>]*data-palimpsest-href="https:\/\/news\.example\/big\.png"/);
    assert.match(html, /<use [^>]*data-palimpsest-href="https:\/\/news\.example\/sprites\.svg#icon"/);
    assert.match(html, /<use href="#local">/, "in-document references stay");
    for (const attribute of ["src", "href", "poster", "background"]) {
      assert.doesNotMatch(html, new RegExp(`\\s${attribute}="https?:`), `no live ${attribute}`);
    }
    assert.deepEqual(stats, { inlined: 1, inlinedBytes: png.length, overBudget: 6, missing: 2 });
  });
});
