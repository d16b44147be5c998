/** Binding the runner's API port, with a one-line answer when it is taken. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { PalimpsestError } from "../shared/errors.ts";

/** The port is taken by another program. */
export class PortInUseError extends PalimpsestError {
  /**
   * `variable` is the setting that chooses this port (the API's PORT, the replay server's
   * REPLAY_PORT); `suggestion` a port to offer instead, free when it was checked.
   */
  constructor(
    port: number,
    options?: { cause?: unknown; variable?: string; suggestion?: number; needsNext?: boolean },
  ) {
    const variable = options?.variable ?? "PORT";
    const needs = options?.needsNext
      ? ` (the runner needs ${variable} and ${variable}+1, for its replay origin)`
      : "";
    super(
      "port_in_use",
      `Port ${port} on 127.0.0.1 is already in use: stop what uses it, or choose another${needs}: ${variable}=${options?.suggestion ?? port + 1} npm start.`,
      options,
    );
  }
}

/** Whether 127.0.0.1:`port` can be bound now. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

/** The first port after `port` that is free, and whose next one is free too when `needsNext`. */
export async function suggestFreePort(port: number, needsNext: boolean): Promise<number | undefined> {
  for (
    let candidate = port + 1;
    candidate + (needsNext ? 1 : 0) <= 65_535 && candidate <= port + 100;
    candidate++
  ) {
    if ((await isFree(candidate)) && (!needsNext || (await isFree(candidate + 1)))) return candidate;
  }
  return undefined;
}

/**
 * Listens on 127.0.0.1:`port` (0 for any free port) and resolves with the port bound. `needsNext`:
 * the port after this one is wanted too (the replay origin's default), so a port suggested
 * instead of a busy one has a free next port as well.
 */
export function listenOnLoopback(
  server: Server,
  port: number,
  variable = "PORT",
  needsNext = false,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      if (err.code !== "EADDRINUSE") return reject(err);
      suggestFreePort(port, needsNext).then(
        (suggestion) =>
          reject(
            new PortInUseError(port, {
              cause: err,
              variable,
              needsNext,
              ...(suggestion !== undefined ? { suggestion } : {}),
            }),
          ),
        reject,
      );
    };
    const onListening = () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, "127.0.0.1");
  });
}
