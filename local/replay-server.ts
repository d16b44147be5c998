/**
 * The local runner's replay origin: a second loopback port that serves the replay site's three
 * files (shared/http/replay-site.ts) and nothing else, so archived scripts replayed in
 * ReplayWeb.page never run on the API's origin, where the web UI's CSRF cookie and the API live.
 * `127.0.0.1:3000` and `127.0.0.1:3001` are different origins to a browser (the port is part of
 * it), which is all the isolation needs.
 *
 * It listens before the runner is ready (a busy port is reported first, like the API's) and
 * answers 503 until `ready` says which storage origin the WACZ comes from.
 */
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import {
  REPLAY_APP_HTML,
  REPLAY_INDEX_HTML,
  REPLAY_SITE_PATHS,
  type ReplaySitePolicyOptions,
  replaySiteHeaders,
} from "../shared/http/replay-site.ts";

/** ReplayWeb.page's package, whose `ui.js` and `sw.js` are served as they were installed. */
const REPLAYWEBPAGE_DIR = join(import.meta.dirname, "..", "node_modules", "replaywebpage");

/** The replay server: bound at once, serving once `ready` is called. */
export interface LocalReplayServer {
  server: Server;
  /** Starts serving with the policy's origins (until then every request is answered 503). */
  ready(policy: ReplaySitePolicyOptions): void;
}

interface SiteFile {
  body: Buffer;
  contentType: string;
  /** ReplayWeb.page's scripts change only with the package; the pages may be cached briefly. */
  cacheControl: string;
}

/** Reads ReplayWeb.page's two scripts once, and builds the server that serves them. */
export async function createLocalReplayServer(): Promise<LocalReplayServer> {
  const [ui, sw] = await Promise.all([
    readFile(join(REPLAYWEBPAGE_DIR, "ui.js")),
    readFile(join(REPLAYWEBPAGE_DIR, "sw.js")),
  ]);
  const page = (text: string): SiteFile => ({
    body: Buffer.from(text),
    contentType: "text/html; charset=utf-8",
    cacheControl: "no-cache",
  });
  const script = (body: Buffer): SiteFile => ({
    body,
    contentType: "text/javascript; charset=utf-8",
    cacheControl: "public, max-age=3600",
  });
  const files = new Map<string, SiteFile>([
    [REPLAY_SITE_PATHS.index, page(REPLAY_INDEX_HTML)],
    [REPLAY_SITE_PATHS.app, page(REPLAY_APP_HTML)],
    [REPLAY_SITE_PATHS.appIndex, page(REPLAY_APP_HTML)],
    [REPLAY_SITE_PATHS.ui, script(ui)],
    [REPLAY_SITE_PATHS.sw, script(sw)],
  ]);
  let headers: Record<string, string> | undefined;

  const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    if (!headers) return plain(res, 503, "Palimpsest is starting; try again in a moment.", {});
    serve(req, res, files, headers);
  });
  return {
    server,
    ready(policy) {
      headers = replaySiteHeaders(policy);
    },
  };
}

function serve(
  req: IncomingMessage,
  res: ServerResponse,
  files: ReadonlyMap<string, SiteFile>,
  headers: Record<string, string>,
): void {
  const method = req.method ?? "GET";
  if (method !== "GET" && method !== "HEAD") {
    plain(res, 405, "The replay origin only serves files.", { ...headers, allow: "GET, HEAD" });
    return;
  }
  // The query carries what to replay and is read by the page itself; only the path picks a file.
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  const file = files.get(path);
  if (!file) {
    plain(res, 404, "The replay origin serves only the replay viewer.", headers);
    return;
  }
  res.writeHead(200, {
    ...headers,
    "content-type": file.contentType,
    "content-length": file.body.length,
    "cache-control": file.cacheControl,
  });
  res.end(method === "HEAD" ? undefined : file.body);
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string>): void {
  const body = Buffer.from(`${text}\n`);
  res.writeHead(status, {
    ...headers,
    "content-type": "text/plain; charset=utf-8",
    "content-length": body.length,
    "cache-control": "no-store",
  });
  res.end(body);
}
