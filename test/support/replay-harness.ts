/**
 * Offline replay of a WACZ in ReplayWeb.page, for tests: a loopback server that serves a page
 * embedding `<replay-web-page>`, ReplayWeb.page's own `ui.js` and `sw.js` from node_modules (no
 * CDN) and the package itself (with ranges, as WACZ readers ask), and helpers to find the frames
 * ReplayWeb.page replays a URL in. Anything else asked of the server is noted in `strays`.
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Frame, Page } from "playwright-core";

const REPLAY_ASSETS = join(import.meta.dirname, "../../node_modules/replaywebpage");

export interface ReplayServer {
  /** `http://127.0.0.1:<port>`: open `${origin}/` to replay `pageUrl` from the package. */
  origin: string;
  /** Requests the server had no answer for. */
  strays: string[];
  close(): Promise<void>;
}

/** Serves the replay page for `pageUrl`, ReplayWeb.page's two files and `wacz` at `/capture.wacz`. */
export async function startReplayServer(wacz: Uint8Array, pageUrl: string): Promise<ReplayServer> {
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
url="${pageUrl}" replaybase="/replay/" embed="replayonly"></replay-web-page></body></html>`);
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
export async function replayFrame(page: Page, pathEnd: string, timeoutMs: number): Promise<Frame> {
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

/** Every image of the frame's document, and whether it is shown (loaded, with a size). Runs in the page. */
export const allImagesShown = () =>
  [...document.images].map((img) => ({ src: img.currentSrc, shown: img.complete && img.naturalWidth > 0 }));
