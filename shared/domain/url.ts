/**
 * URL normalisation and the submit-time URL guard. Pure apart from the injected resolver.
 *
 * Normalisation makes one archive entry per article however it was linked: scheme and host
 * lower-cased (the WHATWG parser does this and canonicalises IPv4 spellings), default port
 * dropped, fragment dropped, tracking parameters removed, the query sorted by key (stable, so
 * repeated keys keep their relative order).
 */
import { isIP, isIPv6 } from "node:net";
import { ConfigError, InvalidUrlError } from "../errors.ts";
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
  // Parsing can lengthen a URL (percent-encoding, punycode); the limit holds for what is stored.
  if (url.href.length > MAX_URL_LENGTH) {
    throw new InvalidUrlError("url_too_long", `The URL is longer than ${MAX_URL_LENGTH} characters.`);
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

/** Where a request goes: the WHATWG-canonical host (IPv6 in brackets) and the port, defaults filled in. */
export interface Destination {
  hostname: string;
  port: number;
}

export function destinationOf(url: URL): Destination {
  const secure = url.protocol === "https:" || url.protocol === "wss:";
  return { hostname: url.hostname, port: url.port === "" ? (secure ? 443 : 80) : Number(url.port) };
}

/** The host:port form that ALLOW_PRIVATE_HOSTS entries are matched against. */
export function hostAndPort(url: URL): string {
  const { hostname, port } = destinationOf(url);
  return `${hostKey(hostname)}:${port}`;
}

/** A host as the allowlist spells it: canonical, lower-case, without trailing dots. */
function hostKey(hostname: string): string {
  return hostname.startsWith("[") ? hostname : hostname.replace(/\.+$/, "");
}

/**
 * Parses `ALLOW_PRIVATE_HOSTS` ("host:port,host,..."). An entry without a port allows every port
 * of that host. Hosts are canonicalised as URLs canonicalise them (lower case, IPv4 in dotted
 * decimal), so "LOCALHOST" and "0x7f.1:8080" mean what they say; IPv6 entries use brackets
 * ("[::1]:8080"). An entry may name a host or an address: a name that resolves to an allowed
 * address:port is let through too. A malformed entry throws ConfigError: a typo must not silently
 * open (or close) a hole.
 */
export function parseAllowedPrivateHosts(raw: string | undefined): Set<string> {
  const entries = new Set<string>();
  for (const part of (raw ?? "").split(",")) {
    const entry = part.trim();
    if (entry === "") continue;
    const match = /^(\[[^\]]*\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(entry);
    let hostname: string | undefined;
    try {
      hostname = match?.[1] !== undefined ? new URL(`http://${match[1]}/`).hostname : undefined;
    } catch {
      hostname = undefined;
    }
    const port = match?.[2] === undefined ? undefined : Number(match[2]);
    if (hostname === undefined || hostname === "" || (port !== undefined && (port < 1 || port > 65535))) {
      throw new ConfigError(`ALLOW_PRIVATE_HOSTS has a malformed entry "${entry}"; use host or host:port.`);
    }
    entries.add(port === undefined ? hostKey(hostname) : `${hostKey(hostname)}:${port}`);
  }
  return entries;
}

function isAllowlisted(hostname: string, port: number, allowed: ReadonlySet<string>): boolean {
  const key = hostKey(hostname);
  return allowed.has(`${key}:${port}`) || allowed.has(key);
}

/**
 * Ports that Chromium itself refuses (net/base/port_util.cc, kRestrictedPorts) above 1023. Below
 * 1024 only 80 and 443 are allowed anyway: the rest are mail, SSH, DNS, directory and file
 * services, the targets of cross-protocol attacks, never a news site.
 */
const BROWSER_RESTRICTED_PORTS = new Set([
  1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697,
  10080,
]);

/** 80, 443, and every port from 1024 up that browsers do not restrict. */
export function isAllowedPort(port: number): boolean {
  if (port === 80 || port === 443) return true;
  return Number.isInteger(port) && port >= 1024 && port <= 65535 && !BROWSER_RESTRICTED_PORTS.has(port);
}

/**
 * Names that mean "this machine" or "this network" whatever DNS says (RFC 6761 `localhost`, mDNS
 * `.local`, `.internal` as in `metadata.google.internal`, `.home.arpa`); refused without a lookup.
 */
const LOCAL_NAME = /(^|\.)(localhost|localdomain|local|internal|intranet|lan|home\.arpa)$/;

/** The bare address when the canonical host is an IP literal ("[::1]" → "::1"), else undefined. */
export function literalAddress(hostname: string): string | undefined {
  const bare = hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
  return isIP(bare) === 0 ? undefined : bare;
}

/** An address as the allowlist spells it: IPv4 dotted, IPv6 canonical in brackets. */
function addressKey(address: string): string {
  if (isIPv6(address)) {
    try {
      return new URL(`http://[${address}]/`).hostname;
    } catch {
      return `[${address}]`;
    }
  }
  return address;
}

/** How to let a local test site through, naming the exact entry (the runner reads it at start). */
function allowHint(hostname: string, port: number): string {
  const entry = `${hostKey(hostname)}:${port}`;
  return `To archive ${entry} anyway (a site of your own), start Palimpsest with ALLOW_PRIVATE_HOSTS=${entry}.`;
}

export type DestinationRefusalCode = "private_address" | "port_not_allowed" | "unresolvable_host";

/** The guard's answer: the addresses that may be connected to, or why none may. */
export type DestinationVerdict =
  | { allowed: true; addresses: string[] }
  | { allowed: false; code: DestinationRefusalCode; message: string; cause?: unknown };

export interface UrlGuardOptions {
  resolveHost: ResolveHost;
  allowedPrivateHosts: ReadonlySet<string>;
}

/**
 * The one egress guard, used at submit time and by the browser's egress proxy for every request.
 * The port must be 80, 443 or an unrestricted one from 1024 up; the host must not be a local-only
 * name; it is resolved once (literals need no lookup) and every address must be public unicast, or
 * listed in ALLOW_PRIVATE_HOSTS (as address or address:port). A host listed in ALLOW_PRIVATE_HOSTS
 * by the name used passes whatever its port and addresses. The returned addresses are the only ones
 * a caller may connect to: resolving again would let DNS rebinding swap them.
 */
export async function vetDestination(
  destination: Destination,
  options: UrlGuardOptions,
): Promise<DestinationVerdict> {
  const { hostname, port } = destination;
  const allowed = options.allowedPrivateHosts;
  const byName = isAllowlisted(hostname, port, allowed);
  const literal = literalAddress(hostname);
  if (!byName && !isAllowedPort(port)) {
    return {
      allowed: false,
      code: "port_not_allowed",
      message: `Port ${port} cannot be archived; use 80, 443 or a port from 1024 up.`,
    };
  }
  if (!byName && literal === undefined && LOCAL_NAME.test(hostKey(hostname))) {
    return {
      allowed: false,
      code: "private_address",
      message: `The host ${hostname} names a local network, which cannot be archived. ${allowHint(hostname, port)}`,
    };
  }
  let addresses: string[];
  if (literal !== undefined) {
    addresses = [literal];
  } else {
    try {
      addresses = await options.resolveHost(hostname);
    } catch (cause) {
      return {
        allowed: false,
        code: "unresolvable_host",
        message: `The host ${hostname} could not be resolved.`,
        cause,
      };
    }
    if (addresses.length === 0) {
      return { allowed: false, code: "unresolvable_host", message: `The host ${hostname} has no addresses.` };
    }
  }
  if (!byName) {
    const forbidden = addresses.find(
      (address) => !isPublicAddress(address) && !isAllowlisted(addressKey(address), port, allowed),
    );
    if (forbidden !== undefined) {
      return {
        allowed: false,
        code: "private_address",
        message:
          literal === undefined
            ? `The host ${hostname} resolves to a private or reserved address, which cannot be archived. ${allowHint(hostname, port)}`
            : `The address ${hostname} is private or reserved, and cannot be archived. ${allowHint(hostname, port)}`,
      };
    }
  }
  return { allowed: true, addresses };
}

/**
 * The submit-time guard: syntax, scheme, credentials, length, then `vetDestination` (port, host
 * name, every resolved address). Returns the parsed URL; throws InvalidUrlError with a specific code.
 */
export async function checkSubmittedUrl(input: unknown, options: UrlGuardOptions): Promise<URL> {
  const url = parseSubmittedUrl(input);
  const destination = destinationOf(url);
  // Listed by name: nothing about its addresses would change the answer, so no lookup is needed.
  if (isAllowlisted(destination.hostname, destination.port, options.allowedPrivateHosts)) return url;
  const verdict = await vetDestination(destination, options);
  if (!verdict.allowed) {
    throw new InvalidUrlError(verdict.code, verdict.message, { cause: verdict.cause });
  }
  return url;
}
