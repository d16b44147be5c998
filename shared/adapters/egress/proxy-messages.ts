/**
 * The proxy's side of HTTP/1.1: reading the targets clients ask for (absolute-form URLs, CONNECT
 * authorities), the headers that may cross the proxy, and its own short answers.
 */
import type { ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Destination } from "../../domain/url.ts";

/** Headers that describe one hop, not the message (RFC 9110 §7.6.1), plus the proxy's own. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "proxy-authenticate",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** An absolute-form request target with one of `protocols` and no credentials, or undefined. */
export function parseAbsoluteUrl(raw: string | undefined, protocols: string[]): URL | undefined {
  if (!raw || !/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) return undefined;
  try {
    const url = new URL(raw);
    if (!protocols.includes(url.protocol) || url.username !== "" || url.password !== "") return undefined;
    return url;
  } catch {
    return undefined;
  }
}

/** A CONNECT target, `host:port` with the port required; the host canonicalised like a URL's. */
export function parseAuthority(raw: string | undefined): Destination | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:/?#@[\]\\]+):(\d{1,5})$/.exec(raw ?? "");
  if (!match?.[1] || !match[2]) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  try {
    return { hostname: new URL(`http://${match[1]}/`).hostname, port };
  } catch {
    return undefined;
  }
}

/**
 * Raw headers minus the hop-by-hop ones (and any the Connection header names), with Host set to
 * the URL's authority when given. An upgrade keeps its Connection and Upgrade headers.
 */
export function forwardedHeaders(raw: string[], host: string | undefined, upgrade: boolean): string[] {
  const named = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() === "connection") {
      for (const token of (raw[i + 1] ?? "").split(",")) named.add(token.trim().toLowerCase());
    }
  }
  const kept: string[] = host === undefined ? [] : ["Host", host];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? "";
    const lower = name.toLowerCase();
    if (host !== undefined && lower === "host") continue;
    if (upgrade && (lower === "connection" || lower === "upgrade")) {
      kept.push(name, raw[i + 1] ?? "");
      continue;
    }
    if (HOP_BY_HOP.has(lower) || named.has(lower)) continue;
    kept.push(name, raw[i + 1] ?? "");
  }
  return kept;
}

/** The proxy's own plain-text answer to a request (or a cut connection once a response began). */
export function answer(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = Buffer.from(`${message}\n`);
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": String(body.length),
    "cache-control": "no-store",
  });
  res.end(body);
}

/** The same on a raw connection (CONNECT, upgrades), which it then closes. */
export function reply(client: Duplex, status: number, message: string): void {
  if (client.destroyed) return;
  const reason =
    { 400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway", 504: "Gateway Timeout" }[status] ?? "Error";
  const body = `${message}\n`;
  client.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
