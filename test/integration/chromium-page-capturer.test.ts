/**
 * The Chromium capturer against the fixture site on 127.0.0.1, with the real browser.
 *
 * No request leaves the machine: the capture browser resolves no host names at all
 * (`--host-resolver-rules`), and snapshots are opened in a browser that aborts every request.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { resolveBundledChromium } from "../../shared/adapters/chromium/browser-launch.ts";
import { handToCapture } from "../../shared/adapters/chromium/fresh-context.ts";
import { createChromiumPageCapturer } from "../../shared/adapters/chromium/page-capturer.ts";
import { buildSnapshot } from "../../shared/adapters/snapshot/build-snapshot.ts";
import type { SerializedDocument } from "../../shared/adapters/snapshot/types.ts";
import { worthRetrying } from "../../shared/domain/capture/retry-policy.ts";
import { CaptureError } from "../../shared/errors.ts";
import type { PageCapturer } from "../../shared/ports.ts";
import { testCaptureOptions } from "../support/capture-options.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";
import { launchViewer, loopbackEgress, NO_DNS } from "../support/loopback-browser.ts";

const OPTIONS = testCaptureOptions({ idleTimeoutMs: 4_000, inlineTotalMaxBytes: 8_000_000 });

// Find (or unpack) the bundled browser in the shared temp directory first, then point TMPDIR at a
// private one: everything the browser and Playwright write there is then ours, and its growth can
// be measured exactly even while other test files run.
const executablePath = await resolveBundledChromium();
// The viewer that opens snapshots is not under test: it keeps its profile in the shared temp dir.
const viewer: Browser = await launchViewer();
const sharedTmp = process.env.TMPDIR;
const privateTmp = mkdtempSync(join(tmpdir(), "palimpsest-capturer-test-"));
process.env.TMPDIR = privateTmp;

let site: FixtureSite;
let capturer: PageCapturer;

before(async () => {
  site = await startFixtureSite();
  // No executablePath: exercises the memoised default (already resolved above).
  capturer = createChromiumPageCapturer({ extraArgs: [NO_DNS], egress: loopbackEgress() });
});

after(async () => {
  await capturer?.close();
  await viewer.close();
  await site?.close();
  if (sharedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = sharedTmp;
  rmSync(privateTmp, { recursive: true, force: true });
});

describe("ChromiumPageCapturer", () => {
  it("captures a static article with every output populated", async () => {
    const capture = await capturer.capture(site.url("/static-article.html"), OPTIONS);

    assert.equal(capture.finalUrl, site.url("/static-article.html"));
    assert.equal(capture.httpStatus, 200);
    assert.deepEqual(
      Buffer.from(capture.raw.body),
      readFileSync(new URL("../fixtures/site/static-article.html", import.meta.url)),
    );
    assert.equal(capture.raw.contentType, "text/html; charset=utf-8");
    assert.match(capture.renderedHtml, /^<!DOCTYPE html>/);
    assert.match(capture.renderedHtml, /Harbour council approves new sea wall/);
    assert.match(
      capture.renderedHtml,
      /<script type="application\/ld\+json">/,
      "scripts stay in renderedHtml",
    );
    assert.doesNotMatch(capture.renderedHtml, /data-palimpsest-/, "no capture marks leak");
    assert.deepEqual([...capture.screenshot.body.subarray(0, 3)], [0xff, 0xd8, 0xff], "a JPEG");
    assert.equal(capture.screenshot.contentType, "image/jpeg");
    assert.equal(capture.freshContext, true, "loaded in a context no capture had before");
    for (const phase of [
      "launch",
      "context",
      "navigate",
      "settle",
      "serialize",
      "snapshot",
      "screenshot",
      "total",
    ]) {
      assert.equal(typeof capture.timings[phase], "number", phase);
    }

    const snapshot = capture.snapshotHtml;
    assert.doesNotMatch(snapshot, /<script/i);
    assert.doesNotMatch(snapshot, /<noscript/i);
    assert.doesNotMatch(snapshot, /\son[a-z]+\s*=/i, "no inline event handlers");
    assert.doesNotMatch(snapshot, /javascript:/i);
    assert.doesNotMatch(snapshot, /<base[\s>]/i);
    assert.doesNotMatch(snapshot, /http-equiv="refresh"/i);
    assert.doesNotMatch(snapshot, /rel="preload"/i);
    assert.doesNotMatch(snapshot, /<iframe[^>]*\ssrc=/i, "iframes load nothing");
    assert.match(snapshot, /<meta charset="utf-8">/);
    assert.match(snapshot, /name="palimpsest:original-url"/);
    assert.match(snapshot, /<img id="lead-image" src="data:image\/png;base64,/);
    assert.doesNotMatch(snapshot, /srcset=/);
    assert.match(snapshot, /color: rgb\(128, 0, 32\)/, "stylesheet inlined");
    assert.match(snapshot, /@import url\("data:text\/css/, "@import inlined");
    assert.match(snapshot, /src: url\("data:font\/woff2;base64,/, "web font inlined");
    assert.match(snapshot, /href="http:\/\/127\.0\.0\.1:\d+\/"/, "links made absolute");
  });

  it("produces a snapshot that renders with no network at all", async () => {
    const capture = await capturer.capture(site.url("/static-article.html"), OPTIONS);
    const { attempted, result } = await openOffline(capture.snapshotHtml, () => {
      const image = document.getElementById("lead-image") as HTMLImageElement;
      const style = (selector: string) => getComputedStyle(document.querySelector(selector) as Element);
      return {
        imageWidth: image.naturalWidth,
        headlineColour: style(".headline").color,
        bodyBackground: style("body").backgroundColor, // from the @import-ed sheet
        mastheadImage: style(".masthead").backgroundImage,
        scriptRan: "fixtureInlineScriptRan" in window,
      };
    });
    assert.deepEqual(attempted, []);
    assert.equal(result.imageWidth, 640, "the displayed srcset candidate is kept");
    assert.equal(result.headlineColour, "rgb(128, 0, 32)");
    assert.equal(result.bodyBackground, "rgb(250, 248, 240)");
    assert.match(result.mastheadImage, /^url\("data:image\/png;base64,/);
    assert.equal(result.scriptRan, false);
  });

  it("captures an article that scripts render after load", async () => {
    const capture = await capturer.capture(site.url("/script-article.html"), OPTIONS);
    assert.match(capture.renderedHtml, /SCRIPT-RENDERED-MARKER/);
    assert.match(capture.snapshotHtml, /SCRIPT-RENDERED-MARKER/);
    assert.match(capture.snapshotHtml, /<img src="data:image\/png;base64,[^"]+" alt="Rail depot">/);
    assert.deepEqual((await openOffline(capture.snapshotHtml)).attempted, []);
  });

  it("scrolls until lazy content, including content that grows the page, has loaded", async () => {
    const capture = await capturer.capture(site.url("/lazy-article.html"), OPTIONS);
    for (const html of [capture.renderedHtml, capture.snapshotHtml]) {
      assert.match(html, /LAST-PARAGRAPH-MARKER/);
    }
    assert.match(capture.snapshotHtml, /<img id="lazy-native" src="data:image\/png;base64,/);
    assert.match(capture.snapshotHtml, /<img id="lazy-scripted"[^>]* src="data:image\/png;base64,/);
    const { attempted, result } = await openOffline(capture.snapshotHtml, () =>
      Array.from(document.images, (image) => image.naturalWidth),
    );
    assert.deepEqual(attempted, []);
    assert.deepEqual(result, [400, 300]);
  });

  it("scrolls only a page where something watches scrolling, including a watcher added late", async () => {
    // A timer, which is no scroll watcher, notes how far down the page has been (attributes are
    // not DOM activity, so it does not hold up the idle wait either).
    const scrollMeter =
      "setInterval(() => { const y = Math.max(Number(document.body.dataset.maxScroll || 0), Math.round(scrollY)); document.body.dataset.maxScroll = y; }, 5);";
    const long = `<p>${"Paragraph of a long article. ".repeat(40)}</p>`.repeat(60);
    site.setPage(
      "/long-static.html",
      `<!DOCTYPE html><title>Long</title><body data-max-scroll="0"><article><h1>Long</h1>${long}</article><script>${scrollMeter}</script></body>`,
    );
    // Renders its body after a fetch, then loads its last part on scroll events (no observer).
    site.setPage(
      "/late-scroll-listener.html",
      `<!DOCTYPE html><title>Late</title><body data-max-scroll="0"><article id="a"><h1>Late</h1></article><script>${scrollMeter}
        fetch("/api/story.json").then((r) => r.json()).then(() => {
          document.getElementById("a").insertAdjacentHTML("beforeend", ${JSON.stringify(long)});
          const onScroll = () => {
            if (scrollY + innerHeight < document.body.scrollHeight - 50) return;
            removeEventListener("scroll", onScroll);
            const p = document.createElement("p");
            p.textContent = "SCROLL-LISTENER-MARKER";
            document.getElementById("a").append(p);
          };
          addEventListener("scroll", onScroll);
        });
      </script></body>`,
    );
    const maxScroll = (html: string) => Number(/data-max-scroll="(\d+)"/.exec(html)?.[1]);

    const still = await capturer.capture(site.url("/long-static.html"), OPTIONS);
    assert.equal(maxScroll(still.renderedHtml), 0, "a page nothing watches is not scrolled through");

    const late = await capturer.capture(site.url("/late-scroll-listener.html"), OPTIONS);
    assert.match(late.renderedHtml, /SCROLL-LISTENER-MARKER/);
    assert.ok(maxScroll(late.renderedHtml) > 0);
    assert.match(late.snapshotHtml, /SCROLL-LISTENER-MARKER/);
  });

  it("takes a page again when it changed while it was being taken", async () => {
    // The full-page screenshot resizes the viewport; this page answers the first resize by adding a
    // paragraph, inside the quiet window that the capture checks after taking the page.
    site.setPage(
      "/changes-while-taken.html",
      `<!DOCTYPE html><title>Changes</title><body><h1>Changes</h1><p>${"Long text. ".repeat(3000)}</p><script>
        let resized = false;
        addEventListener("resize", () => {
          if (resized) return;
          resized = true;
          const p = document.createElement("p");
          p.textContent = "ADDED-WHILE-TAKEN";
          document.body.append(p);
        });
      </script></body>`,
    );
    const capture = await capturer.capture(site.url("/changes-while-taken.html"), OPTIONS);
    assert.equal(capture.timings.retaken, 1);
    for (const html of [capture.renderedHtml, capture.snapshotHtml]) {
      assert.match(html, /<p>ADDED-WHILE-TAKEN<\/p>/, "the second take has the change");
    }
  });

  it("accepts or removes cookie banners without following links", async () => {
    const capture = await capturer.capture(site.url("/consent-article.html"), OPTIONS);
    assert.match(capture.renderedHtml, /data-consent="accepted"/, "the Accept button was clicked");
    assert.doesNotMatch(capture.snapshotHtml, /id="cookie-consent"|id="gdpr-notice"/);
    assert.match(capture.snapshotHtml, /CONSENT-ARTICLE-MARKER/);
    assert.equal(site.requestCount("/privacy-policy.html"), 0, "the OK link was not followed");
    assert.deepEqual((await openOffline(capture.snapshotHtml)).attempted, []);

    // The banners were magenta (full screen) and green (bottom bar): neither may be in the screenshot.
    const page = await viewer.newPage();
    try {
      const dataUrl = `data:image/jpeg;base64,${Buffer.from(capture.screenshot.body).toString("base64")}`;
      const pixels = await page.evaluate(async (src) => {
        const image = new Image();
        image.src = src;
        await image.decode();
        const canvas = document.createElement("canvas");
        canvas.width = image.width;
        canvas.height = image.height;
        const g = canvas.getContext("2d") as CanvasRenderingContext2D;
        g.drawImage(image, 0, 0);
        const at = (x: number, y: number) => Array.from(g.getImageData(x, y, 1, 1).data.slice(0, 3));
        return {
          size: [image.width, image.height],
          centre: at(640, 400),
          bottom: at(640, image.height - 20),
        };
      }, dataUrl);
      assert.equal(pixels.size[0], 1280);
      const isNear = (pixel: number[], rgb: number[]) =>
        pixel.every((v, i) => Math.abs(v - (rgb[i] ?? 0)) < 40);
      assert.ok(
        !isNear(pixels.centre, [255, 0, 255]),
        `centre pixel ${pixels.centre} is the consent overlay`,
      );
      assert.ok(!isNear(pixels.bottom, [0, 255, 0]), `bottom pixel ${pixels.bottom} is the GDPR bar`);
    } finally {
      await page.close();
    }
  });

  it("keeps the screenshot within screenshotMaxHeight", async () => {
    const capture = await capturer.capture(site.url("/lazy-article.html"), {
      ...OPTIONS,
      screenshotMaxHeight: 1_000,
    });
    const page = await viewer.newPage();
    try {
      const dataUrl = `data:image/jpeg;base64,${Buffer.from(capture.screenshot.body).toString("base64")}`;
      const size = await page.evaluate(async (src) => {
        const image = new Image();
        image.src = src;
        await image.decode();
        return [image.width, image.height];
      }, dataUrl);
      assert.deepEqual(size, [1280, 1_000]);
    } finally {
      await page.close();
    }
  });

  it("takes a page that says the article is gone, as evidence, and reports it as http_error", async () => {
    site.setPage(
      "/withdrawn.html",
      "<!DOCTYPE html><title>Gone</title><h1>This article has been withdrawn</h1>",
      {
        status: 410,
      },
    );
    for (const [path, status, text] of [
      ["/not-found", 404, /Not found/],
      ["/withdrawn.html", 410, /This article has been withdrawn/],
    ] as const) {
      const err = await capturer.capture(site.url(path), OPTIONS).then(
        () => assert.fail(`${path} was captured as if it were there`),
        (e: unknown) => e,
      );
      assert.ok(err instanceof CaptureError && err.code === "http_error", String(err));
      assert.equal(err.httpStatus, status);
      assert.equal(worthRetrying(err), false);
      const evidence = err.evidence;
      assert.ok(evidence, "the page is taken");
      assert.equal(evidence.httpStatus, status);
      assert.equal(evidence.freshContext, true, "the evidence says how it was loaded");
      assert.match(evidence.snapshotHtml, text);
      assert.match(new TextDecoder().decode(evidence.raw.body), text);
      assert.ok(evidence.screenshot.body.byteLength > 1_000);
    }
  });

  it("captures the live page that a 'not found' page sends the reader on to", async () => {
    site.setPage(
      "/moved-by-script.html",
      "<!DOCTYPE html><title>Moved</title><p>Moved.</p><script>location.replace('/static-article.html')</script>",
      { status: 404 },
    );
    const capture = await capturer.capture(site.url("/moved-by-script.html"), OPTIONS);
    assert.equal(capture.httpStatus, 200);
    assert.equal(capture.finalUrl, site.url("/static-article.html"));
  });

  it("reports HTTP errors, timeouts, refused connections, DNS failures and non-HTML content", async () => {
    await assertCaptureError(capturer.capture(site.url("/not-found"), OPTIONS), "http_error", /404/);

    const started = performance.now();
    await assertCaptureError(
      capturer.capture(site.url("/hang"), { ...OPTIONS, navigationTimeoutMs: 1_500 }),
      "timeout",
      /1500 ms/,
    );
    assert.ok(performance.now() - started < 4_000, "the timeout respects navigationTimeoutMs");

    await assertCaptureError(
      capturer.capture(`http://127.0.0.1:${await closedPort()}/story`, OPTIONS),
      "connection_failed",
    );
    await assertCaptureError(
      capturer.capture("http://news.palimpsest-fixture.invalid/story", OPTIONS),
      "dns_failure",
      /news\.palimpsest-fixture\.invalid/,
    );
    await assertCaptureError(
      capturer.capture(site.url("/document.pdf"), OPTIONS),
      "unsupported_content",
      /pdf/,
    );
  });

  it("calls a context fresh only the first time it is handed to a capture", async () => {
    const context = await viewer.newContext();
    try {
      assert.equal(handToCapture(context), true);
      assert.equal(handToCapture(context), false, "a context a capture had is not fresh again");
    } finally {
      await context.close();
    }
  });

  it("reuses one browser for many captures without growing the temp directory", async () => {
    await capturer.capture(site.url("/static-article.html"), OPTIONS);
    const pid = browserPids();
    const before = tmpUsage();
    const durations: number[] = [];
    for (let i = 0; i < 15; i++) {
      const capture = await capturer.capture(site.url("/static-article.html"), OPTIONS);
      assert.equal(capture.httpStatus, 200);
      assert.equal(capture.timings.launch, 0, "no relaunch");
      // Warm captures take the spare context prepared after the previous one: never used twice.
      assert.equal(capture.freshContext, true, "a fresh context for every capture");
      durations.push(capture.timings.total ?? 0);
    }
    assert.deepEqual(browserPids(), pid, "the same browser process served every capture");
    const afterwards = tmpUsage();
    assert.deepEqual(afterwards.topLevel, before.topLevel, "no new entries in the temp directory");
    const added = afterwards.files.filter((file) => !before.files.some((known) => known.path === file.path));
    // Chromium keeps shared memory in temp files: one in use (not empty yet) or left behind empty;
    // the capturer deletes leftovers once they are a few seconds old, so only the latest few show.
    const sharedMemory = (file: { path: string; size: number }) =>
      /\/\.org\.chromium\.Chromium\.[^/]+$/.test(file.path);
    assert.deepEqual(
      added.filter((file) => !sharedMemory(file)),
      [],
      "no new files in the temp directory",
    );
    assert.ok(added.length <= 3, `${added.length} Chromium shared-memory files: ${JSON.stringify(added)}`);
    assert.ok(
      afterwards.bytes - before.bytes < 1_000_000,
      `temp grew by ${afterwards.bytes - before.bytes} bytes`,
    );
    durations.sort((a, b) => a - b);
    console.log(`static capture, warm: median ${durations[7]} ms, max ${durations[14]} ms`);
  });

  it("fails a capture the browser crashes in with browser_crash, then relaunches", async () => {
    await capturer.capture(site.url("/static-article.html"), OPTIONS); // make sure a browser runs
    const [pid] = browserPids();
    assert.ok(pid, "a browser process is running");
    site.setRoute("/crash-me.html", () => {
      process.kill(pid, "SIGKILL"); // mid-navigation; the request is never answered
    });

    const error = await assertCaptureError(
      capturer.capture(site.url("/crash-me.html"), OPTIONS),
      "browser_crash",
    );
    assert.equal(worthRetrying(error), true);

    const next = await capturer.capture(site.url("/static-article.html"), OPTIONS);
    assert.equal(next.httpStatus, 200);
    assert.ok((next.timings.launch ?? 0) > 0, "the next capture relaunched the browser");
    const [relaunched] = browserPids();
    assert.ok(relaunched && relaunched !== pid);
    site.clearRoute("/crash-me.html");
  });

  it("fails a capture whose renderer crashes with browser_crash, keeping the browser", async () => {
    await capturer.capture(site.url("/static-article.html"), OPTIONS); // make sure a browser runs
    const browsers = browserPids();
    // The page is committed (in its renderer) by the time its script asks for the trigger.
    site.setPage("/crash-renderer.html", '<p>x</p><script>fetch("/crash-renderer-now")</script>');
    site.setRoute("/crash-renderer-now", () => {
      for (const pid of childPids(browsers, "--type=renderer")) process.kill(pid, "SIGKILL");
    });

    const error = await assertCaptureError(
      capturer.capture(site.url("/crash-renderer.html"), OPTIONS),
      "browser_crash",
    );
    assert.equal(worthRetrying(error), true);

    const next = await capturer.capture(site.url("/static-article.html"), OPTIONS);
    assert.equal(next.httpStatus, 200);
    assert.equal(next.timings.launch, 0, "the browser itself survived");
    assert.deepEqual(browserPids(), browsers);
    site.clearRoute("/crash-renderer.html");
    site.clearRoute("/crash-renderer-now");
  });

  it("leaves no browser process and nothing in the temp directory after close()", async () => {
    const existingBrowsers = browserPids();
    const existingTmp = tmpUsage().topLevel;
    const own = createChromiumPageCapturer({ executablePath, extraArgs: [NO_DNS], egress: loopbackEgress() });
    await own.capture(site.url("/static-article.html"), OPTIONS);
    const [ownPid, ...others] = browserPids().filter((pid) => !existingBrowsers.includes(pid));
    assert.ok(ownPid && others.length === 0, "the capturer runs one browser");
    assert.ok(tmpUsage().topLevel.length > existingTmp.length, "it keeps files in the temp directory");

    await own.close();

    assert.deepEqual(browserPids(), existingBrowsers);
    assert.deepEqual(tmpUsage().topLevel, existingTmp);
  });
});

describe("buildSnapshot", () => {
  const mark = "data-palimpsest-test";
  const dom = (html: string, baseUrl = "https://news.example/a/story"): SerializedDocument => ({
    html,
    doctype: { name: "html", publicId: "", systemId: "" },
    baseUrl,
    markAttribute: mark,
    marks: [],
    adoptedCss: "",
    pageWidth: 1280,
    pageHeight: 800,
  });
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const build = (html: string, resources = new Map(), baseUrl = "https://news.example/a/story") =>
    buildSnapshot({
      dom: dom(html, baseUrl),
      resources,
      pageUrl: "https://news.example/a/story",
      capturedAt: "2026-03-02T10:00:00.000Z",
      resourceMaxBytes: 1_000,
      totalMaxBytes: 10_000,
    });

  it("keeps escaped markup escaped (a title cannot smuggle in a script)", () => {
    const { html } = build(
      "<html><head><title>&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title></head>" +
        '<body><p title="&amp;copy; &quot;x&quot;">&amp;lt;b&amp;gt;</p></body></html>',
    );
    assert.doesNotMatch(html, /<script/);
    assert.match(html, /<title>&lt;\/title&gt;&lt;script&gt;/);
    assert.match(html, /title="&amp;copy; &quot;x&quot;"/);
    assert.match(html, /&amp;lt;b&amp;gt;/);
  });

  it("cannot be broken out of by a stylesheet containing </style>", () => {
    const css = {
      url: "https://news.example/s.css",
      contentType: "text/css",
      body: Buffer.from('a::after{content:"</style><script>x()</script>"}'),
    };
    const { html } = build(
      '<html><head><link rel="stylesheet" href="/s.css"></head><body></body></html>',
      new Map([[css.url, css]]),
    );
    assert.doesNotMatch(html, /<\/style><script>/);
    assert.match(html, /<\\\/style>/);
  });

  it("keeps the text of an SVG <style> escaped, as the HTML parser reads it as markup", () => {
    // As Chromium serialises it: inside <svg>, style text is escaped like any other text.
    const { html } = build(
      '<html><head></head><body><svg><style>g &gt; rect { fill: red } a::after { content: "&lt;img src=x onerror=alert(1)&gt;" }</style></svg></body></html>',
    );
    assert.match(html, /<svg><style>g &gt; rect \{ fill: red \}/);
    assert.doesNotMatch(html, /<img/);
  });

  it("resolves URLs against <base> and leaves over-budget and missing resources blank, their URLs kept", () => {
    const small = { url: "https://cdn.example/img/small.png", contentType: "image/png", body: png };
    const large = {
      url: "https://cdn.example/img/large.png",
      contentType: "image/png",
      body: Buffer.alloc(2_000, 1),
    };
    const { html, stats } = build(
      '<html><head><base href="https://cdn.example/img/"></head><body>' +
        '<img id="a" src="small.png"><img id="b" src="large.png"><img id="c" src="missing.png">' +
        '<a href="../page">p</a><svg><use href="#icon"></use></svg></body></html>',
      new Map([
        [small.url, small],
        [large.url, large],
      ]),
      "https://cdn.example/img/", // document.baseURI, as the browser reports it with that <base>
    );
    assert.doesNotMatch(html, /<base/);
    assert.match(html, /<img id="a" src="data:image\/png;base64,/);
    // Neither may fetch when the snapshot is opened: the URL stays as provenance only.
    assert.match(html, /<img data-palimpsest-src="https:\/\/cdn\.example\/img\/large\.png" id="b">/);
    assert.match(html, /<img data-palimpsest-src="https:\/\/cdn\.example\/img\/missing\.png" id="c">/);
    assert.match(html, /href="https:\/\/cdn\.example\/page"/);
    assert.match(html, /<use href="#icon">/, "in-document references stay relative");
    assert.deepEqual(stats, { inlined: 1, inlinedBytes: png.length, overBudget: 1, missing: 1 });
  });

  it("drops everything that runs code", () => {
    const { html } = build(
      '<html><head><script>x()</script></head><body onload="x()">' +
        '<template><script>y()</script><b onclick="y()">t</b></template>' +
        '<a href=" jav&#x09;ascript:alert(1)">j</a><form action="javascript:x()"></form>' +
        '<svg><set attributeName="href" to="javascript:alert(1)"></set><a xlink:href="javascript:x()">s</a></svg>' +
        '<iframe src="https://ads.example/" srcdoc="<script>x()</script>"></iframe>' +
        '<object data="https://news.example/x.swf"></object></body></html>',
    );
    assert.doesNotMatch(html, /<script|onload|onclick|javascript:|srcdoc|<set/i);
    assert.match(html, /<iframe sandbox="" data-palimpsest-src="https:\/\/ads\.example\/">/);
  });
});

// ---------------------------------------------------------------------------------------------

/**
 * Opens a snapshot in a fresh context of the viewer browser where every request is aborted, runs
 * `inspect` in it and reports which (non-data:) URLs the page tried to fetch.
 */
