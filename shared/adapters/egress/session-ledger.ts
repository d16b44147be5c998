/**
 * What one egress session knows about its traffic: the connections it holds open, the bytes they
 * moved against the session's budget, and the requests it refused or could not complete. The
 * guard, the HTTP forwarder and the tunnels report here; the capturer reads the result through
 * the session.
 */
import type { Duplex } from "node:stream";
import { destinationOf } from "../../domain/url.ts";
import type { Logger } from "../../logger.ts";
import type { EgressBlock, EgressFailure, EgressRequestKind } from "./types.ts";

/** How many blocks and failures a session keeps in order; the by-authority lookups keep all. */
const SESSION_LOG_LIMIT = 500;
/** How many refusals the proxy keeps across sessions. */
export const RECENT_BLOCKS_LIMIT = 200;

export interface SessionLedger {
  readonly blocks: readonly EgressBlock[];
  readonly failures: readonly EgressFailure[];
  readonly bytes: number;
  readonly maxBytes: number;
  readonly exceeded: boolean;
  /** Over budget or closing: no new connection is worth making. */
  readonly stopped: boolean;
  /** Holds a connection so that going over budget or closing cuts it; a stopped session cuts it now. */
  track(socket: Duplex): void;
  /** Counts bytes moved; past the budget, cuts every connection of the session. */
  account(bytes: number): void;
  /** Records a refusal (logged once per host:port). */
  block(entry: EgressBlock): void;
  /** A request that names no destination this proxy could vet: refused and logged as such. */
  refuseMalformed(kind: EgressRequestKind, target: string | undefined, reason: string): void;
  /** Records a request that was let through but failed upstream. */
  fail(entry: EgressFailure): void;
  blockFor(url: string): EgressBlock | undefined;
  failureFor(url: string): EgressFailure | undefined;
  /** Records the address a connection to `host:port` went to (after the guard let it through). */
  connected(host: string, port: number, address: string): void;
  /** The addresses connections to this URL's host and port went to, first first. */
  addressesFor(url: string): readonly string[];
  /** Stops accepting connections and cuts the open ones. */
  shutDown(): void;
}

/** A ledger for one session, over a budget of `maxBytes`. */
export function createSessionLedger(options: {
  maxBytes: number;
  /** The proxy-wide list of recent refusals, appended to. */
  recentBlocks: EgressBlock[];
  log: Logger | undefined;
}): SessionLedger {
  const { maxBytes, recentBlocks, log } = options;
  const blocks: EgressBlock[] = [];
  const failures: EgressFailure[] = [];
  // By host:port, unbounded by the log limits: a page that floods the log with refused embeds
  // must not hide a refused navigation that comes after them.
  const blockByAuthority = new Map<string, EgressBlock>();
  const failureByAuthority = new Map<string, EgressFailure>();
  const sockets = new Set<Duplex>();
  const addressesByAuthority = new Map<string, string[]>();
  let bytes = 0;
  let exceeded = false;
  let closing = false;

  const block = (entry: EgressBlock) => {
    if (blocks.length < SESSION_LOG_LIMIT) blocks.push(entry);
    recentBlocks.push(entry);
    if (recentBlocks.length > RECENT_BLOCKS_LIMIT) recentBlocks.shift();
    const authority = `${entry.host}:${entry.port}`;
    if (blockByAuthority.has(authority)) return; // logged once per host:port and session
    blockByAuthority.set(authority, entry);
    log?.warn("egress refused", { kind: entry.kind, host: entry.host, port: entry.port, code: entry.code });
  };

  return {
    blocks,
    failures,
    get bytes() {
      return bytes;
    },
    maxBytes,
    get exceeded() {
      return exceeded;
    },
    get stopped() {
      return exceeded || closing;
    },
    track(socket) {
      if (exceeded || closing) {
        socket.destroy();
        return;
      }
      // A kept-alive connection carries many requests: one close listener for all of them.
      if (sockets.has(socket)) return;
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    },
    account(count) {
      bytes += count;
      if (exceeded || bytes <= maxBytes) return;
      exceeded = true;
      log?.warn("capture went over its byte budget; cutting it off", { bytes, maxBytes });
      for (const socket of sockets) socket.destroy();
    },
    block,
    refuseMalformed: (kind, target, reason) =>
      block({ kind, host: "", port: 0, target: String(target).slice(0, 200), code: "bad_request", reason }),
    fail(entry) {
      if (failures.length < SESSION_LOG_LIMIT) failures.push(entry);
      failureByAuthority.set(`${entry.host}:${entry.port}`, entry);
      log?.debug("egress failed", { kind: entry.kind, host: entry.host, port: entry.port, code: entry.code });
    },
    connected(host, port, address) {
      const authority = `${host}:${port}`;
      const addresses = addressesByAuthority.get(authority) ?? [];
      if (!addresses.includes(address)) addresses.push(address);
      addressesByAuthority.set(authority, addresses);
    },
    addressesFor: (url) => addressesByAuthority.get(authorityOf(url)) ?? [],
    blockFor: (url) => blockByAuthority.get(authorityOf(url)),
    failureFor: (url) => failureByAuthority.get(authorityOf(url)),
    shutDown() {
      closing = true;
      for (const socket of sockets) socket.destroy();
    },
  };
}

function authorityOf(url: string): string {
  try {
    const { hostname, port } = destinationOf(new URL(url));
    return `${hostname}:${port}`;
  } catch {
    return "";
  }
}
