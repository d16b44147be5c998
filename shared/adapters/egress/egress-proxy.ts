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
 * The rooms: `session.ts` (the listener and its routing), `session-ledger.ts` (connections, bytes,
 * refusals and failures), `guard.ts` (the decision and the connection to a checked address),
 * `http-forwarder.ts` (plain HTTP: where a request and its response pass), `tunnels.ts` (CONNECT
 * and upgrades), `proxy-messages.ts` (targets, headers and the proxy's own answers).
 *
 * Non-goals: caching, HTTP/2 towards the browser, proxy authentication (the listeners are on the
 * loopback interface and enforce the same guard for anyone who connects).
 */
import { lookup } from "node:dns/promises";
import { connect as netConnect } from "node:net";
import type { ResolveHost } from "../../ports.ts";
import { openEgressSession, type SessionSettings } from "./session.ts";
import type {
  ConnectToAddress,
  EgressBlock,
  EgressProxy,
  EgressProxyOptions,
  EgressSession,
} from "./types.ts";

const DEFAULT_MAX_BYTES = 100 * 1024 * 1024;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

const defaultResolveHost: ResolveHost = async (host) =>
  (await lookup(host.replace(/^\[|\]$/g, ""), { all: true, order: "ipv4first" })).map(
    (entry) => entry.address,
  );

const defaultConnect: ConnectToAddress = (address, port) => netConnect({ host: address, port });

/**
 * Creates the proxy. It listens only once a session is opened; `close()` closes every session.
 */
export function createEgressProxy(options: EgressProxyOptions = {}): EgressProxy {
  const recentBlocks: EgressBlock[] = [];
  const settings: SessionSettings = {
    allowedPrivateHosts: options.allowedPrivateHosts ?? new Set<string>(),
    resolveHost: options.resolveHost ?? defaultResolveHost,
    maxBytes: options.maxBytesPerSession ?? DEFAULT_MAX_BYTES,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    connect: options.connect ?? defaultConnect,
    log: options.logger,
    ownPorts: new Set<number>(),
    recentBlocks,
  };
  const sessions = new Set<EgressSession>();
  let closed = false;

  return {
    async openSession(sessionOptions = {}) {
      if (closed) throw new Error("The egress proxy is closed.");
      const session = await openEgressSession(settings, sessionOptions.denyAll ?? false, (done) =>
        sessions.delete(done),
      );
      sessions.add(session);
      return session;
    },
    recentBlocks,
    async close() {
      closed = true;
      await Promise.all([...sessions].map((session) => session.close()));
    },
  };
}
