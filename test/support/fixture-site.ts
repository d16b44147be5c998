/**
 * A tiny news site on 127.0.0.1 for tests that drive a real browser or the handlers end to end.
 *
 * Serves `test/fixtures/site/*` as static files — among them `/static-article.html` (a plain news
 * article: metadata, JSON-LD, external stylesheet with @import, font and background image, srcset
 * image, inline handlers, scripts, an iframe), `/script-article.html` (body rendered by script from
 * `/api/story.json`), `/lazy-article.html` (content and images that load only when scrolled to, and
 * grow the page) and `/consent-article.html` (a full-screen cookie banner plus a GDPR bar) — plus a
 * few built-in dynamic routes:
 * - `/img/<w>x<h>-<rrggbb>.png` — a solid-colour PNG generated on the fly (so no binaries are committed);
 * - `/fonts/fixture.woff2` — a few bytes served as a web font (enough for the browser to fetch it);
 * - `/document.pdf` — a minimal PDF (`application/pdf`);
 * - `/not-found` — 404 with an HTML body;
 * - `/hang` — accepts the request and never answers (for timeouts);
 * - `/delay/<ms>/<path>` — serves `<path>` after `<ms>` milliseconds;
 * - `/redirect?to=<path>` — 302 to `<path>`;
 * - any path registered with `setPage()` or `setRoute()`, which take precedence over everything
 *   else and can be changed between requests (to simulate edits).
 *
 * Every request is recorded in `requests`, so tests can assert what a browser fetched.
 */
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { extname, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { crc32, deflateSync } from "node:zlib";

/** A route handler; it may answer asynchronously or never (like `/hang`). */
export type FixtureHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface FixturePageOptions {
  /** @default 200 */
  status?: number;
  /** @default "text/html; charset=utf-8" */
  contentType?: string;
  headers?: Record<string, string>;
}

export interface FixtureRequest {
  method: string;
  /** Path and query, as requested. */
  path: string;
  /** Milliseconds since the site started. */
  at: number;
}

export interface FixtureSite {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Every request received so far, oldest first. */
  readonly requests: readonly FixtureRequest[];
  /** Absolute URL of a path on this site. */
  url(path: string): string;
  /** Serves `body` at `path` (exact match, query ignored) until changed or cleared. */
  setPage(path: string, body: string | Uint8Array, options?: FixturePageOptions): void;
  /** Routes `path` (exact match, query ignored) to `handler` until changed or cleared. */
  setRoute(path: string, handler: FixtureHandler): void;
  /** Removes a page or route set with `setPage()`/`setRoute()`. */
  clearRoute(path: string): void;
  /** How many requests asked for `path` (query ignored). */
  requestCount(path: string): number;
  /** Resolves when a request for `path` (query ignored) arrives, or has already arrived. */
  waitForRequest(path: string, timeoutMs?: number): Promise<void>;
  /** Stops the server and destroys open connections, including ones `/hang` holds. */
  close(): Promise<void>;
}

const SITE_ROOT = fileURLToPath(new URL("../fixtures/site/", import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".txt": "text/plain; charset=utf-8",
};

// The smallest PDF viewers accept: one empty page.
const MINIMAL_PDF = `%PDF-1.4
1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj
2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj
3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj
trailer<</Root 1 0 R>>
%%EOF
`;

/** Starts the fixture site on 127.0.0.1 with an ephemeral port. */
export async function startFixtureSite(): Promise<FixtureSite> {
  const startedAt = Date.now();
  const requests: FixtureRequest[] = [];
  const routes = new Map<string, FixtureHandler>();
  const waiters: Array<{ path: string; resolve: () => void }> = [];
  const sockets = new Set<Socket>();

  const pathOf = (raw: string) => new URL(raw, "http://fixture.invalid").pathname;

  const server = createServer((req, res) => {
    const rawPath = req.url ?? "/";
    requests.push({ method: req.method ?? "GET", path: rawPath, at: Date.now() - startedAt });
    const path = pathOf(rawPath);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const waiter = waiters[i];
      if (waiter && waiter.path === path) {
        waiters.splice(i, 1);
        waiter.resolve();
      }
    }
    Promise.resolve(handle(req, res, rawPath)).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(err));
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse, rawPath: string): Promise<void> {
    const url = new URL(rawPath, "http://fixture.invalid");
    const custom = routes.get(url.pathname);
    if (custom) return custom(req, res);

    if (url.pathname === "/hang") return; // never answers; close() destroys the socket
    if (url.pathname === "/not-found") {
      return send(
        res,
        404,
        "text/html; charset=utf-8",
        "<!DOCTYPE html><title>Not found</title><h1>Not found</h1>",
      );
    }
    if (url.pathname === "/redirect") {
      res.writeHead(302, { location: url.searchParams.get("to") ?? "/" });
      res.end();
      return;
    }
    if (url.pathname === "/document.pdf") return send(res, 200, "application/pdf", MINIMAL_PDF);
    if (url.pathname === "/fonts/fixture.woff2") {
      // Not a valid font: the browser fetches it, rejects it and falls back, which is all tests need.
      return send(res, 200, "font/woff2", Buffer.from("wOF2-fixture-not-a-real-font"));
    }
    const delay = /^\/delay\/(\d+)(\/.*)$/.exec(url.pathname);
    if (delay) {
      await new Promise((r) => setTimeout(r, Number(delay[1])));
      if (res.destroyed) return;
      return handle(req, res, `${delay[2]}${url.search}`);
    }
    const image = /^\/img\/(\d{1,4})x(\d{1,4})-([0-9a-f]{6})\.png$/i.exec(url.pathname);
    if (image) {
      const png = encodeSolidPng(Number(image[1]), Number(image[2]), image[3] ?? "000000");
      return send(res, 200, "image/png", png);
    }
    return serveFile(res, url.pathname);
  }

  async function serveFile(res: ServerResponse, pathname: string): Promise<void> {
    const file = resolve(SITE_ROOT, `.${decodeURIComponent(pathname)}`);
    const type = CONTENT_TYPES[extname(file)];
    if (!file.startsWith(SITE_ROOT.endsWith(sep) ? SITE_ROOT : SITE_ROOT + sep) || !type) {
      return send(res, 404, "text/plain; charset=utf-8", "Not found");
    }
    try {
      return send(res, 200, type, await readFile(file));
    } catch {
      return send(res, 404, "text/plain; charset=utf-8", "Not found");
    }
  }

  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    origin,
    requests,
    url: (path) => new URL(path, origin).href,
    setPage(path, body, options = {}) {
      routes.set(pathOf(path), (_req, res) => {
        send(
          res,
          options.status ?? 200,
          options.contentType ?? "text/html; charset=utf-8",
          body,
          options.headers,
        );
      });
    },
    setRoute(path, handler) {
      routes.set(pathOf(path), handler);
    },
    clearRoute(path) {
      routes.delete(pathOf(path));
    },
    requestCount: (path) => requests.filter((r) => pathOf(r.path) === pathOf(path)).length,
    waitForRequest(path, timeoutMs = 10_000) {
      const wanted = pathOf(path);
      if (requests.some((r) => pathOf(r.path) === wanted)) return Promise.resolve();
      return new Promise<void>((resolveWait, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`No request for ${wanted} within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          path: wanted,
          resolve: () => {
            clearTimeout(timer);
            resolveWait();
          },
        });
      });
    },
    close() {
      return new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
): void {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": String(bytes.byteLength),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(bytes);
}

/** Encodes a solid-colour RGB PNG (8-bit, no interlace). */
export function encodeSolidPng(width: number, height: number, hexColour: string): Buffer {
  const rgb = [0, 2, 4].map((i) => Number.parseInt(hexColour.slice(i, i + 2), 16));
  const row = Buffer.alloc(1 + width * 3); // leading 0 = filter type "none"
  for (let x = 0; x < width; x++) row.set(rgb, 1 + x * 3);
  return encodeRgbPng(width, height, Buffer.concat(Array.from({ length: height }, () => row)));
}

/** Wraps filtered RGB scanlines (a filter byte then 3 bytes a pixel, per row) as an 8-bit PNG. */
export function encodeRgbPng(width: number, height: number, raw: Buffer): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    pngChunk("IDAT", deflateSync(raw)),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}
