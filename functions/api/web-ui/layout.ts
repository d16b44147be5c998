/**
 * The page shell and the headers every UI response carries, above all a strict
 * Content-Security-Policy: nothing but this origin's stylesheet and script, no inline code, and
 * images only from this origin, `data:` and the exact origins the page embeds (the presigned
 * S3 links of screenshots, which differ between AWS and the local S3 server).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { header } from "../../../shared/http/api-gateway.ts";
import type { ApiDeps } from "../route-types.ts";
import { ASSETS } from "./assets.ts";
import { type CsrfState, csrfStateOf } from "./csrf.ts";
import { html, type SafeHtml } from "./html.ts";

/** What a page needs to know about the request it answers. */
export interface UiContext {
  /**
   * The path prefix the browser sees in front of our routes: "" locally and behind a custom
   * domain mapped at its root, "/prod" on an execute-api URL (the stage is not in `event.path`),
   * the path of PUBLIC_BASE_URL when it is set.
   */
  base: string;
  /** The token this reader's forms carry, and the cookie to set when they have none yet (csrf.ts). */
  csrf: CsrfState;
}

const SAFE_BASE = /^(\/[A-Za-z0-9._~-]+)*$/;

/**
 * Whether the request came in at the public address: its own host (locally, or on an API Gateway
 * custom domain), or through CloudFront, which adds `X-Amz-Cf-Id` to every request it forwards. A
 * client can fake that header on the execute-api URL, which only breaks its own page's links (UI
 * pages are never cached), and behind the edge cache the web ACL refuses it there anyway.
 */
function reachedPublicly(event: APIGatewayProxyEvent, publicBaseUrl: string): boolean {
  const publicHost = new URL(publicBaseUrl).hostname.toLowerCase();
  const domain = event.requestContext?.domainName;
  if (domain === undefined) return true;
  if (domain.toLowerCase() === publicHost) return true;
  return header(event, "x-amz-cf-id") !== undefined;
}

export function uiContextOf(
  event: APIGatewayProxyEvent,
  deps: Pick<ApiDeps, "csrfSecret" | "publicBaseUrl"> = {},
): UiContext {
  const own = event.path.replace(/\/+$/, "");
  const seen = (event.requestContext?.path ?? event.path).replace(/\/+$/, "");
  // The configured public URL says where readers see us, but only when they reached us there: on
  // an API Gateway custom domain requestContext.domainName is that host, behind CloudFront the
  // distribution marks each request it forwards with `X-Amz-Cf-Id` (the browser never sees
  // "/prod" there). On the execute-api URL, which still answers directly when
  // no edge cache guards it, the stage prefix API Gateway reports is the reader's own.
  const found =
    deps.publicBaseUrl !== undefined && reachedPublicly(event, deps.publicBaseUrl)
      ? new URL(deps.publicBaseUrl).pathname.replace(/\/+$/, "")
      : seen.endsWith(own)
        ? seen.slice(0, seen.length - own.length)
        : "";
  const base = SAFE_BASE.test(found) ? found : "";
  // API Gateway (which sets domainName) only speaks https; locally, whatever the public URL says.
  const secure =
    event.requestContext?.domainName !== undefined || deps.publicBaseUrl?.startsWith("https:") === true;
  return { base, csrf: csrfStateOf(event, { secret: deps.csrfSecret, path: `${base}/`, secure }) };
}

/** A link to one of our own paths, with its query (empty values left out). */
export function link(ui: UiContext, path: string, query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query))
    if (value !== undefined && value !== "") params.set(name, value);
  const search = params.size > 0 ? `?${params}` : "";
  return `${ui.base}${path}${search}`;
}

export interface PageContent {
  title: string;
  body: SafeHtml;
  /** @default 200 */
  status?: number;
  /** Origins of images the page embeds (presigned artifact links), allowed by the CSP. */
  imageOrigins?: readonly string[];
  /** Origins the page frames (the replay origin), allowed by the CSP; none by default. */
  frameOrigins?: readonly string[];
  /** With scripts off, reload every this many seconds (a capture that has not ended yet). */
  refreshSeconds?: number;
  /** Feeds of this page's subject, named in the head with `<link rel="alternate">` (besides the archive's). */
  alternates?: ReadonlyArray<{ title: string; href: string }>;
}

const ORIGIN = /^https?:\/\/[^\s;,'/]+$/;

/** The policy for a page; exported for tests. */
export function contentSecurityPolicy(
  imageOrigins: readonly string[] = [],
  frameOrigins: readonly string[] = [],
): string {
  const images = ["'self'", "data:", ...new Set(imageOrigins.filter((o) => ORIGIN.test(o)))];
  const frames = [...new Set(frameOrigins.filter((o) => ORIGIN.test(o)))];
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src ${images.join(" ")}`,
    // Only the replay origin, where archived scripts run apart from this one (replay-page.ts).
    ...(frames.length > 0 ? [`frame-src ${frames.join(" ")}`] : []),
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Headers shared by every UI response, HTML or not. */
export function securityHeaders(
  imageOrigins: readonly string[] = [],
  frameOrigins: readonly string[] = [],
): Record<string, string> {
  return {
    "content-security-policy": contentSecurityPolicy(imageOrigins, frameOrigins),
    "x-content-type-options": "nosniff",
    // Archived URLs and ids stay private to the reader when they follow a link out.
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
  };
}

export function pageResponse(ui: UiContext, page: PageContent): APIGatewayProxyResult {
  const css = ASSETS["app.css"];
  const js = ASSETS["app.js"];
  const body = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · Palimpsest</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${link(ui, "/ui/assets/app.css", { v: css.version })}">
${(page.alternates ?? []).map(
  (alt) => html`<link rel="alternate" type="application/atom+xml" title="${alt.title}" href="${alt.href}">
`,
)}<link rel="alternate" type="application/atom+xml" title="Palimpsest: flagged edits" href="${link(ui, "/v1/edits.atom")}">
<script src="${link(ui, "/ui/assets/app.js", { v: js.version })}" defer></script>
${page.refreshSeconds !== undefined && html`<noscript><meta http-equiv="refresh" content="${page.refreshSeconds}"></noscript>`}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site"><div class="wrap">
<a class="brand" href="${link(ui, "/")}">Palimpsest</a>
<span class="tagline">An archive of news articles that catches stealth edits</span>
<a class="nav" href="${link(ui, "/ui/sources")}">Sources</a>
</div></header>
<main id="main" class="wrap" tabindex="-1">
${page.body}
</main>
<footer class="site"><div class="wrap">
<p>Artifacts are stored once under the SHA-256 of their bytes; links to them expire after a few minutes, so reload a page for fresh ones. <a href="${link(ui, "/v1/edits.atom")}">Atom feed of edits</a>.</p>
</div></footer>
</body>
</html>
`;
  return {
    statusCode: page.status ?? 200,
    headers: {
      "content-type": "text/html; charset=utf-8",
      // Pages embed presigned links that expire, and capture status changes: never cache them.
      "cache-control": "no-store",
      ...securityHeaders(page.imageOrigins, page.frameOrigins),
      ...(ui.csrf.setCookie ? { "set-cookie": ui.csrf.setCookie } : {}),
    },
    body: body.value,
  };
}

/** 303 See Other: the answer to a form POST, so reloading the next page does not resubmit. */
export function seeOther(ui: UiContext, path: string): APIGatewayProxyResult {
  return {
    statusCode: 303,
    headers: { location: link(ui, path), "cache-control": "no-store", ...securityHeaders() },
    body: "",
  };
}
