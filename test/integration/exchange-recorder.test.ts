/**
 * The capturer records every HTTP exchange of a capture (exchange-recorder.ts), with the real
 * browser on two fixture sites (two origins): the redirect hop, the page, its stylesheet and
 * images, a script's POST whose answer is gzipped, and a cross-origin iframe with its own image.
 * One body is larger than the recording budget left: it is kept as headers, marked truncated.
 * A third page streams its HTML slowly while its heavy images finish first: the page's own HTML is
 * still recorded whole (part of the budget is held for documents), and the image past the budget,
 * gzipped on the wire, is kept headers-only with no Content-Encoding over its empty body.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createSecureServer } from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { WARCParser } from "warcio";
import { createChromiumPageCapturer } from "../../shared/adapters/chromium/page-capturer.ts";
import { buildWarc } from "../../shared/domain/evidence/build-warc.ts";
import type { RecordedExchange } from "../../shared/domain/evidence/model.ts";
import type { PageCapture, PageCapturer } from "../../shared/ports.ts";
import { testCaptureOptions } from "../support/capture-options.ts";
import { encodeRgbPng, type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";
import { loopbackEgress, NO_DNS } from "../support/loopback-browser.ts";

/** Room for the page and its small resources, not for the large image as well. */
const BUDGET = 150_000;
const FIGURES = JSON.stringify({ crossings: 41000, note: "a".repeat(2_000) });

let site: FixtureSite;
let embed: FixtureSite;
let capturer: PageCapturer;
let capture: PageCapture;
/** An HTTP/2 site over TLS with a certificate made for the test (Chromium told to accept it). */
let secure: { origin: string; certificatePem: string; close(): Promise<void> };
let secureCapture: PageCapture;
/** The slow page: images first, its HTML last. */
let slowCapture: PageCapture;
/** Its HTML, about 40 KB: more than the budget the images leave without the documents' reserve. */
const SLOW_TAIL = `<p>${"The ferry operator published the full winter timetable for every crossing. ".repeat(520)}</p></article></body></html>`;

function exchangeFor(path: string, site: FixtureSite): RecordedExchange {
  const found = capture.traffic?.exchanges.find((e) => e.url === site.url(path));
  assert.ok(found, `an exchange for ${path}: ${capture.traffic?.exchanges.map((e) => e.url).join(", ")}`);
  return found;
}

const header = (lines: RecordedExchange["response"]["headers"], name: string) =>
  lines.find(([n]) => n.toLowerCase() === name)?.[1];

