/**
 * The replay origin's site: three files that let a reader browse a version's evidence package
 * (WACZ) in ReplayWeb.page — an index page, ReplayWeb.page's `ui.js` and its service worker
 * `sw.js` (self-hosted from the `replaywebpage` npm package, never a CDN).
 *
 * Why an origin of its own: a replay runs the archived page's scripts, and whatever runs on an
 * origin can read that origin's cookies and call its API. The web UI's origin holds the CSRF
 * cookie and answers the API, so archived scripts must never run there; on the replay origin
 * they find nothing but these three files. The same files are served by the local runner's
 * replay server (local/replay-server.ts) and, on AWS, by the replay function behind its URL
 * (infra/constructs/replay-origin.ts), so the page is static: it reads what to replay from its
 * own query string (`?source=<presigned WACZ link>&url=<page>&ts=<14 digits>`).
 *
 * What the origin may do is written once here, as its Content-Security-Policy: scripts only
 * from itself (and the index page's one inline script, by hash), connections only to itself and
 * the storage origin the WACZ comes from, frames only from itself, and only the UI's origin may
 * frame it. The service worker gets the same policy, which is what confines its fetches.
 */
import { createHash } from "node:crypto";

/** Where ReplayWeb.page's files live on the replay origin (`replaybase`, the service worker's scope). */
export const REPLAY_BASE = "/replay/";

/** The paths the replay origin serves; anything else is 404. */
export const REPLAY_SITE_PATHS = {
  index: "/",
  /** The app page `<replay-web-page>` loads in its own frame before the service worker serves it. */
  app: `${REPLAY_BASE}`,
  appIndex: `${REPLAY_BASE}index.html`,
  ui: `${REPLAY_BASE}ui.js`,
  sw: `${REPLAY_BASE}sw.js`,
} as const;

/**
 * Reads the query, checks it and mounts `<replay-web-page>`. Inline so the site stays three
 * files a static host can serve; the policy allows exactly this text by its SHA-256.
 */
const BOOTSTRAP = `(function () {
  var q = new URLSearchParams(location.search);
  var source = q.get("source") || "";
  var url = q.get("url") || "";
  var ts = q.get("ts") || "";
  var main = document.getElementById("replay");
  if (!/^https?:\\/\\//.test(source) || !/^https?:\\/\\//.test(url)) {
    main.textContent = "Nothing to replay: open a replay from a version page of the archive.";
    return;
  }
  var view = document.createElement("replay-web-page");
  view.setAttribute("source", source);
  view.setAttribute("url", url);
  if (/^\\d{14}$/.test(ts)) view.setAttribute("ts", ts);
  view.setAttribute("replaybase", "${REPLAY_BASE}");
  view.setAttribute("embed", "replayonly");
  main.replaceChildren(view);
})();`;

const STYLE =
  "html,body{margin:0;height:100%}#replay{height:100%}replay-web-page{display:block;width:100%;height:100%}";

/** The index page: ReplayWeb.page's script, then the bootstrap that mounts the viewer. */
export const REPLAY_INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Replay · Palimpsest</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
<script src="${REPLAY_SITE_PATHS.ui}"></script>
</head>
<body>
<div id="replay">Loading the replay…</div>
<script>${BOOTSTRAP}</script>
</body>
</html>
`;

/** What `<replay-web-page>` frames at `replaybase` until its service worker answers for it. */
export const REPLAY_APP_HTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Replay · Palimpsest</title><script src="${REPLAY_SITE_PATHS.ui}"></script></head>
<body><replay-app-main></replay-app-main></body>
</html>
`;

const hashOf = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

/**
 * An origin as a CSP source: scheme, host and port only, or nothing if it is not http(s). A
 * wildcard host (`https://*.example.org`) is dropped, not passed through: the policy names exact
 * origins only (a `*.execute-api` label would let any AWS customer's API frame the replay).
 */
