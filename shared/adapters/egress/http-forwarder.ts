/**
 * Plain-HTTP requests through the proxy (absolute form, `GET http://host/path`): the target is
 * vetted by the guard, then the request is forwarded over the checked connection and the response
 * streamed back, every body byte counted against the session's budget.
 *
 * `forwardExchange` is the one place where a request and its response pass through the proxy
 * whole, as parsed messages. Recording exchanges (WARC evidence) belongs there; HTTPS would reach
 * it once CONNECT tunnels are terminated rather than piped (see `tunnels.ts`), with a TLS socket
 * to the origin as `upstream`.
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { destinationOf } from "../../domain/url.ts";
import type { SessionPassage } from "./guard.ts";
import { answer, forwardedHeaders, parseAbsoluteUrl } from "./proxy-messages.ts";
import type { SessionLedger } from "./session-ledger.ts";

/** Handles one absolute-form HTTP request from the browser. */
export async function handleHttpRequest(
  req: IncomingMessage,
  res: ServerResponse,
  { ledger, decide }: SessionPassage,
): Promise<void> {
  ledger.track(res.socket ?? req.socket);
  const url = parseAbsoluteUrl(req.url, ["http:"]);
  if (!url) {
    const reason = "Only absolute http:// URLs can be requested through this proxy.";
    ledger.refuseMalformed("http", req.url, reason);
    return answer(res, 400, reason);
  }
  const decision = await decide("http", destinationOf(url), url.href);
  if (!decision.ok) return answer(res, decision.status, decision.message);
  if (res.destroyed || res.writableEnded) {
    decision.socket.destroy();
    return;
  }
  forwardExchange(req, res, url, decision.socket, ledger);
}

/**
 * Sends `req` to `url` over `upstream` (a connection to a checked address) and streams the answer
 * back into `res`. A failure before the answer began is answered with 502/504 and recorded; after,
 * the client's connection is cut.
 */
export function forwardExchange(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  upstream: Socket,
  ledger: SessionLedger,
): void {
  const outgoing = httpRequest({
    createConnection: () => upstream,
    method: req.method,
    path: `${url.pathname}${url.search}`,
    headers: forwardedHeaders(req.rawHeaders, url.host, false),
    setHost: false,
  });
  outgoing.on("response", (incoming) => {
    res.writeHead(
      incoming.statusCode ?? 502,
      incoming.statusMessage,
      forwardedHeaders(incoming.rawHeaders, undefined, false),
    );
    incoming.on("data", (chunk: Buffer) => ledger.account(chunk.length));
    incoming.on("error", () => res.destroy());
    incoming.pipe(res);
  });
  outgoing.on("error", (err) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const host = url.hostname;
    const port = destinationOf(url).port;
    const timedOut = (err as { code?: unknown }).code === "ETIMEDOUT";
    ledger.fail({
      kind: "http",
      host,
      port,
      target: url.href,
      code: timedOut ? "timeout" : "connection_failed",
    });
    answer(res, timedOut ? 504 : 502, `${host} did not answer.`);
  });
  res.on("close", () => {
    if (!res.writableFinished) outgoing.destroy();
  });
  req.on("data", (chunk: Buffer) => ledger.account(chunk.length));
  req.pipe(outgoing);
}
