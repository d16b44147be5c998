/**
 * The capture browser's egress proxy: an in-process HTTP proxy on 127.0.0.1 that every request of
 * the browser goes through — navigations and each redirect hop, subresources, iframes, fetch/XHR,
 * WebSockets, beacons, prefetches — so that each one passes the same guard as a submitted URL.
 *
 * For every request it resolves the host once, checks every address with `vetDestination`
 * (public unicast, or ALLOW_PRIVATE_HOSTS), and connects only to an address it checked: the name is
 * never handed to anything that could resolve it again, which is what defeats DNS rebinding. A
 * refused destination gets `403` (CONNECT included) and is recorded, so the capturer can tell a
 * blocked navigation from other failures; a host that does not resolve or answer gets `502`/`504`
 * and is recorded too.
 *
 * It speaks absolute-form HTTP (`GET http://host/path`), CONNECT tunnels (HTTPS, WSS, and WS as
 * Chromium sends it) and plain `ws:` upgrades. It never looks inside a tunnel.
 *
 * Accounting is per session: each browser context gets a listener of its own (its own port), so the
 * bytes, blocks and failures of one capture are never mixed with another's, with no credentials and
 * no request interception in the browser. A session over its byte budget is cut off whole.
 *
 * Non-goals: caching, HTTP/2 towards the browser, proxy authentication (the listeners are on the
 * loopback interface and enforce the same guard for anyone who connects).
 */
import { lookup } from "node:dns/promises";
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { type AddressInfo, isIP, connect as netConnect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type Destination, destinationOf, type UrlGuardOptions, vetDestination } from "../domain/url.ts";
import type { Logger } from "../logger.ts";
import type { ResolveHost } from "../ports.ts";

/** Opens a TCP connection to an IP address (never a name). */
export type ConnectToAddress = (address: string, port: number) => Socket;

export interface EgressProxyOptions {
  /**
   * Hosts and addresses let through although they are private (`ALLOW_PRIVATE_HOSTS`, parsed with
   * `parseAllowedPrivateHosts`).
   * @default none
   */
  allowedPrivateHosts?: ReadonlySet<string>;
  /**
   * Resolves a host name; called once per host per session.
   * @default `dns.lookup` with `all: true`, in the resolver's order
   */
  resolveHost?: ResolveHost;
  /**
   * Bytes one session (one capture) may move through the proxy, both directions, bodies and tunnel
   * traffic counted. Past it every connection of the session is cut and `exceeded` is set.
   * @default 100 MiB
   */
  maxBytesPerSession?: number;
  /** @default 10000 */
  connectTimeoutMs?: number;
  /** A connection with no traffic in either direction for this long is closed. @default 30000 */
  idleTimeoutMs?: number;
  /**
   * Opens the outgoing connections. Tests inject one that refuses anything but loopback.
   * @default `net.connect`
   */
  connect?: ConnectToAddress;
  logger?: Logger;
}

export type EgressRequestKind = "http" | "connect" | "upgrade";

/** A request the proxy refused. */
export interface EgressBlock {
  kind: EgressRequestKind;
  /** The host as the URL parser canonicalises it (IPv6 in brackets). */
  host: string;
  port: number;
  /** The absolute URL (http, upgrade) or `host:port` (CONNECT). */
  target: string;
  code: "private_address" | "port_not_allowed" | "proxy_loop" | "outside_capture" | "bad_request";
  reason: string;
}

/** A request the proxy let through but could not complete. */
export interface EgressFailure {
  kind: EgressRequestKind;
  host: string;
  port: number;
  target: string;
  code: "dns_failure" | "connection_failed" | "timeout";
}

export interface EgressSession {
  /** `http://127.0.0.1:<port>`, for the browser context's proxy setting. */
  readonly proxyUrl: string;
  /** Refused requests, oldest first (the first 500). */
  readonly blocks: readonly EgressBlock[];
  /** Requests that were allowed but failed upstream, oldest first (the first 500). */
  readonly failures: readonly EgressFailure[];
  /** Bytes moved so far. */
  readonly bytes: number;
  readonly maxBytes: number;
  /** Whether the session went over `maxBytes` (and was cut off). */
  readonly exceeded: boolean;
  /** The refusal of a request for this URL's host and port, if the proxy refused one. */
  blockFor(url: string): EgressBlock | undefined;
  /** The latest upstream failure for this URL's host and port, if any. */
  failureFor(url: string): EgressFailure | undefined;
  /** Stops listening and cuts every connection. Idempotent. */
  close(): Promise<void>;
}

