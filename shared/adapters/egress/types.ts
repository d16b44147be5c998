/**
 * The egress proxy's public shapes: its options, its sessions and what a session records about
 * the requests it refused or could not complete. See `egress-proxy.ts` for how it works.
 */
import type { Socket } from "node:net";
import type { Logger } from "../../logger.ts";
import type { ResolveHost } from "../../ports.ts";

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
  /**
   * The addresses the proxy connected to for this URL's host and port (the checked literals, in
   * the order first used): where the browser's requests really went, since the browser itself
   * only ever sees the proxy.
   */
  addressesFor(url: string): readonly string[];
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
