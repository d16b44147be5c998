/**
 * The HTTP edge for API Gateway REST (v1 proxy) events: JSON responses, the error shape, and the
 * rule that only < 500 messages reach callers.
 */
import type { MiddlewareObj } from "@middy/core";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { InvalidRequestError, PalimpsestError } from "../errors.ts";
import type { Logger } from "../logger.ts";

export class HttpError extends InvalidRequestError {
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(code, message, { status });
    this.headers = headers;
  }
}

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return { statusCode: status, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

export function errorResponse(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return json(status, { error: { code, message } }, headers);
}

/** Maps thrown errors to the API's error shape; logs the ones that are ours to fix. */
export function httpErrorMapper(logger: Logger): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    onError: async (request) => {
      const err = request.error;
      if (err instanceof InvalidRequestError) {
        const headers = { ...(err instanceof HttpError ? err.headers : {}) };
        const retryAfter = (err as { retryAfterSeconds?: number }).retryAfterSeconds;
        if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter);
        request.response = errorResponse(err.status, err.code, err.message, headers);
        return;
      }
      if (err instanceof PalimpsestError && err.code === "queue_unavailable") {
        request.response = errorResponse(503, err.code, err.message, { "retry-after": "5" });
        logger.error("queue unavailable", { err });
        return;
      }
      logger.error("unhandled error", { err, requestId: request.event?.requestContext?.requestId });
      request.response = errorResponse(
        500,
        "internal_error",
        "An internal error occurred; it has been logged.",
      );
    },
  };
}

export const MAX_BODY_BYTES = 16 * 1024;

/** Decodes the JSON body; a malformed or oversized one is the caller's error. */
export function parseJsonBody(event: APIGatewayProxyEvent): unknown {
  if (event.body === null || event.body === "") {
    throw new HttpError(400, "invalid_json", 'The request body must be JSON, like {"url": "https://…"}.');
  }
  const text = event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
    throw new HttpError(413, "body_too_large", `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new InvalidRequestError("invalid_json", "The request body is not valid JSON.", { cause });
  }
}

/** Header lookup that ignores case, as HTTP does. */
export function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === lower && value !== undefined) return value;
  }
  return undefined;
}