export interface EgressProxy {
  /**
   * Opens a session: a listener on a port of its own. With `denyAll`, every request is refused
   * (the browser-wide fallback for anything outside a capture's context).
   */
  openSession(options?: { denyAll?: boolean }): Promise<EgressSession>;
  /** The latest refusals across all sessions, oldest first (the last 200): for logs and tests. */
  readonly recentBlocks: readonly EgressBlock[];
  /** Closes every session. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_MAX_BYTES = 100 * 1024 * 1024;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const SESSION_LOG_LIMIT = 500;
const RECENT_BLOCKS_LIMIT = 200;

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

const defaultResolveHost: ResolveHost = async (host) =>
  (await lookup(host.replace(/^\[|\]$/g, ""), { all: true, order: "ipv4first" })).map(
    (entry) => entry.address,
  );

const defaultConnect: ConnectToAddress = (address, port) => netConnect({ host: address, port });

export function createEgressProxy(options: EgressProxyOptions = {}): EgressProxy {
  const allowedPrivateHosts = options.allowedPrivateHosts ?? new Set<string>();
  const resolveHost = options.resolveHost ?? defaultResolveHost;
  const maxBytes = options.maxBytesPerSession ?? DEFAULT_MAX_BYTES;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const connect = options.connect ?? defaultConnect;
  const log = options.logger;
  const sessions = new Set<EgressSession>();
  /** Ports the proxy listens on: an allowlisted loopback host must not lead back into it. */
  const ownPorts = new Set<number>();
  const recentBlocks: EgressBlock[] = [];
  let closed = false;

