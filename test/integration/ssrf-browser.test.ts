/**
 * SSRF through the browser: a real Chromium capturing pages that try every way a page can make the
 * browser fetch something, with the egress proxy in between.
 *
 * Traffic goes to loopback only. The fixture site (127.0.0.1, allowlisted) serves the pages; canaries
 * on loopback ports that are NOT allowlisted (TCP and UDP on 127.0.0.1, TCP on 127.0.0.2 at the
 * site's port for DNS rebinding) must see nothing at all. Names resolve through a table (one of
 * them to 169.254.169.254, which is never connected to: the proxy's connector records every
 * connection and refuses anything outside 127.0.0.0/8), and the browser resolves no names itself.
 */
import assert from "node:assert/strict";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { type AddressInfo, createServer, type Server as NetServer, connect as netConnect } from "node:net";
import { after, before, describe, it } from "node:test";
import { createChromiumPageCapturer } from "../../shared/adapters/chromium/page-capturer.ts";
import { createEgressProxy } from "../../shared/adapters/egress/egress-proxy.ts";
import type { ConnectToAddress, EgressProxy } from "../../shared/adapters/egress/types.ts";
import { worthRetrying } from "../../shared/domain/capture/retry-policy.ts";
import { parseAllowedPrivateHosts } from "../../shared/domain/url.ts";
import { CaptureError } from "../../shared/errors.ts";
import type { PageCapturer } from "../../shared/ports.ts";
import { testCaptureOptions } from "../support/capture-options.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";

const OPTIONS = testCaptureOptions({
  idleTimeoutMs: 3_000,
  screenshotMaxHeight: 2_000,
  inlineTotalMaxBytes: 4_000_000,
});
const MAX_BYTES_PER_CAPTURE = 3 * 1024 * 1024;

// No DNS query may leave the machine from the browser either (with the proxy it resolves none).
const NO_DNS = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1";

interface Canary {
  port: number;
  readonly hits: number;
  close(): Promise<void>;
}