async function openOffline<T = undefined>(
  html: string,
  inspect?: () => T,
): Promise<{ attempted: string[]; result: T }> {
  const context = await viewer.newContext();
  const attempted: string[] = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (!url.startsWith("data:")) attempted.push(url);
    return route.abort();
  });
  try {
    const page = await context.newPage();
    await page.setContent(html, { waitUntil: "load" });
    const result = (inspect ? await page.evaluate(inspect) : undefined) as T;
    return { attempted, result };
  } finally {
    await context.close();
  }
}

async function assertCaptureError(
  promise: Promise<unknown>,
  code: string,
  message?: RegExp,
): Promise<CaptureError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof CaptureError, `expected a CaptureError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    assert.doesNotMatch(err.message, /\n\s+at /, "no stack trace in the message");
    return err;
  }
  assert.fail(`expected ${code}`);
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  assert.ok(address && typeof address === "object");
  return address.port;
}

/**
 * Pids of the capture browsers this test process started (renderers are their children): the
 * viewer's profile lives outside the private temp directory.
 */
function browserPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (parent !== process.pid) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.includes("--remote-debugging-pipe")) pids.push(Number(entry));
    } catch {
      // the process exited while we looked
    }
  }
  return pids.filter((pid) => userDataDir(pid)?.startsWith(privateTmp)).sort((a, b) => a - b);
}

/** Pids of the children of `parents` whose command line contains `marker`. */
function childPids(parents: number[], marker: string): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        return parents.includes(parent) && readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function userDataDir(pid: number): string | undefined {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return args.find((arg) => arg.startsWith("--user-data-dir="))?.slice("--user-data-dir=".length);
  } catch {
    return undefined;
  }
}

/** What the private temp directory holds: its entries, and every file below it with its size. */
function tmpUsage(): { topLevel: string[]; files: Array<{ path: string; size: number }>; bytes: number } {
  const files: Array<{ path: string; size: number }> = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      try {
        if (entry.isDirectory()) walk(path);
        else files.push({ path: path.slice(privateTmp.length), size: statSync(path).size });
      } catch {
        // removed while we looked
      }
    }
  };
  walk(privateTmp);
  return {
    topLevel: readdirSync(privateTmp).sort(),
    files,
    bytes: files.reduce((sum, file) => sum + file.size, 0),
  };
}
