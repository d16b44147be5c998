/**
 * The local runner's replay origin: a second loopback port that serves the replay site's three
 * files (shared/http/replay-site.ts) and nothing else, so archived scripts replayed in
 * ReplayWeb.page never run on the API's origin, where the web UI's CSRF cookie and the API live.
 * `127.0.0.1:3000` and `127.0.0.1:3001` are different origins to a browser (the port is part of
 * it), which is all the isolation needs. On AWS the replay function answers the same way.
 *
 * It listens before the runner is ready (a busy port is reported first, like the API's) and
 * answers 503 until `ready` says which storage origin the WACZ comes from.
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import {
  answerReplayRequest,
  type ReplaySitePolicyOptions,
  replaySiteFiles,
  replaySiteHeaders,
} from "../shared/http/replay-site.ts";

/** ReplayWeb.page's package, whose `ui.js` and `sw.js` are served as they were installed. */
export const REPLAYWEBPAGE_DIR = join(import.meta.dirname, "..", "node_modules", "replaywebpage");

/** The replay server: bound at once, serving once `ready` is called. */
export interface LocalReplayServer {
  server: Server;
  /** Starts serving with the policy's origins (until then every request is answered 503). */
  ready(policy: ReplaySitePolicyOptions): void;
}

/** Reads ReplayWeb.page's two scripts once, and builds the server that serves them. */
export async function createLocalReplayServer(): Promise<LocalReplayServer> {
  const [ui, sw] = await Promise.all([
    readFile(join(REPLAYWEBPAGE_DIR, "ui.js")),
    readFile(join(REPLAYWEBPAGE_DIR, "sw.js")),
  ]);
  const files = replaySiteFiles({ ui, sw });
  let headers: Record<string, string> | undefined;

  const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    if (!headers) {
      res.writeHead(503, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
      res.end("Palimpsest is starting; try again in a moment.\n");
      return;
    }
    const method = req.method ?? "GET";
    const answer = answerReplayRequest(files, headers, method, (req.url ?? "/").split("?")[0] ?? "/");
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  });
  return {
    server,
    ready(policy) {
      headers = replaySiteHeaders(policy);
    },
  };
}