before(async () => {
  site = await startFixtureSite();
  embed = await startFixtureSite();
  site.setPage(
    "/story.html",
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Harbour bridge reopens</title>
<link rel="stylesheet" href="/styles/story.css"></head><body><article><h1>Harbour bridge reopens</h1>
<p>The harbour bridge reopened to traffic on Tuesday after eight months of repairs.</p>
<img src="/img/64x40-aa3311.png" alt="The bridge"><img src="/big.png" alt="Aerial view">
<p id="figures">Loading figures…</p>
<iframe src="${embed.url("/embed/chart.html")}" width="320" height="120"></iframe></article>
<script>new EventSource("/events");</script>
<script>fetch("/api/figures.json", { method: "POST", body: '{"fields":["crossings"]}',
  headers: { "content-type": "application/json" } }).then((r) => r.json()).then((d) => {
  document.getElementById("figures").textContent = d.crossings + " crossings a day"; });</script>
</body></html>`,
  );
  site.setPage("/styles/story.css", "h1 { color: rgb(170, 17, 0); }\n", { contentType: "text/css" });
  // Noise does not compress: 300 KB on the wire, past the budget.
  site.setPage("/big.png", encodeRgbPng(320, 240, randomBytes(320 * 240 * 3)), { contentType: "image/png" });
  site.setRoute("/api/figures.json", (req, res) => {
    req.resume();
    req.on("end", () => {
      const body = gzipSync(FIGURES);
      res.writeHead(200, {
        "content-type": "application/json",
        "content-encoding": "gzip",
        "content-length": String(body.length),
      });
      res.end(body);
    });
  });
  // A stream that stays open as long as the page does.
  site.setRoute("/events", (_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write("data: live\n\n");
  });
  embed.setPage(
    "/embed/chart.html",
    `<!doctype html><html><body><p>Crossings by month</p><img src="/img/48x24-1133aa.png" alt="bars"></body></html>`,
  );
  // Noise does not compress: two ~60 KB images, gzipped on the wire all the same. Both are, since
  // which of the two arrives second, and so is cut at the budget, is the network's choice.
  for (const name of ["/photo-1.png", "/photo-2.png"]) {
    const photo = gzipSync(encodeRgbPng(140, 140, randomBytes(140 * 140 * 3)));
    site.setRoute(name, (_req, res) => {
      res.writeHead(200, {
        "content-type": "image/png",
        "content-encoding": "gzip",
        "content-length": String(photo.length),
      });
      res.end(photo);
    });
  }
  site.setRoute("/slow-story.html", (_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.write(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Winter timetable</title></head>
<body><article><h1>Winter timetable</h1><img src="/photo-1.png" alt="Ferry"><img src="/photo-2.png" alt="Quay">`);
    // The rest of the page comes after its images have been read whole.
    setTimeout(() => res.end(SLOW_TAIL), 600);
  });
  secure = await startSecureSite();
  capturer = createChromiumPageCapturer({
    extraArgs: [NO_DNS, "--ignore-certificate-errors"],
    egress: loopbackEgress(),
    recording: { maxBytes: BUDGET },
  });
  capture = await capturer.capture(site.url("/redirect?to=/story.html"), testCaptureOptions());
  secureCapture = await capturer.capture(`${secure.origin}/news.html`, testCaptureOptions());
  slowCapture = await capturer.capture(site.url("/slow-story.html"), testCaptureOptions());
});

after(async () => {
  await capturer?.close();
  await Promise.all([site?.close(), embed?.close(), secure?.close()]);
});

