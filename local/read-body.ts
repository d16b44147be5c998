/**
 * Reading a request body with a size limit without breaking the connection. Stopping at the
 * limit (breaking out of `for await`) destroys the request and with it the kept-alive socket, so
 * a client that sent 2 MB got its 413 and then a reset on its next request. Past the limit the
 * rest is read and dropped, up to a drain limit; a body larger still is not read at all and the
 * answer closes the connection (`Connection: close`), which the client sees before its next request.
 */
import type { IncomingMessage } from "node:http";

/** Past this, a too-large body is not drained but the connection closed. */
const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;

/** The body was larger than allowed; `closeConnection` when it was not drained either. */
export class RequestTooLargeError extends Error {
  readonly closeConnection: boolean;
  constructor(closeConnection: boolean) {
    super("request body too large");
    this.name = "RequestTooLargeError";
    this.closeConnection = closeConnection;
  }
}

/** Reads the whole body if it is at most `maxBytes`; otherwise throws RequestTooLargeError. */
export function readLimitedBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? Number.NaN);
  if (declared > DRAIN_LIMIT_BYTES) return Promise.reject(new RequestTooLargeError(true));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
      else if (size > DRAIN_LIMIT_BYTES) {
        cleanup();
        req.pause();
        reject(new RequestTooLargeError(true));
      }
    };
    const onEnd = () => {
      cleanup();
      if (size > maxBytes) reject(new RequestTooLargeError(false));
      else resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}
