/**
 * The hostile pages of issue 12, served by a fixture site: the integration test
 * (test/integration/hostile-pages.test.ts) captures them with the browser alone, `npm run redteam`
 * through a running local runner.
 */
import { createGzip } from "node:zlib";
import type { FixtureSite } from "./fixture-site.ts";

/** Each page's path on the site. */
export const HOSTILE = {
  /** A byte every 200 ms, for ever: never stalls, never ends. */
  trickle: "/trickle",
  /** Promises 100 kB, sends 60 bytes, and holds the connection open. */
  liarOpen: "/liar-open",
  /** Promises 100 kB, sends 60 bytes, and hangs up. */
  liarClose: "/liar-close",
  /** 128 MiB of spaces in about 125 kB of gzip. */
  bomb: "/bomb",
  /** JavaScript objects, allocated while the page loads: up to about 1.5 GiB. */
  eatHeap: "/eat-heap.html",
  /** ArrayBuffers (outside V8's heap), allocated while the page loads: up to about 1.5 GiB. */
  eatBuffers: "/eat-buffers.html",
} as const;

/** `/leave?to=<url>`: an HTTP redirect to anything at all (file:, chrome:, data:…). */
export function leaveTo(target: string): string {
  return `/leave?to=${encodeURIComponent(target)}`;
}

/** Serves every page of HOSTILE, and `/leave`, on `site`. Resolves with the gzip bomb's size. */
export async function serveHostilePages(site: FixtureSite): Promise<{ bombBytes: number }> {
  site.setRoute("/leave", (req, res) => {
    res.writeHead(302, { location: new URL(req.url ?? "/", site.origin).searchParams.get("to") ?? "/" });
    res.end();
  });
  site.setRoute(HOSTILE.trickle, (_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.write("<!DOCTYPE html><title>Trickle</title><h1>Trickle</h1><p>");
    const timer = setInterval(() => res.write("."), 200);
    res.on("close", () => clearInterval(timer));
  });
  site.setRoute(HOSTILE.liarOpen, (_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": "100000" });
    res.write("<!DOCTYPE html><title>Liar</title><h1>Liar</h1><p>Short.</p>");
  });
  site.setRoute(HOSTILE.liarClose, (_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": "100000" });
    res.write("<!DOCTYPE html><title>Liar</title><h1>Liar</h1><p>Short.</p>", () => res.socket?.destroy());
  });
  const bomb = await gzipOf(128, Buffer.alloc(1024 * 1024, " "));
  site.setRoute(HOSTILE.bomb, (_req, res) => {
    res.writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      "content-encoding": "gzip",
      "content-length": String(bomb.length),
    });
    res.end(bomb);
  });
  // Allocated while the page loads, so the page cannot be taken before it has eaten its fill; each
  // stops at about 1.5 GiB should nothing stop it first, and the capture then succeeds.
  // JavaScript objects: stopped by the watch, or by V8's heap limit first.
  site.setPage(
    HOSTILE.eatHeap,
    `<!DOCTYPE html><title>Heap</title><p>Loading…</p><script>
const kept = [];
for (let i = 0; i < 192; i++) kept.push(new Array(1e6).fill(i + 0.5));
</script>`,
  );
  // ArrayBuffers live outside V8's heap: only the watch over the renderer's memory stops these.
  site.setPage(
    HOSTILE.eatBuffers,
    `<!DOCTYPE html><title>Buffers</title><p>Loading…</p><script>
const kept = [];
for (let i = 0; i < 96; i++) { const b = new Uint8Array(16 * 1024 * 1024); b.fill(1); kept.push(b); }
</script>`,
  );
  return { bombBytes: bomb.length };
}

/** `chunk` repeated `times`, gzipped (streamed, so the whole never sits in memory). */
async function gzipOf(times: number, chunk: Buffer): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gzip.on("data", (data: Buffer) => out.push(data));
  const ended = new Promise((resolve) => gzip.on("end", resolve));
  for (let i = 0; i < times; i++) {
    if (!gzip.write(chunk)) await new Promise((resolve) => gzip.once("drain", resolve));
  }
  gzip.end();
  await ended;
  return Buffer.concat(out);
}