  async function openSession(sessionOptions: { denyAll?: boolean } = {}): Promise<EgressSession> {
    if (closed) throw new Error("The egress proxy is closed.");
    const denyAll = sessionOptions.denyAll ?? false;
    const blocks: EgressBlock[] = [];
    const failures: EgressFailure[] = [];
    // By host:port, unbounded by the log limits: a page that floods the log with refused embeds
    // must not hide a refused navigation that comes after them.
    const blockByAuthority = new Map<string, EgressBlock>();
    const failureByAuthority = new Map<string, EgressFailure>();
    const sockets = new Set<Duplex>();
    // One answer per host for the whole session: a page cannot get two different answers for the
    // same name, and a page with a hundred requests to one host costs one lookup.
    const resolutions = new Map<string, Promise<string[]>>();
    const guard: UrlGuardOptions = {
      allowedPrivateHosts,
      resolveHost: (host) => {
        let answer = resolutions.get(host);
        if (!answer) {
          answer = resolveHost(host);
          answer.catch(() => {}); // observed by whoever awaits it
          resolutions.set(host, answer);
        }
        return answer;
      },
    };
    let bytes = 0;
    let exceeded = false;
    let closing: Promise<void> | undefined;

    const track = (socket: Duplex) => {
      if (exceeded || closing) {
        socket.destroy();
        return;
      }
      // A kept-alive connection carries many requests: one close listener for all of them.
      if (sockets.has(socket)) return;
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    };

    const account = (count: number) => {
      bytes += count;
      if (exceeded || bytes <= maxBytes) return;
      exceeded = true;
      log?.warn("capture went over its byte budget; cutting it off", { bytes, maxBytes });
      for (const socket of sockets) socket.destroy();
    };

    const block = (entry: EgressBlock) => {
      if (blocks.length < SESSION_LOG_LIMIT) blocks.push(entry);
      recentBlocks.push(entry);
      if (recentBlocks.length > RECENT_BLOCKS_LIMIT) recentBlocks.shift();
      const authority = `${entry.host}:${entry.port}`;
      if (blockByAuthority.has(authority)) return; // logged once per host:port and session
      blockByAuthority.set(authority, entry);
      log?.warn("egress refused", { kind: entry.kind, host: entry.host, port: entry.port, code: entry.code });
    };

    /** A request that names no destination this proxy could vet: refused and logged as such. */
    const refuseMalformed = (kind: EgressBlock["kind"], target: string | undefined, reason: string) =>
      block({ kind, host: "", port: 0, target: String(target).slice(0, 200), code: "bad_request", reason });

    const fail = (entry: EgressFailure) => {
      if (failures.length < SESSION_LOG_LIMIT) failures.push(entry);
      failureByAuthority.set(`${entry.host}:${entry.port}`, entry);
      log?.debug("egress failed", { kind: entry.kind, host: entry.host, port: entry.port, code: entry.code });
    };

    type Decision = { ok: true; socket: Socket } | { ok: false; status: number; message: string };

    /** The guard, then a connection to a checked address; records whatever goes wrong. */
    async function decide(
      kind: EgressRequestKind,
      destination: Destination,
      target: string,
    ): Promise<Decision> {
      const { hostname: host, port } = destination;
      if (denyAll) {
        const reason = "Requests outside a capture are not allowed.";
        block({ kind, host, port, target, code: "outside_capture", reason });
        return { ok: false, status: 403, message: reason };
      }
      const verdict = await vetDestination(destination, guard);
      if (!verdict.allowed) {
        if (verdict.code === "unresolvable_host") {
          fail({ kind, host, port, target, code: "dns_failure" });
          return { ok: false, status: 502, message: verdict.message };
        }
        block({ kind, host, port, target, code: verdict.code, reason: verdict.message });
        return { ok: false, status: 403, message: verdict.message };
      }
      if (ownPorts.has(port) && verdict.addresses.some(isLocalAddress)) {
        const reason = "The proxy does not connect to itself.";
        block({ kind, host, port, target, code: "proxy_loop", reason });
        return { ok: false, status: 403, message: reason };
      }
      try {
        return { ok: true, socket: await connectFirst(verdict.addresses, port) };
      } catch (err) {
        const timedOut = (err as { code?: unknown }).code === "ETIMEDOUT";
        fail({ kind, host, port, target, code: timedOut ? "timeout" : "connection_failed" });
        return {
          ok: false,
          status: timedOut ? 504 : 502,
          message: `${host} could not be reached.`,
        };
      }
    }

    async function connectFirst(addresses: string[], port: number): Promise<Socket> {
      let lastError: unknown = new Error("No address to connect to.");
      for (const address of addresses) {
        // Only checked literals reach connect(): a name would be resolved again, behind the guard's back.
        if (isIP(address) === 0) continue;
        try {
          return await connectOne(address, port);
        } catch (err) {
          lastError = err;
          if (exceeded || closing) break;
        }
      }
      throw lastError;
    }

    function connectOne(address: string, port: number): Promise<Socket> {
      return new Promise<Socket>((resolve, reject) => {
        let socket: Socket;
        try {
          socket = connect(address, port);
        } catch (err) {
          reject(err);
          return;
        }
        track(socket);
        const timer = setTimeout(() => {
          socket.destroy();
          reject(
            Object.assign(new Error(`Connecting to ${address}:${port} timed out.`), { code: "ETIMEDOUT" }),
          );
        }, connectTimeoutMs);
        const onError = (err: Error) => {
          clearTimeout(timer);
          socket.destroy();
          reject(err);
        };
        const onClose = () => onError(new Error("The connection closed before it was established."));
        socket.once("error", onError);
        socket.once("close", onClose);
        socket.once("connect", () => {
          clearTimeout(timer);
          socket.off("error", onError);
          socket.off("close", onClose);
          socket.setTimeout(idleTimeoutMs, () =>
            socket.destroy(Object.assign(new Error("The connection went idle."), { code: "ETIMEDOUT" })),
          );
          resolve(socket);
        });
      });
    }

    /** Pipes two sockets into each other, counting every byte, until either end goes. */
    function tunnel(client: Duplex, upstream: Socket): void {
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on("data", (chunk: Buffer) => account(chunk.length));
      upstream.on("data", (chunk: Buffer) => account(chunk.length));
      client.on("error", end);
      upstream.on("error", end);
      client.on("close", end);
      upstream.on("close", end);
      client.pipe(upstream);
      upstream.pipe(client);
    }

    async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
      track(res.socket ?? req.socket);
      const url = parseAbsoluteUrl(req.url, ["http:"]);
      if (!url) {
        const reason = "Only absolute http:// URLs can be requested through this proxy.";
        refuseMalformed("http", req.url, reason);
        return answer(res, 400, reason);
      }
      const decision = await decide("http", destinationOf(url), url.href);
      if (!decision.ok) return answer(res, decision.status, decision.message);
      const upstreamSocket = decision.socket;
      if (res.destroyed || res.writableEnded) {
        upstreamSocket.destroy();
        return;
      }
      const upstream = httpRequest({
        createConnection: () => upstreamSocket,
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers: forwardedHeaders(req.rawHeaders, url.host, false),
        setHost: false,
      });
      upstream.on("response", (upstreamRes) => {
        res.writeHead(
          upstreamRes.statusCode ?? 502,
          upstreamRes.statusMessage,
          forwardedHeaders(upstreamRes.rawHeaders, undefined, false),
        );
        upstreamRes.on("data", (chunk: Buffer) => account(chunk.length));
        upstreamRes.on("error", () => res.destroy());
        upstreamRes.pipe(res);
      });
      upstream.on("error", (err) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const host = url.hostname;
        const port = destinationOf(url).port;
        const timedOut = (err as { code?: unknown }).code === "ETIMEDOUT";
        fail({
          kind: "http",
          host,
          port,
          target: url.href,
          code: timedOut ? "timeout" : "connection_failed",
        });
        answer(res, timedOut ? 504 : 502, `${host} did not answer.`);
      });
      res.on("close", () => {
        if (!res.writableFinished) upstream.destroy();
      });
      req.on("data", (chunk: Buffer) => account(chunk.length));
      req.pipe(upstream);
    }

    async function handleConnect(req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
      track(client);
      client.on("error", () => client.destroy());
      const destination = parseAuthority(req.url);
      if (!destination) {
        const reason = "CONNECT needs a host:port.";
        refuseMalformed("connect", req.url, reason);
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
        account(head.length);
        upstream.write(head);
      }
      tunnel(client, upstream);
    }

    async function handleUpgrade(req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
      track(client);
      client.on("error", () => client.destroy());
      const url = parseAbsoluteUrl(req.url, ["http:", "ws:"]);
      if (!url || req.headers.upgrade?.toLowerCase() !== "websocket") {
        const reason = "Only WebSocket upgrades to absolute http:// or ws:// URLs are proxied.";
        refuseMalformed("upgrade", req.url, reason);
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
      account(requestHead.length + head.length);
      upstream.write(requestHead);
      if (head.length > 0) upstream.write(head);
      tunnel(client, upstream);
    }

    const server = createServer();
    server.on("connection", (socket: Socket) => track(socket));
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      handleHttp(req, res).catch((err: unknown) => {
        log?.error("egress proxy request failed", { err });
        answer(res, 502, "The proxy failed.");
      });
    });
    server.on("connect", (req: IncomingMessage, client: Duplex, head: Buffer) => {
      handleConnect(req, client, head).catch((err: unknown) => {
        log?.error("egress proxy tunnel failed", { err });
        client.destroy();
      });
    });
    server.on("upgrade", (req: IncomingMessage, client: Duplex, head: Buffer) => {
      handleUpgrade(req, client, head).catch((err: unknown) => {
        log?.error("egress proxy upgrade failed", { err });
        client.destroy();
      });
    });
    server.on("clientError", (_err, socket: Duplex) => socket.destroy());

    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    ownPorts.add(port);

    const authorityOf = (url: string) => {
      try {
        const { hostname, port } = destinationOf(new URL(url));
        return `${hostname}:${port}`;
      } catch {
        return "";
      }
    };

    const session: EgressSession = {
      proxyUrl: `http://127.0.0.1:${port}`,
      blocks,
      failures,
      get bytes() {
        return bytes;
      },
      maxBytes,
      get exceeded() {
        return exceeded;
      },
      blockFor: (url) => blockByAuthority.get(authorityOf(url)),
      failureFor: (url) => failureByAuthority.get(authorityOf(url)),
      close() {
        closing ??= new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const socket of sockets) socket.destroy();
          server.closeAllConnections();
        }).finally(() => {
          ownPorts.delete(port);
          sessions.delete(session);
        });
        return closing;
      },
    };
    sessions.add(session);
    return session;
  }

  return {
    openSession,
    recentBlocks,
    async close() {
      closed = true;
      await Promise.all([...sessions].map((session) => session.close()));
    },
  };
}

function parseAbsoluteUrl(raw: string | undefined, protocols: string[]): URL | undefined {
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
function parseAuthority(raw: string | undefined): Destination | undefined {
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
function forwardedHeaders(raw: string[], host: string | undefined, upgrade: boolean): string[] {
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

/** Addresses that reach this machine. */
function isLocalAddress(address: string): boolean {
  const lower = address.toLowerCase();
  return (
    lower.startsWith("127.") ||
    lower.startsWith("::ffff:127.") ||
    lower === "::1" ||
    lower === "0.0.0.0" ||
    lower === "::" ||
    lower === "localhost"
  );
}

function answer(res: ServerResponse, status: number, message: string): void {
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

function reply(client: Duplex, status: number, message: string): void {
  if (client.destroyed) return;
  const reason =
    { 400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway", 504: "Gateway Timeout" }[status] ?? "Error";
  const body = `${message}\n`;
  client.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