/** A TCP server that counts connections and answers nothing. */
async function startTcpCanary(address: string, port = 0): Promise<Canary> {
  let hits = 0;
  const server: NetServer = createServer((socket) => {
    hits++;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    get hits() {
      return hits;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A UDP socket that counts datagrams (WebRTC's STUN would arrive here). */
async function startUdpCanary(port: number): Promise<Canary> {
  let hits = 0;
  const socket: UdpSocket = createSocket("udp4");
  socket.on("message", () => {
    hits++;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, "127.0.0.1", () => resolve());
  });
  return {
    port,
    get hits() {
      return hits;
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

const connections: string[] = [];
const loopbackOnly: ConnectToAddress = (address, port) => {
  connections.push(`${address}:${port}`);
  if (!address.startsWith("127.")) throw new Error(`the test connector refuses ${address}`);
  return netConnect({ host: address, port });
};

const lookups: Record<string, number> = {};
async function resolveHost(host: string): Promise<string[]> {
  lookups[host] = (lookups[host] ?? 0) + 1;
  if (host === "metadata.test") return ["169.254.169.254"];
  // DNS rebinding: the allowlisted address first, a forbidden one (where a canary waits) after.
  if (host === "rebind.test") return lookups[host] === 1 ? ["127.0.0.1"] : ["127.0.0.2"];
  throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: "ENOTFOUND" });
}

let site: FixtureSite;
let sitePort: number;
let canary: Canary;
let udpCanary: Canary;
let rebindCanary: Canary;
let egress: EgressProxy;
let capturer: PageCapturer;

before(async () => {
  // The site's port must also be free on 127.0.0.2 for the rebinding canary; retry until it is.
  for (let attempt = 0; ; attempt++) {
    site = await startFixtureSite();
    sitePort = Number(new URL(site.origin).port);
    try {
      rebindCanary = await startTcpCanary("127.0.0.2", sitePort);
      break;
    } catch (err) {
      await site.close();
      if (attempt > 5) throw err;
    }
  }
  canary = await startTcpCanary("127.0.0.1");
  udpCanary = await startUdpCanary(canary.port);
  egress = createEgressProxy({
    allowedPrivateHosts: parseAllowedPrivateHosts(`127.0.0.1:${sitePort}`),
    resolveHost,
    connect: loopbackOnly,
    maxBytesPerSession: MAX_BYTES_PER_CAPTURE,
  });
  capturer = createChromiumPageCapturer({ extraArgs: [NO_DNS], egress });
});

after(async () => {
  await capturer?.close(); // closes the egress proxy too
  await site?.close();
  await Promise.all([canary?.close(), udpCanary?.close(), rebindCanary?.close()]);
});

/** Nothing reached a canary, and the proxy never even tried an address outside 127.0.0.1. */
function assertNothingEscaped(): void {
  assert.equal(canary.hits, 0, "the TCP canary saw a connection");
  assert.equal(udpCanary.hits, 0, "the UDP canary saw a datagram");
  assert.equal(rebindCanary.hits, 0, "the rebinding canary saw a connection");
  assert.deepEqual(
    connections.filter((c) => c !== `127.0.0.1:${sitePort}`),
    [],
    "the proxy connected only to the fixture site",
  );
}

async function assertBlocked(promise: Promise<unknown>, host: RegExp): Promise<CaptureError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof CaptureError, `expected a CaptureError, got ${String(err)}`);
    assert.equal(err.code, "blocked", err.message);
    assert.equal(worthRetrying(err), false);
    assert.match(err.message, host);
    return err;
  }
  assert.fail("expected the capture to be blocked");
}

describe("SSRF through the browser", () => {
  it("(a) archives a page whose every kind of embed targets the canary, and the canary sees nothing", async () => {
    const c = `127.0.0.1:${canary.port}`;
    site.setPage(
      "/embeds.html",
      `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Embeds everywhere</title>
<link rel="stylesheet" href="http://${c}/style.css">
<link rel="prefetch" href="http://${c}/prefetch">
<link rel="preload" as="image" href="http://${c}/preload.png">
<link rel="preconnect" href="http://${c}">
<link rel="dns-prefetch" href="//metadata.test">
<link rel="icon" href="http://${c}/favicon.ico">
<link rel="manifest" href="http://${c}/manifest.json">
<style>
  @import url("http://${c}/import.css");
  body { background: url("http://${c}/background.png"); }
  @font-face { font-family: Canary; src: url("http://${c}/font.woff2"); }
  h1 { font-family: Canary, serif; }
</style>
<script async src="http://${c}/script.js"></script>
</head><body>
<article><h1>Embeds everywhere</h1><p>The article text survives every blocked embed.</p></article>
<img src="http://${c}/img.png" alt="">
<img src="https://${c}/img-tls.png" alt="">
<img src="http://2130706433:${canary.port}/img-decimal.png" alt="">
<img src="http://metadata.test/latest/meta-data/" alt="">
<img src="http://[::1]:${canary.port}/img-v6.png" alt="">
<picture><source srcset="http://${c}/source.png"><img src="/img/2x2-000000.png" alt=""></picture>
<img src="/img/4x4-00ff00.png" alt="">
<iframe src="http://${c}/frame.html"></iframe>
<iframe src="/redirect?to=${encodeURIComponent(`http://${c}/frame-redirect`)}"></iframe>
<iframe srcdoc="<meta http-equiv=refresh content='0;url=http://${c}/refresh'>"></iframe>
<iframe name="sink"></iframe>
<form id="form" action="http://${c}/form" method="post" target="sink"><input name="a" value="b"></form>
<video src="http://${c}/video.mp4" autoplay muted></video>
<audio src="http://${c}/audio.mp3" autoplay muted></audio>
<object data="http://${c}/object"></object>
<script>
  fetch("http://${c}/fetch").catch(() => {});
  fetch("http://metadata.test/latest/api/token", { method: "PUT", mode: "no-cors" }).catch(() => {});
  const xhr = new XMLHttpRequest(); xhr.open("GET", "http://${c}/xhr"); xhr.send();
  try { new WebSocket("ws://${c}/ws"); } catch {}
  try { new WebSocket("wss://${c}/wss"); } catch {}
  navigator.sendBeacon("http://${c}/beacon", "x");
  new EventSource("http://${c}/events");
  new Image().src = "http://${c}/late-image.png";
  navigator.serviceWorker?.register("/sw.js").catch(() => {});
  try {
    new Worker(URL.createObjectURL(new Blob(["fetch('http://${c}/worker').catch(() => {})"])));
  } catch {}
  window.open("http://${c}/popup");
  alert("a dialog nobody answers"); confirm("still here?"); prompt("anyone?");
  document.getElementById("form").submit();
  try {
    const pc = new RTCPeerConnection({ iceServers: [
      { urls: "stun:${c}" },
      { urls: "turn:${c}?transport=tcp", username: "u", credential: "p" },
    ] });
    pc.createDataChannel("leak");
    pc.createOffer().then((offer) => pc.setLocalDescription(offer)).catch(() => {});
  } catch {}
</script>
</body></html>`,
    );
    site.setPage("/sw.js", `fetch("http://${c}/from-service-worker");`, {
      contentType: "text/javascript",
    });

    const capture = await capturer.capture(site.url("/embeds.html"), OPTIONS);

    assert.equal(capture.httpStatus, 200);
    assert.equal(capture.finalUrl, site.url("/embeds.html"));
    assert.match(capture.renderedHtml, /The article text survives every blocked embed/);
    assert.equal(site.requestCount("/img/4x4-00ff00.png"), 1, "the allowed image loaded");
    assert.equal(site.requestCount("/sw.js"), 0, "service workers are blocked");
    assertNothingEscaped();

    // The proxy saw (and refused) each kind of request.
    const refused = egress.recentBlocks.map((b) => (b.kind === "connect" ? `CONNECT ${b.target}` : b.target));
    for (const path of [
      "/style.css",
      "/import.css",
      "/img.png",
      "/img-decimal.png",
      "/frame.html",
      "/frame-redirect",
      "/refresh",
      "/form",
      "/fetch",
      "/xhr",
      "/beacon",
      "/events",
      "/late-image.png",
      "/source.png",
    ]) {
      assert.ok(
        refused.includes(`http://${c}${path}`),
        `${path} was refused (refused: ${refused.join(", ")})`,
      );
    }
    assert.ok(refused.includes(`CONNECT ${c}`), "https and wss went through CONNECT and were refused");
    assert.ok(refused.includes("http://metadata.test/latest/meta-data/"));
    assert.ok(refused.includes(`http://[::1]:${canary.port}/img-v6.png`));
    assert.equal(lookups["metadata.test"], 1, "one lookup per capture, then refused");
  });

  it("(b) fails a capture that redirects to the canary with `blocked`, at any hop, over http or https", async () => {
    const c = `127.0.0.1:${canary.port}`;
    site.setRoute("/to-canary", (_req, res) => {
      res.writeHead(302, { location: `http://${c}/landing` });
      res.end();
    });
    await assertBlocked(capturer.capture(site.url("/to-canary"), OPTIONS), /127\.0\.0\.1/);
    const twoHops = `/redirect?to=${encodeURIComponent(`/redirect?to=${encodeURIComponent(`https://${c}/tls`)}`)}`;
    await assertBlocked(capturer.capture(site.url(twoHops), OPTIONS), /127\.0\.0\.1/);
    const toMetadata = `/redirect?to=${encodeURIComponent("http://metadata.test/latest/meta-data/")}`;
    await assertBlocked(capturer.capture(site.url(toMetadata), OPTIONS), /metadata\.test/);
    const toLowPort = `/redirect?to=${encodeURIComponent("http://127.0.0.1:22/")}`;
    // Chromium refuses port 22 itself (ERR_UNSAFE_PORT) before the proxy would: blocked either way.
    await assertBlocked(capturer.capture(site.url(toLowPort), OPTIONS), /127\.0\.0\.1/);
    assertNothingEscaped();
  });

  it("(c) fails a capture whose script navigates to the canary with `blocked`", async () => {
    const c = `127.0.0.1:${canary.port}`;
    site.setPage(
      "/js-redirect.html",
      `<!DOCTYPE html><title>Moving</title><p>Moving on…</p><script>location.href = "http://${c}/js";</script>`,
    );
    await assertBlocked(capturer.capture(site.url("/js-redirect.html"), OPTIONS), /127\.0\.0\.1/);
    site.setPage(
      "/js-redirect-tls.html",
      `<!DOCTYPE html><title>Moving</title><p>Moving on…</p><script>setTimeout(() => location.replace("https://${c}/js"), 50);</script>`,
    );
    await assertBlocked(capturer.capture(site.url("/js-redirect-tls.html"), OPTIONS), /127\.0\.0\.1/);
    assertNothingEscaped();
  });

  it("(d) refuses a name that resolves to the metadata address, and forbidden URLs given directly, before connecting", async () => {
    const before = connections.length;
    await assertBlocked(
      capturer.capture("http://metadata.test/latest/meta-data/", OPTIONS),
      /metadata\.test/,
    );
    await assertBlocked(capturer.capture("https://metadata.test/", OPTIONS), /metadata\.test/);
    await assertBlocked(capturer.capture(`http://127.0.0.1:${canary.port}/`, OPTIONS), /127\.0\.0\.1/);
    await assertBlocked(capturer.capture("http://169.254.169.254/latest/meta-data/", OPTIONS), /169\.254/);
    assert.equal(connections.length, before, "no connection was even attempted");
    const metadataBlocks = egress.recentBlocks.filter((b) => b.host === "metadata.test");
    assert.ok(metadataBlocks.some((b) => b.kind === "http" && b.code === "private_address"));
    assert.ok(metadataBlocks.some((b) => b.kind === "connect" && b.target === "metadata.test:443"));
    assertNothingEscaped();
  });

  it("(e) uses its single validated resolution when the name rebinds (DNS rebinding)", async () => {
    site.setPage(
      "/rebind.html",
      `<!DOCTYPE html><title>Rebinding</title><article><h1>Rebinding</h1><p>Same host, many requests.</p></article>
<img src="/img/8x8-ff0000.png" alt=""><img src="/img/8x8-0000ff.png" alt="">
<script>fetch("/api/story.json").catch(() => {});</script>`,
    );
    const url = `http://rebind.test:${sitePort}/rebind.html`;
    const capture = await capturer.capture(url, OPTIONS);
    assert.equal(capture.httpStatus, 200);
    assert.match(capture.renderedHtml, /Same host, many requests/);
    assert.equal(site.requestCount("/img/8x8-ff0000.png"), 1);
    assert.equal(site.requestCount("/img/8x8-0000ff.png"), 1);
    assert.equal(lookups["rebind.test"], 1, "one lookup served the whole capture");

    // The next capture asks again, gets the forbidden answer, and is refused.
    await assertBlocked(capturer.capture(url, OPTIONS), /rebind\.test/);
    assert.equal(lookups["rebind.test"], 2);
    assert.equal(site.requestCount("/rebind.html"), 1);
    assertNothingEscaped();
  });

  it("fails a capture that goes over its byte budget with `too_large`", async () => {
    site.setPage("/heavy.bin", new Uint8Array(MAX_BYTES_PER_CAPTURE + 512 * 1024), {
      contentType: "application/octet-stream",
    });
    site.setPage(
      "/heavy.html",
      `<!DOCTYPE html><title>Heavy</title><p>Heavy</p><script>fetch("/heavy.bin").then((r) => r.arrayBuffer()).catch(() => {});</script>`,
    );
    try {
      await capturer.capture(site.url("/heavy.html"), OPTIONS);
      assert.fail("expected too_large");
    } catch (err) {
      assert.ok(err instanceof CaptureError, String(err));
      assert.equal(err.code, "too_large", err.message);
    }
    // The next capture has a budget of its own.
    const next = await capturer.capture(site.url("/static-article.html"), OPTIONS);
    assert.equal(next.httpStatus, 200);
    assertNothingEscaped();
  });
});