function originSource(url: string): string | undefined {
  if (url.includes("*")) return undefined;
  try {
    const parsed = new URL(url);
    return /^https?:$/.test(parsed.protocol) ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}

/** Props of {@link replaySitePolicy}. */
export interface ReplaySitePolicyOptions {
  /** Origins the WACZ is fetched from (the embedded S3 front, or the archive bucket's S3 host). */
  readonly storageOrigins: readonly string[];
  /**
   * Other origins allowed to frame the replay (the web UI's).
   * @default - none: the replay opens only as a page of its own
   */
  readonly frameAncestors?: readonly string[];
}

/**
 * The replay origin's Content-Security-Policy. `style-src 'unsafe-inline'`: ReplayWeb.page's
 * components set styles in attributes; styles cannot run code. `blob:` and `data:` images and
 * fonts are ReplayWeb.page's own icons. Archived pages are not governed by this policy: their
 * responses come from the service worker, which sets its own policy confining them to this origin.
 */
export function replaySitePolicy(options: ReplaySitePolicyOptions): string {
  const storage = [...new Set(options.storageOrigins.map(originSource).filter((o) => o !== undefined))];
  const ancestors = [
    ...new Set((options.frameAncestors ?? []).map(originSource).filter((o) => o !== undefined)),
  ];
  return [
    "default-src 'none'",
    `script-src 'self' ${hashOf(BOOTSTRAP)}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    // data: is ReplayWeb.page's icons, which its components fetch; it sends nothing anywhere.
    ["connect-src 'self' data:", ...storage].join(" "),
    "frame-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "form-action 'none'",
    "base-uri 'none'",
    // 'self': ReplayWeb.page frames its own app and the replayed pages inside the index page.
    ["frame-ancestors 'self'", ...ancestors].join(" "),
  ].join("; ");
}

/** Headers of every answer of the replay origin, its files and its refusals alike. */
export function replaySiteHeaders(options: ReplaySitePolicyOptions): Record<string, string> {
  return {
    "content-security-policy": replaySitePolicy(options),
    "x-content-type-options": "nosniff",
    // The presigned link is in the page's query: it must not follow a reader out in a Referer.
    "referrer-policy": "no-referrer",
  };
}

/** The files of the replay site by path, ReplayWeb.page's two scripts given as installed. */
export type ReplaySiteFiles = ReadonlyMap<
  string,
  { body: Uint8Array; contentType: string; cacheControl: string }
>;

/** The site's five paths (three files; the app page answers at two paths) from ReplayWeb.page's scripts. */
export function replaySiteFiles(scripts: { ui: Uint8Array; sw: Uint8Array }): ReplaySiteFiles {
  const page = (text: string) => ({
    body: new TextEncoder().encode(text),
    contentType: "text/html; charset=utf-8",
    cacheControl: "no-cache",
  });
  // The scripts change only with the package; an hour keeps a reader's second replay quick.
  const script = (body: Uint8Array) => ({
    body,
    contentType: "text/javascript; charset=utf-8",
    cacheControl: "public, max-age=3600",
  });
  return new Map([
    [REPLAY_SITE_PATHS.index, page(REPLAY_INDEX_HTML)],
    [REPLAY_SITE_PATHS.app, page(REPLAY_APP_HTML)],
    [REPLAY_SITE_PATHS.appIndex, page(REPLAY_APP_HTML)],
    [REPLAY_SITE_PATHS.ui, script(scripts.ui)],
    [REPLAY_SITE_PATHS.sw, script(scripts.sw)],
  ]);
}

/** One answer of the replay origin. */
export interface ReplaySiteAnswer {
  status: number;
  headers: Record<string, string>;
  /** Empty for HEAD. */
  body: Uint8Array;
}

/**
 * What the replay origin answers to `method path`: one of its files, 405 for anything but GET
 * and HEAD, 404 for any other path. The query is the page's own business (it says what to
 * replay); only the path picks a file. The local server and the Lambda both answer with this.
 */
export function answerReplayRequest(
  files: ReplaySiteFiles,
  headers: Record<string, string>,
  method: string,
  path: string,
): ReplaySiteAnswer {
  const text = (status: number, message: string, extra: Record<string, string> = {}): ReplaySiteAnswer => ({
    status,
    headers: {
      ...headers,
      ...extra,
      "content-type": "text/plain; charset=utf-8",
      "cache-control": "no-store",
    },
    body: method === "HEAD" ? new Uint8Array() : new TextEncoder().encode(`${message}\n`),
  });
  if (method !== "GET" && method !== "HEAD")
    return text(405, "The replay origin only serves files.", { allow: "GET, HEAD" });
  const file = files.get(path);
  if (!file) return text(404, "The replay origin serves only the replay viewer.");
  return {
    status: 200,
    headers: {
      ...headers,
      "content-type": file.contentType,
      "content-length": String(file.body.length),
      "cache-control": file.cacheControl,
    },
    body: method === "HEAD" ? new Uint8Array() : file.body,
  };
}

/** What a reader is shown: the replay of one page in one evidence package. */
export interface ReplayTarget {
  /** The WACZ's presigned link. */
  readonly source: string;
  /** The page to open first (the capture's final URL). */
  readonly url: string;
  /** When it was captured (ISO 8601); ReplayWeb.page opens the capture closest to it. */
  readonly capturedAt?: string;
}

/** The replay origin's link that shows `target`, for a replay origin at `replayBaseUrl`. */
export function replayViewUrl(replayBaseUrl: string, target: ReplayTarget): string {
  const query = new URLSearchParams({ source: target.source, url: target.url });
  const at = target.capturedAt ? new Date(target.capturedAt) : undefined;
  if (at && !Number.isNaN(at.getTime())) query.set("ts", at.toISOString().replace(/\D/g, "").slice(0, 14));
  return `${replayBaseUrl.replace(/\/+$/, "")}/?${query}`;
}
