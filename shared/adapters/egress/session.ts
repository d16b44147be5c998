/**
 * One egress session: a listener of its own on 127.0.0.1 (its own port) for one browser context,
 * so that the bytes, blocks and failures of one capture are never mixed with another's, with no
 * credentials and no request interception in the browser. It routes what arrives to the HTTP
 * forwarder and the tunnels, each through the session's guard, and keeps the session's ledger.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Logger } from "../../logger.ts";
import type { ResolveHost } from "../../ports.ts";
import { createGuard, type SessionPassage } from "./guard.ts";
import { handleHttpRequest } from "./http-forwarder.ts";
import { answer } from "./proxy-messages.ts";
import { createSessionLedger } from "./session-ledger.ts";
import { handleConnect, handleUpgrade } from "./tunnels.ts";
import type { ConnectToAddress, EgressBlock, EgressSession } from "./types.ts";

/** What every session of one proxy shares. */
export interface SessionSettings {
  allowedPrivateHosts: ReadonlySet<string>;
  resolveHost: ResolveHost;
  maxBytes: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  connect: ConnectToAddress;
  log: Logger | undefined;
  /** Ports the proxy listens on; a session adds its own and removes it when it closes. */
  ownPorts: Set<number>;
  /** The proxy-wide list of recent refusals. */
  recentBlocks: EgressBlock[];
}

/** Opens a session; `onClosed` runs once it has closed. With `denyAll`, it refuses every request. */
export async function openEgressSession(
  settings: SessionSettings,
  denyAll: boolean,
  onClosed: (session: EgressSession) => void,
): Promise<EgressSession> {
  const { log, ownPorts } = settings;
  const ledger = createSessionLedger({
    maxBytes: settings.maxBytes,
    recentBlocks: settings.recentBlocks,
    log,
  });
  const passage: SessionPassage = {
    ledger,
    decide: createGuard({ ...settings, denyAll, ledger }),
  };

  const server = createServer();
  server.on("connection", (socket: Socket) => ledger.track(socket));
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    handleHttpRequest(req, res, passage).catch((err: unknown) => {
      log?.error("egress proxy request failed", { err });
      answer(res, 502, "The proxy failed.");
    });
  });
  server.on("connect", (req: IncomingMessage, client: Duplex, head: Buffer) => {
    handleConnect(req, client, head, passage).catch((err: unknown) => {
      log?.error("egress proxy tunnel failed", { err });
      client.destroy();
    });
  });
  server.on("upgrade", (req: IncomingMessage, client: Duplex, head: Buffer) => {
    handleUpgrade(req, client, head, passage).catch((err: unknown) => {
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

  let closing: Promise<void> | undefined;
  const session: EgressSession = {
    proxyUrl: `http://127.0.0.1:${port}`,
    blocks: ledger.blocks,
    failures: ledger.failures,
    get bytes() {
      return ledger.bytes;
    },
    maxBytes: ledger.maxBytes,
    get exceeded() {
      return ledger.exceeded;
    },
    blockFor: (url) => ledger.blockFor(url),
    failureFor: (url) => ledger.failureFor(url),
    addressesFor: (url) => ledger.addressesFor(url),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        ledger.shutDown();
        server.closeAllConnections();
      }).finally(() => {
        ownPorts.delete(port);
        onClosed(session);
      });
      return closing;
    },
  };
  return session;
}