/** An HTTP/2 server over TLS on 127.0.0.1, its key and certificate made now with openssl. */
async function startSecureSite(): Promise<typeof secure> {
  const dir = await mkdtemp(join(tmpdir(), "palimpsest-tls-"));
  await promisify(execFile)("openssl", [
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"],
    ...["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
    ...["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
  ]);
  const [key, cert] = await Promise.all([readFile(join(dir, "key.pem")), readFile(join(dir, "cert.pem"))]);
  await rm(dir, { recursive: true, force: true });
  const server = createSecureServer({ key, cert, allowHTTP1: true }, (req, res) => {
    if (req.url === "/news.html") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><html><head><title>Ferry timetable</title><link rel="stylesheet" href="/site.css"></head>
<body><article><h1>Ferry timetable changes</h1><p>The winter ferry timetable starts on Monday.</p></article></body></html>`);
    } else if (req.url === "/site.css") {
      res.writeHead(200, { "content-type": "text/css" });
      res.end("h1 { font-size: 2em; }\n");
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    certificatePem: cert.toString("utf8"),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("the exchange recorder", () => {
  it("records the redirect hop with its status line and headers, and no body", () => {
    const hop = exchangeFor("/redirect?to=/story.html", site);
    assert.equal(hop.response.status, 302);
    assert.equal(header(hop.response.headers, "location"), "/story.html");
    assert.equal(hop.response.body.length, 0);
    assert.equal(hop.request.method, "GET");
    assert.equal(header(hop.request.headers, "host"), new URL(site.origin).host);
  });

  it("records the page, its stylesheet and image as received, with where they came from", () => {
    const page = exchangeFor("/story.html", site);
    assert.equal(page.response.status, 200);
    assert.equal(page.response.httpVersion, "HTTP/1.1");
    assert.equal(page.response.statusText, "OK");
    assert.match(new TextDecoder().decode(page.response.body), /reopened to traffic on Tuesday/);
    assert.deepEqual(capture.raw.body, page.response.body, "the page's body is the raw response");
    assert.equal(page.remoteAddress, "127.0.0.1", "the address the egress proxy connected to");
    assert.match(header(page.request.headers, "user-agent") ?? "", /Chrome\//);
    const css = exchangeFor("/styles/story.css", site);
    assert.equal(new TextDecoder().decode(css.response.body), "h1 { color: rgb(170, 17, 0); }\n");
    const image = exchangeFor("/img/64x40-aa3311.png", site);
    assert.deepEqual(image.response.body.subarray(1, 4), new TextEncoder().encode("PNG"));
  });

  it("records a script's POST with its body, and its gzipped answer decoded with headers that say so", () => {
    const post = exchangeFor("/api/figures.json", site);
    assert.equal(post.request.method, "POST");
    assert.equal(new TextDecoder().decode(post.request.body), '{"fields":["crossings"]}');
    assert.equal(new TextDecoder().decode(post.response.body), FIGURES);
    assert.equal(header(post.response.headers, "content-encoding"), undefined);
    assert.equal(header(post.response.headers, "x-archive-orig-content-encoding"), "gzip");
    assert.equal(header(post.response.headers, "content-length"), String(FIGURES.length));
  });

  it("records the cross-origin iframe and its image", () => {
    const frame = exchangeFor("/embed/chart.html", embed);
    assert.match(new TextDecoder().decode(frame.response.body), /Crossings by month/);
    assert.ok(exchangeFor("/img/48x24-1133aa.png", embed).response.body.length > 0);
  });

  it("keeps a body past the budget as headers only, and says so", () => {
    const traffic = capture.traffic;
    assert.ok(traffic);
    const big = exchangeFor("/big.png", site);
    assert.equal(big.truncated, "length");
    assert.equal(big.response.body.length, 0);
    assert.equal(header(big.response.headers, "content-type"), "image/png");
    assert.deepEqual(
      traffic.truncated.filter((t) => t.reason === "length"),
      [{ url: site.url("/big.png"), reason: "length" }],
    );
    assert.ok(traffic.recordedBytes <= BUDGET);
  });

  it("records the page's own HTML whole when heavy images finished first and filled the budget", () => {
    const traffic = slowCapture.traffic;
    assert.ok(traffic);
    const page = traffic.exchanges.find((e) => e.url === site.url("/slow-story.html"));
    assert.ok(page);
    assert.equal(page.truncated, undefined, JSON.stringify(traffic.truncated));
    assert.match(new TextDecoder().decode(page.response.body), /full winter timetable[\s\S]*<\/html>/);
    const photos = traffic.exchanges.filter((e) => /\/photo-\d\.png$/.test(e.url));
    assert.equal(photos.length, 2);
    assert.equal(
      photos.filter((p) => p.truncated === "length").length,
      1,
      "one image past what images may take",
    );
    assert.ok(traffic.recordedBytes <= BUDGET);
  });

  it("keeps a truncated record's coding headers as X-Archive-Orig-…, its Content-Length 0, and warcio reads it", async () => {
    const traffic = slowCapture.traffic;
    assert.ok(traffic);
    const cut = traffic.exchanges.find((e) => /\/photo-\d\.png$/.test(e.url) && e.truncated === "length");
    assert.ok(cut);
    const big = exchangeFor("/big.png", site);
    assert.equal(header(big.response.headers, "content-length"), "0");
    assert.ok(Number(header(big.response.headers, "x-archive-orig-content-length")) > BUDGET);
    const warc = await buildWarc(
      {
        pageUrl: site.url("/slow-story.html"),
        capturedAt: cut.startedAt,
        createdAt: cut.startedAt,
        title: null,
        exchanges: [cut],
        resources: [],
        provenance: { hosts: [], userAgent: "", browserVersion: "", palimpsestVersion: "test", timings: {} },
      },
      "test",
    );
    let read = 0;
    for await (const record of new WARCParser([warc.bytes])) {
      if (record.warcType !== "response") continue;
      read++;
      assert.equal(record.warcHeader("WARC-Truncated"), "length");
      const http = record.httpHeaders;
      assert.ok(http);
      assert.equal(http.headers.get("content-encoding"), null, "no coding over an empty body");
      assert.equal(http.headers.get("x-archive-orig-content-encoding"), "gzip");
      assert.equal(http.headers.get("content-length"), "0");
      assert.equal((await record.readFully(true)).length, 0);
    }
    assert.equal(read, 1);
  });

  it("keeps a stream that never ends as headers, without waiting for its end", () => {
    const events = exchangeFor("/events", site);
    assert.equal(events.truncated, "unspecified");
    assert.equal(header(events.response.headers, "content-type"), "text/event-stream");
    // Bodies still arriving are waited for 1.5 s at most; a stream is not waited for at all.
    assert.ok((capture.timings.record ?? 0) < 1_200, `recording took ${capture.timings.record} ms to finish`);
  });

  it("records HTTPS over HTTP/2 as the browser negotiated it, with the host's TLS and certificate", () => {
    const traffic = secureCapture.traffic;
    assert.ok(traffic);
    const page = traffic.exchanges.find((e) => e.url === `${secure.origin}/news.html`);
    assert.ok(page, traffic.exchanges.map((e) => e.url).join(", "));
    assert.equal(page.response.httpVersion, "HTTP/2");
    assert.equal(page.request.httpVersion, "HTTP/2");
    assert.equal(page.response.statusText, "");
    assert.match(new TextDecoder().decode(page.response.body), /winter ferry timetable/);
    // No pseudo-header is a header line; the authority is the Host an archived request line needs.
    assert.ok(page.request.headers.every(([name]) => !name.startsWith(":")));
    assert.equal(header(page.request.headers, "host"), new URL(secure.origin).host);
    assert.ok(traffic.exchanges.some((e) => e.url === `${secure.origin}/site.css`));
    const [host] = traffic.hosts;
    assert.equal(host?.host, new URL(secure.origin).host);
    assert.deepEqual(host?.addresses, ["127.0.0.1"]);
    assert.match(host?.tls?.protocol ?? "", /^TLS 1\.[23]$/);
    assert.equal(host?.tls?.subjectName, "127.0.0.1");
    assert.deepEqual(
      host?.tlsCertificateChain?.map((pem) => pem.replace(/\s+/g, "")),
      [secure.certificatePem.replace(/\s+/g, "")],
      "the chain Chromium validated, leaf first",
    );
  });

  it("names both hosts with their addresses, the user agent and the browser's version", () => {
    const traffic = capture.traffic;
    assert.ok(traffic);
    const hosts = Object.fromEntries(traffic.hosts.map((h) => [h.host, h.addresses]));
    assert.deepEqual(hosts, {
      [new URL(site.origin).host]: ["127.0.0.1"],
      [new URL(embed.origin).host]: ["127.0.0.1"],
    });
    assert.match(traffic.userAgent, /^Mozilla\/5\.0 .*Chrome\/\d+/);
    assert.match(traffic.browserVersion, /^\d+\.\d+\.\d+\.\d+$/);
    // In the order they were sent: the hop before the page before its subresources.
    const urls = traffic.exchanges.map((e) => e.url);
    assert.ok(urls.indexOf(site.url("/redirect?to=/story.html")) < urls.indexOf(site.url("/story.html")));
    assert.ok(urls.indexOf(site.url("/story.html")) < urls.indexOf(site.url("/styles/story.css")));
  });
});
