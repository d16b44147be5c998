/** Turns a Node HTTP request into the API Gateway REST proxy event the API Lambda receives. */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { readLimitedBody } from "./read-body.ts";

export { RequestTooLargeError } from "./read-body.ts";

/** API Gateway REST APIs cap payloads at 10 MB; locally we refuse far earlier. */
const MAX_REQUEST_BYTES = 1024 * 1024;

export async function toApiGatewayEvent(req: IncomingMessage): Promise<APIGatewayProxyEvent> {
  const url = new URL(req.url ?? "/", "http://local");
  const body = await readLimitedBody(req, MAX_REQUEST_BYTES);
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    headers[name] = values.join(", ");
    multiValueHeaders[name] = values;
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    const list = multiQuery[name] ?? [];
    list.push(value);
    multiQuery[name] = list;
  }
  const hasQuery = url.searchParams.size > 0;
  const requestId = randomUUID();
  return {
    httpMethod: req.method ?? "GET",
    path: url.pathname,
    resource: "/{proxy+}",
    pathParameters: { proxy: url.pathname.slice(1) },
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    body: body.length > 0 ? body.toString("utf8") : null,
    isBase64Encoded: false,
    stageVariables: null,
    requestContext: {
      requestId,
      httpMethod: req.method ?? "GET",
      path: url.pathname,
      stage: "local",
      resourcePath: "/{proxy+}",
      identity: { sourceIp: req.socket.remoteAddress ?? "127.0.0.1" },
    } as APIGatewayProxyEvent["requestContext"],
  };
}

export function writeResult(res: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | number | boolean | string[]> = { ...(result.headers ?? {}) };
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {}))
    headers[name] = values.map(String);
  const body = result.isBase64Encoded
    ? Buffer.from(result.body, "base64")
    : Buffer.from(result.body ?? "", "utf8");
  res.writeHead(result.statusCode, { ...headers, "content-length": body.length });
  res.end(body);
}
