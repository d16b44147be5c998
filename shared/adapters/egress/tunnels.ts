/**
 * Connections the proxy passes through as bytes once the guard has let them: CONNECT tunnels
 * (HTTPS, WSS, and WS as Chromium sends it) and plain `ws:` upgrades. It never looks inside a
 * tunnel; every byte either way is counted against the session's budget.
 */
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { destinationOf } from "../../domain/url.ts";
import type { SessionPassage } from "./guard.ts";
import { forwardedHeaders, parseAbsoluteUrl, parseAuthority, reply } from "./proxy-messages.ts";
import type { SessionLedger } from "./session-ledger.ts";

/** Handles a CONNECT request: a tunnel to a checked address, or the refusal. */
export async function handleConnect(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  { ledger, decide }: SessionPassage,
): Promise<void> {
  ledger.track(client);
  client.on("error", () => client.destroy());
  const destination = parseAuthority(req.url);
  if (!destination) {
    const reason = "CONNECT needs a host:port.";
    ledger.refuseMalformed("connect", req.url, reason);
    return reply(client, 400, reason);
  }
  const target = `${destination.hostname}:${destination.port}`;
  const decision = await decide("connect", destination, target);
  if (!decision.ok) return reply(client, decision.status, decision.message);
  const upstream = decision.socket;
  if (client.destroyed) {
    upstream.destroy();
    return;
  }
  client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
  if (head.length > 0) {
    ledger.account(head.length);
    upstream.write(head);
  }
  tunnel(client, upstream, ledger);
}

/** Handles a WebSocket upgrade to an absolute `http:`/`ws:` URL: the handshake is passed on, then bytes. */
export async function handleUpgrade(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  { ledger, decide }: SessionPassage,
): Promise<void> {
  ledger.track(client);
  client.on("error", () => client.destroy());
  const url = parseAbsoluteUrl(req.url, ["http:", "ws:"]);
  if (!url || req.headers.upgrade?.toLowerCase() !== "websocket") {
    const reason = "Only WebSocket upgrades to absolute http:// or ws:// URLs are proxied.";
    ledger.refuseMalformed("upgrade", req.url, reason);
    return reply(client, 400, reason);
  }
  const decision = await decide("upgrade", destinationOf(url), url.href);
  if (!decision.ok) return reply(client, decision.status, decision.message);
  const upstream = decision.socket;
  if (client.destroyed) {
    upstream.destroy();
    return;
  }
  const headers = forwardedHeaders(req.rawHeaders, url.host, true);
  const lines = [`${req.method} ${url.pathname}${url.search} HTTP/1.1`];
  for (let i = 0; i + 1 < headers.length; i += 2) lines.push(`${headers[i]}: ${headers[i + 1]}`);
  const requestHead = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
  ledger.account(requestHead.length + head.length);
  upstream.write(requestHead);
  if (head.length > 0) upstream.write(head);
  tunnel(client, upstream, ledger);
}

/** Pipes two sockets into each other, counting every byte, until either end goes. */
function tunnel(client: Duplex, upstream: Socket, ledger: SessionLedger): void {
  const end = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("data", (chunk: Buffer) => ledger.account(chunk.length));
  upstream.on("data", (chunk: Buffer) => ledger.account(chunk.length));
  client.on("error", end);
  upstream.on("error", end);
  client.on("close", end);
  upstream.on("close", end);
  client.pipe(upstream);
  upstream.pipe(client);
}
