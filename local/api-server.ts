/**
 * The local runner's HTTP server, with the limits API Gateway would otherwise provide: headers
 * must arrive within seconds and a request within half a minute (Node's defaults hold a
 * slow-header client for five minutes), a client may hold only so many connections, and a body
 * too large is answered 413 without breaking the kept-alive connection (`read-body.ts`).
 *
 * It listens before the runner is ready and answers 503 until then, so a busy port is reported
 * before anything else starts, and no request reaches the API before the start-up reconcile.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { APIGatewayProxyResult } from "aws-lambda";
import { errorResponse } from "../shared/http/api-gateway.ts";
import type { Logger } from "../shared/logger.ts";
import { writeResult } from "./api-gateway-event.ts";
import { RequestTooLargeError } from "./read-body.ts";

/** Limits of the local API server; each can be lowered by tests. */
export interface ApiServerLimits {
  /** Time for a client to send the request headers. @default 10000 */
  headersTimeoutMs: number;
  /** Time for a client to send the whole request. @default 30000 */
  requestTimeoutMs: number;
  /**
   * Open connections one client address may hold. @default 256: above `npm run load`'s 200
   * submissions at once, far below what would exhaust the process's file descriptors.
   */
  maxConnectionsPerClient: number;
}

/** What `npm start` uses. */
export const DEFAULT_API_SERVER_LIMITS: ApiServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxConnectionsPerClient: 256,
};

/** Answers one request with an API Gateway-shaped result; may throw RequestTooLargeError. */
export type LocalRequestHandler = (req: IncomingMessage) => Promise<APIGatewayProxyResult>;

export interface LocalApiServer {
  server: Server;
  /** Starts serving with `handler` (until then every request is answered 503). */
  ready(handler: LocalRequestHandler): void;
}

/** The runner's HTTP server with its limits; call `ready` once the API can answer. */
export function createLocalApiServer(options: {
  logger: Logger;
  limits?: Partial<ApiServerLimits>;
}): LocalApiServer {
  const limits = { ...DEFAULT_API_SERVER_LIMITS, ...options.limits };
  const log = options.logger;
  let handler: LocalRequestHandler | undefined;

  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // How often Node checks the two timeouts above (30 s by default, longer than they are).
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    (req, res) => {
      if (!handler) {
        respond(res, errorResponse(503, "starting", "Palimpsest is starting; try again in a moment."), true);
        return;
      }
      handler(req).then(
        (result) => respond(res, result, false),
        (err: unknown) => {
          if (err instanceof RequestTooLargeError) {
            respond(
              res,
              errorResponse(413, "body_too_large", "The request body is too large."),
              err.closeConnection,
            );
            return;
          }
          log.error("local API adapter failed", { err });
          respond(res, errorResponse(500, "internal_error", "An internal error occurred."), !req.complete);
        },
      );
    },
  );

  const perClient = new Map<string, number>();
  server.on("connection", (socket: Socket) => {
    const client = socket.remoteAddress ?? "unknown";
    const open = (perClient.get(client) ?? 0) + 1;
    if (open > limits.maxConnectionsPerClient) {
      log.warn("connection refused: too many from one client", { client, open: open - 1 });
      socket.destroy();
      return;
    }
    perClient.set(client, open);
    socket.once("close", () => {
      const left = (perClient.get(client) ?? 1) - 1;
      if (left > 0) perClient.set(client, left);
      else perClient.delete(client);
    });
  });

  return {
    server,
    ready(next) {
      handler = next;
    },
  };
}

function respond(res: ServerResponse, result: APIGatewayProxyResult, closeConnection: boolean): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  writeResult(
    res,
    closeConnection ? { ...result, headers: { ...(result.headers ?? {}), connection: "close" } } : result,
  );
}
