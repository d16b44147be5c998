/**
 * The egress guard: whether a request of the browser may go where it asks, and if so a connection
 * to an address that was checked. The host is resolved once per session and every address vetted
 * with `vetDestination` (public unicast, or ALLOW_PRIVATE_HOSTS); only a checked IP literal is
 * ever connected to, so nothing resolves the name again behind the guard's back (DNS rebinding).
 * Whatever goes wrong is recorded in the session's ledger.
 */
import { isIP, type Socket } from "node:net";
import { type Destination, type UrlGuardOptions, vetDestination } from "../../domain/url.ts";
import type { ResolveHost } from "../../ports.ts";
import type { SessionLedger } from "./session-ledger.ts";
import type { ConnectToAddress, EgressRequestKind } from "./types.ts";

/** A connection to the destination, or the status and message to refuse the request with. */
export type Decision = { ok: true; socket: Socket } | { ok: false; status: number; message: string };

/** Vets a destination and connects to it. */
export type Decide = (kind: EgressRequestKind, destination: Destination, target: string) => Promise<Decision>;

/** What the HTTP forwarder and the tunnels need from their session. */
export interface SessionPassage {
  ledger: SessionLedger;
  decide: Decide;
}

export interface GuardOptions {
  /** Refuse everything: the browser-wide fallback outside any capture. */
  denyAll: boolean;
  allowedPrivateHosts: ReadonlySet<string>;
  resolveHost: ResolveHost;
  /** Ports the proxy listens on: an allowlisted loopback host must not lead back into it. */
  ownPorts: ReadonlySet<number>;
  connect: ConnectToAddress;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  ledger: SessionLedger;
}

/** The guard of one session (see the module's summary). */
export function createGuard(options: GuardOptions): Decide {
  const { denyAll, ownPorts, connect, connectTimeoutMs, idleTimeoutMs, ledger } = options;
  // One answer per host for the whole session: a page cannot get two different answers for the
  // same name, and a page with a hundred requests to one host costs one lookup.
  const resolutions = new Map<string, Promise<string[]>>();
  const guard: UrlGuardOptions = {
    allowedPrivateHosts: options.allowedPrivateHosts,
    resolveHost: (host) => {
      let answer = resolutions.get(host);
      if (!answer) {
        answer = options.resolveHost(host);
        answer.catch(() => {}); // observed by whoever awaits it
        resolutions.set(host, answer);
      }
      return answer;
    },
  };

  async function connectFirst(addresses: string[], port: number): Promise<Socket> {
    let lastError: unknown = new Error("No address to connect to.");
    for (const address of addresses) {
      // Only checked literals reach connect(): a name would be resolved again, behind the guard's back.
      if (isIP(address) === 0) continue;
      try {
        return await connectOne(address, port);
      } catch (err) {
        lastError = err;
        if (ledger.stopped) break;
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
      ledger.track(socket);
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

  return async (kind, destination, target) => {
    const { hostname: host, port } = destination;
    if (denyAll) {
      const reason = "Requests outside a capture are not allowed.";
      ledger.block({ kind, host, port, target, code: "outside_capture", reason });
      return { ok: false, status: 403, message: reason };
    }
    const verdict = await vetDestination(destination, guard);
    if (!verdict.allowed) {
      if (verdict.code === "unresolvable_host") {
        ledger.fail({ kind, host, port, target, code: "dns_failure" });
        return { ok: false, status: 502, message: verdict.message };
      }
      ledger.block({ kind, host, port, target, code: verdict.code, reason: verdict.message });
      return { ok: false, status: 403, message: verdict.message };
    }
    if (ownPorts.has(port) && verdict.addresses.some(isLocalAddress)) {
      const reason = "The proxy does not connect to itself.";
      ledger.block({ kind, host, port, target, code: "proxy_loop", reason });
      return { ok: false, status: 403, message: reason };
    }
    try {
      const socket = await connectFirst(verdict.addresses, port);
      // Where the connection went, for the evidence's provenance (WARC-IP-Address); read-only.
      if (socket.remoteAddress) ledger.connected(host, port, socket.remoteAddress);
      return { ok: true, socket };
    } catch (err) {
      const timedOut = (err as { code?: unknown }).code === "ETIMEDOUT";
      ledger.fail({ kind, host, port, target, code: timedOut ? "timeout" : "connection_failed" });
      return { ok: false, status: timedOut ? 504 : 502, message: `${host} could not be reached.` };
    }
  };
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
