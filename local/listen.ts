/** Binding the runner's API port, with a one-line answer when it is taken. */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { PalimpsestError } from "../shared/errors.ts";

/** The port is taken by another program. */
export class PortInUseError extends PalimpsestError {
  /** `variable` is the setting that chooses this port (the API's PORT, the replay server's REPLAY_PORT). */
  constructor(port: number, options?: { cause?: unknown; variable?: string }) {
    super(
      "port_in_use",
      `Port ${port} on 127.0.0.1 is already in use: stop what uses it, or choose another (${options?.variable ?? "PORT"}=${port + 1} npm start).`,
      options,
    );
  }
}

/** Listens on 127.0.0.1:`port` (0 for any free port) and resolves with the port bound. */
export function listenOnLoopback(server: Server, port: number, variable = "PORT"): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      reject(err.code === "EADDRINUSE" ? new PortInUseError(port, { cause: err, variable }) : err);
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
