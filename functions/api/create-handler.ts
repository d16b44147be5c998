/** The API's handler for any set of adapters: the Lambda entry and the local runner both build it. */
import { lookup } from "node:dns/promises";
import middy from "@middy/core";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { withCorrelationId } from "../../shared/correlation.ts";
import { corsHeaders, httpErrorMapper } from "../../shared/http/api-gateway.ts";
import { defaultLogger, type Logger } from "../../shared/logger.ts";
import type { ResolveHost } from "../../shared/ports.ts";
import type { ApiDeps } from "./route-types.ts";
import { routeRequest } from "./routes.ts";

export const resolveHost: ResolveHost = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

/** `deps.logger` defaults to the process-wide logger (tests that build the handler directly). */
export function createApiHandler(given: ApiDeps & { logger?: Logger }) {
  // Every route logs through the one logger, at the configured level: the web UI's error pages too.
  const deps = { ...given, logger: given.logger ?? defaultLogger() };
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>();
  // Before the error mapper, so that error responses get CORS headers too.
  if (deps.corsAllowOrigins) handler.use(corsHeaders(deps.corsAllowOrigins));
  return (
    handler
      .use(httpErrorMapper(deps.logger.child({ fn: "api" })))
      // API Gateway's request id follows a submitted capture through the queue to the worker.
      .handler((event, context) =>
        withCorrelationId(event.requestContext?.requestId ?? context.awsRequestId, () =>
          routeRequest(deps, event),
        ),
      )
  );
}
