/**
 * URL normalisation and the submit-time URL guard. Pure apart from the injected resolver.
 *
 * Normalisation makes one archive entry per article however it was linked: scheme and host
 * lower-cased (the WHATWG parser does this and canonicalises IPv4 spellings), default port
 * dropped, fragment dropped, tracking parameters removed, the query sorted by key (stable, so
 * repeated keys keep their relative order).
 */
import { InvalidUrlError } from "../errors.ts";
import type { ResolveHost } from "../ports.ts";
import { isPublicAddress } from "./ip-address.ts";

export const MAX_URL_LENGTH = 2048;

/** Query parameters that only track the reader and never select content. */
const TRACKING_PARAMS = new Set([
  "fbclid",
  "gclid",
  "dclid",
  "gbraid",
  "wbraid",
  "msclkid",
  "mc_cid",
  "mc_eid",
]);

function isTrackingParam(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith("utm_") || TRACKING_PARAMS.has(lower);
}

/** Parses and checks the syntax rules that need no network. Throws InvalidUrlError. */
export function parseSubmittedUrl(input: unknown): URL {
  if (typeof input !== "string" || input.trim() === "") {
    throw new InvalidUrlError("invalid_url", 'The request needs a "url" string.');
  }
  const raw = input.trim();
  if (raw.length > MAX_URL_LENGTH) {
    throw new InvalidUrlError("url_too_long", `The URL is longer than ${MAX_URL_LENGTH} characters.`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    throw new InvalidUrlError("invalid_url", "The URL could not be parsed; give an absolute http(s) URL.", {
      cause,
    });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InvalidUrlError(
      "unsupported_scheme",
      `Only http and https URLs can be archived, not ${url.protocol.replace(/:$/, "")}.`,
    );
  }
  if (url.username !== "" || url.password !== "") {
    throw new InvalidUrlError("credentials_in_url", "URLs with a user name or password cannot be archived.");
  }
  if (url.hostname === "") {
    throw new InvalidUrlError("invalid_url", "The URL has no host.");
  }
  return url;
}

/** RFC 3986 §6.2.2: decode escapes of unreserved characters, upper-case the hex of the rest. */
function normalisePercentEncoding(path: string): string {
  return path.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

/** The canonical form used as the archive's identity for a page. */
export function normaliseUrl(input: string | URL): string {
  const url = typeof input === "string" ? parseSubmittedUrl(input) : new URL(input.href);
  url.hash = "";
  url.pathname = normalisePercentEncoding(url.pathname);
  if (url.hostname.endsWith(".")) url.hostname = url.hostname.replace(/\.+$/, "");
  const kept = [...url.searchParams.entries()].filter(([name]) => !isTrackingParam(name));
  kept.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const search = new URLSearchParams(kept).toString();
  url.search = search === "" ? "" : `?${search}`;
  return url.href;
}

/** The host:port form that ALLOW_PRIVATE_HOSTS entries are matched against. */
export function hostAndPort(url: URL): string {
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return `${url.hostname}:${port}`;
}

/**
 * Parses `ALLOW_PRIVATE_HOSTS` ("host:port,host,..."). An entry without a port allows every port
 * of that host. Host names are lower-cased; IPv6 entries use brackets ("[::1]:8080").
 */
export function parseAllowedPrivateHosts(raw: string | undefined): Set<string> {
  const entries = new Set<string>();
  for (const part of (raw ?? "").split(",")) {
    const entry = part.trim().toLowerCase();
    if (entry !== "") entries.add(entry);
  }
  return entries;
}

function isAllowedPrivate(url: URL, allowed: Set<string>): boolean {
  return allowed.has(hostAndPort(url)) || allowed.has(url.hostname);
}

export interface UrlGuardOptions {
  resolveHost: ResolveHost;
  allowedPrivateHosts: Set<string>;
}

/**
 * The submit-time guard: syntax, scheme, credentials, length, then the host must resolve only to
 * public unicast addresses unless it is listed in ALLOW_PRIVATE_HOSTS. Returns the parsed URL.
 */
export async function checkSubmittedUrl(input: unknown, options: UrlGuardOptions): Promise<URL> {
  const url = parseSubmittedUrl(input);
  if (isAllowedPrivate(url, options.allowedPrivateHosts)) return url;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: string[];
  try {
    addresses = await options.resolveHost(host);
  } catch (cause) {
    throw new InvalidUrlError("unresolvable_host", `The host ${url.hostname} could not be resolved.`, {
      cause,
    });
  }
  if (addresses.length === 0) {
    throw new InvalidUrlError("unresolvable_host", `The host ${url.hostname} has no addresses.`);
  }
  const forbidden = addresses.find((address) => !isPublicAddress(address));
  if (forbidden !== undefined) {
    throw new InvalidUrlError(
      "private_address",
      `The host ${url.hostname} resolves to a private or reserved address, which cannot be archived.`,
    );
  }
  return url;
}
