/**
 * The web UI's defences against forged form POSTs: CSRF tokens (OWASP's signed double-submit
 * cookie) and the browser's own word on where a POST came from (`refuseCrossSite`).
 *
 * A page with a form gives the browser a random nonce in an HttpOnly cookie and puts a token for
 * that nonce in the form; a POST is accepted only when its token matches the nonce its cookie
 * carries. A page on another site can make the browser send the cookie but cannot read it nor our
 * pages, so it cannot know the token.
 *
 * Where a secret is configured (the local runner always has one), the token is an HMAC of the
 * nonce under it. That matters on loopback: cookies are not separated by port, so a hostile page
 * served from another port of 127.0.0.1 could plant a cookie nonce of its choosing, but it cannot
 * sign one. Without a secret (the Lambda: its containers share none, so each would sign
 * differently) the token is the nonce itself. There the API's host is a site of its own
 * (`execute-api` domains are on the public suffix list), so no neighbour can plant a cookie; under
 * a custom domain a sibling subdomain could, and `refuseCrossSite` still refuses its POSTs, which
 * browsers mark `Sec-Fetch-Site: same-site`.
 */
import { createHmac, randomBytes } from "node:crypto";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { HttpError, header } from "../../../shared/http/api-gateway.ts";
import { sameSecret } from "../secrets.ts";

/** The cookie that holds the nonce. */
export const CSRF_COOKIE = "palimpsest_csrf";
/** The form field that holds the token. */
export const CSRF_FIELD = "csrf";

const NONCE = /^[A-Za-z0-9_-]{43}$/;

/** What a page needs to protect its forms. */
export interface CsrfState {
  /** The value of every form's hidden `csrf` field. */
  token: string;
  /** A `Set-Cookie` value to send when the request came without a usable nonce. */
  setCookie?: string;
}

function cookieNonce(event: APIGatewayProxyEvent): string | undefined {
  for (const part of (header(event, "cookie") ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === CSRF_COOKIE) {
      const nonce = value.join("=");
      return NONCE.test(nonce) ? nonce : undefined;
    }
  }
  return undefined;
}

function tokenFor(nonce: string, secret: Uint8Array | undefined): string {
  return secret === undefined ? nonce : createHmac("sha256", secret).update(nonce).digest("base64url");
}

/**
 * The token for the request's nonce, or a fresh nonce and the cookie that sets it. `path` is the
 * prefix the browser sees our pages under; `secure` when the browser reached us over https.
 */
export function csrfStateOf(
  event: APIGatewayProxyEvent,
  options: { secret?: Uint8Array | undefined; path: string; secure: boolean },
): CsrfState {
  const nonce = cookieNonce(event);
  if (nonce !== undefined) return { token: tokenFor(nonce, options.secret) };
  const fresh = randomBytes(32).toString("base64url");
  // Lax: sent when a reader follows a link to us from elsewhere (the page keeps its nonce), never
  // on another site's POST. HttpOnly: no script, ours or an injected one, ever reads it.
  const attributes = [`Path=${options.path || "/"}`, "HttpOnly", "SameSite=Lax"];
  if (options.secure) attributes.push("Secure");
  return {
    token: tokenFor(fresh, options.secret),
    setCookie: `${CSRF_COOKIE}=${fresh}; ${attributes.join("; ")}`,
  };
}

/** Refuses a form POST whose token does not match its cookie's nonce (403 `invalid_csrf_token`). */
export function verifyCsrf(
  event: APIGatewayProxyEvent,
  form: URLSearchParams,
  secret: Uint8Array | undefined,
): void {
  const nonce = cookieNonce(event);
  const given = form.get(CSRF_FIELD) ?? undefined;
  if (nonce === undefined || !sameSecret(given, tokenFor(nonce, secret))) {
    throw new HttpError(
      403,
      "invalid_csrf_token",
      "This form was not sent from this archive's own page, or the page is too old: reload it and send the form again.",
    );
  }
}

function originOf(text: string): string | undefined {
  try {
    return new URL(text).origin;
  } catch {
    return undefined;
  }
}

/**
 * A state-changing form POST must come from these pages: browsers send `Origin` (and
 * `Sec-Fetch-Site`) with every form POST, and a page on another site cannot forge either.
 */
export function refuseCrossSite(event: APIGatewayProxyEvent, publicBaseUrl?: string): void {
  const site = header(event, "sec-fetch-site");
  const origin = header(event, "origin");
  const host = header(event, "host");
  let originUrl: URL | undefined;
  let malformed = false;
  try {
    originUrl = origin === undefined || origin === "null" ? undefined : new URL(origin);
  } catch {
    malformed = true;
  }
  // Origins are compared whole (scheme, host, port): `http://<our host>` is not this archive.
  // API Gateway (which sets domainName) only speaks https; the local runner, http. Behind
  // CloudFront the Host we see is the API's own (the distribution does not forward the reader's),
  // while the browser names the public one: both are this archive.
  const ownScheme = event.requestContext?.domainName !== undefined ? "https" : "http";
  const ours = [host === undefined ? undefined : originOf(`${ownScheme}://${host}`)];
  if (publicBaseUrl !== undefined) ours.push(new URL(publicBaseUrl).origin);
  const foreignOrigin = malformed || (originUrl !== undefined && !ours.includes(originUrl.origin));
  // Our pages send `Referrer-Policy: no-referrer`, under which a browser sends `Origin: null` even
  // on a same-origin POST; where it also says `Sec-Fetch-Site: same-origin`, that null is ours.
  const opaqueOrigin = origin === "null" && site !== "same-origin";
  if (site === "cross-site" || site === "same-site" || foreignOrigin || opaqueOrigin) {
    throw new HttpError(403, "cross_site_form", "This form can only be sent from this archive's own pages.");
  }
}
