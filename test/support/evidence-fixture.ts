/**
 * A capture's exchanges as a browser would have made them on a small news page (a redirect, the
 * page, a stylesheet, an image, a script's JSON fetch, a repeated header, an HTTP/2 response with
 * no reason phrase, a 404), and a signer over a key made for the test. Written from how real
 * pages answer, not copied from any archive.
 */
import { generateKeyPairSync, sign } from "node:crypto";
import type { EvidenceInput, RecordedExchange } from "../../shared/domain/evidence/model.ts";
import type { EvidenceSigner } from "../../shared/ports.ts";

const encoder = new TextEncoder();

/** A P-256 signer like the local runner's, on a key that lives only as long as the test. */
export function testSigner(): EvidenceSigner & { publicKeyDer: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const publicKeyDer = new Uint8Array(publicKey.export({ format: "der", type: "spki" }));
  return {
    publicKeyDer,
    publicKey: async () => publicKeyDer,
    sign: async (message) =>
      new Uint8Array(sign("sha256", message, { key: privateKey, dsaEncoding: "ieee-p1363" })),
  };
}

export const PAGE_URL = "http://news.example/2026/03/harbour-bridge";
const FINAL_URL = "https://news.example/2026/03/harbour-bridge";

function exchange(
  url: string,
  at: string,
  response: Partial<RecordedExchange["response"]> & { body: Uint8Array },
  request: Partial<RecordedExchange["request"]> = {},
): RecordedExchange {
  const target = new URL(url);
  return {
    url,
    startedAt: at,
    request: {
      method: "GET",
      httpVersion: "HTTP/1.1",
      headers: [
        ["Host", target.host],
        ["User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0.0.0 Safari/537.36"],
        ["Accept", "*/*"],
      ],
      ...request,
    },
    response: {
      httpVersion: "HTTP/1.1",
      status: 200,
      statusText: "OK",
      headers: [],
      ...response,
    },
    remoteAddress: "192.0.2.10",
  };
}

/** The page's HTML as the server sent it. */
export const PAGE_HTML = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Harbour bridge reopens</title>
<link rel="stylesheet" href="/static/site.css"></head><body><article><h1>Harbour bridge reopens</h1>
<p>The harbour bridge reopened to traffic on Tuesday after eight months of repairs.</p>
<img src="/img/bridge.png" alt="The bridge"><div id="figures"></div></article>
<script>fetch("/api/figures.json").then(r => r.json()).then(d => { document.getElementById("figures").textContent = d.crossings + " crossings a day"; });</script>
</body></html>`;

export function evidenceInput(): EvidenceInput {
  const png = Uint8Array.from([
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52,
  ]);
  return {
    pageUrl: PAGE_URL,
    capturedAt: "2026-03-03T09:40:00.120Z",
    createdAt: "2026-03-03T09:40:02.000Z",
    title: "Harbour bridge reopens",
    text: "Harbour bridge reopens\n\nThe harbour bridge reopened to traffic on Tuesday after eight months of repairs.",
    exchanges: [
      exchange(PAGE_URL, "2026-03-03T09:40:00.130Z", {
        status: 301,
        statusText: "Moved Permanently",
        headers: [
          ["Location", FINAL_URL],
          ["Content-Length", "0"],
        ],
        body: new Uint8Array(0),
      }),
      exchange(FINAL_URL, "2026-03-03T09:40:00.180Z", {
        httpVersion: "HTTP/2",
        statusText: "",
        headers: [
          ["content-type", "text/html; charset=utf-8"],
          ["set-cookie", "session=abc; Path=/; HttpOnly"],
          ["cache-control", "max-age=60"],
          ["set-cookie", "region=eu; Path=/"],
          ["last-modified", "Tue, 03 Mar 2026 08:00:00 GMT"],
        ],
        body: encoder.encode(PAGE_HTML),
      }),
      exchange("https://news.example/static/site.css", "2026-03-03T09:40:00.240Z", {
        headers: [["Content-Type", "text/css"]],
        body: encoder.encode("article { font-family: serif; max-width: 40em; }\n"),
      }),
      exchange("https://news.example/img/bridge.png", "2026-03-03T09:40:00.250Z", {
        headers: [["Content-Type", "image/png"]],
        body: png,
      }),
      exchange(
        "https://news.example/api/figures.json",
        "2026-03-03T09:40:00.300Z",
        { headers: [["Content-Type", "application/json"]], body: encoder.encode('{"crossings": 41000}') },
        {
          method: "POST",
          headers: [
            ["Host", "news.example"],
            ["Content-Type", "application/json"],
          ],
          body: encoder.encode('{"fields":["crossings"]}'),
        },
      ),
      exchange("https://news.example/favicon.ico", "2026-03-03T09:40:00.310Z", {
        status: 404,
        statusText: "Not Found",
        headers: [["Content-Type", "text/plain"]],
        body: encoder.encode("not found\n"),
      }),
    ],
    revisits: [
      {
        url: "https://news.example/static/site.css",
        startedAt: "2026-03-03T09:40:00.400Z",
        response: {
          httpVersion: "HTTP/1.1",
          status: 200,
          statusText: "OK",
          headers: [["Content-Type", "text/css"]],
        },
        payloadDigest: "sha256:0000000000000000000000000000000000000000000000000000000000000000",
        refersTo: { url: "https://news.example/static/site.css", date: "2026-03-02T09:40:00Z" },
        remoteAddress: "192.0.2.10",
      },
    ],
    resources: [
      {
        name: "snapshot",
        contentType: "text/html; charset=utf-8",
        body: encoder.encode("<!doctype html><p>snapshot</p>"),
      },
      { name: "screenshot", contentType: "image/png", body: png },
      {
        name: "article",
        contentType: "application/json",
        body: encoder.encode('{"title":"Harbour bridge reopens"}'),
      },
    ],
    provenance: {
      hosts: [
        {
          host: "news.example",
          addresses: ["192.0.2.10"],
          tlsCertificateChain: ["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"],
        },
      ],
      userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0.0.0 Safari/537.36",
      browserVersion: "140.0.7339.0",
      palimpsestVersion: "0.1.0",
      timings: { navigationMs: 310, settleMs: 120 },
      validity: { verdict: "ok", reason: "An article of 14 words." },
      extra: { captureId: "cap_test" },
    },
  };
}
