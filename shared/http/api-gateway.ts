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

/** The media type of the request body, lower-cased and without parameters ("" when none is given). */
export function mediaType(event: APIGatewayProxyEvent): string {
  return (header(event, "content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/**
 * Decodes the JSON body; a malformed or oversized one is the caller's error.
 *
 * Only `application/json` is read (415 otherwise): a web page on another origin can send
 * `text/plain` or a form to the API without asking, but `application/json` only after a CORS
 * preflight, which the API grants to no origin unless CORS_ALLOW_ORIGINS names it. So no page
 * the user happens to open can submit to an archive on their machine.
 */
export function parseJsonBody(event: APIGatewayProxyEvent): unknown {
  if (mediaType(event) !== "application/json") {
    throw new HttpError(
      415,
      "unsupported_media_type",
      "Send the body as JSON with the header content-type: application/json.",
    );
  }
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

/** What a browser may send (the API key, Memento's Accept-Datetime) and what its scripts may read. */
const CORS_ALLOW_HEADERS = "content-type, x-api-key, accept-datetime";
const CORS_ALLOW_METHODS = "GET, HEAD, POST, PATCH, DELETE, OPTIONS";
const CORS_EXPOSE_HEADERS = "location, link, memento-datetime, vary, retry-after";

type ResultHeaders = NonNullable<APIGatewayProxyResult["headers"]>;

function addVary(headers: ResultHeaders, value: string): void {
  const key = Object.keys(headers).find((name) => name.toLowerCase() === "vary");
  const existing = key === undefined ? "" : String(headers[key]);
  if (key !== undefined) delete headers[key];
  const values = existing
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
  if (!values.some((v) => v.toLowerCase() === value.toLowerCase())) values.push(value);
  headers.vary = values.join(", ");
}

/**
 * CORS for `allowOrigins` (exact origins, or `["*"]`). An allowed origin is echoed (with
 * `Vary: Origin`, since the answer depends on it); any other gets no CORS headers, so the browser
 * refuses the response to it. `OPTIONS` on any path is answered here as a preflight (204) and
 * never reaches a route. No credentials: the API key travels in a header.
 *
 * Use it before `httpErrorMapper` (`.use(cors).use(mapper)`): middy runs `onError` in reverse, so
 * the mapped error responses get the headers too.
 */
export function corsHeaders(
  allowOrigins: readonly string[],
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const anyOrigin = allowOrigins.includes("*");
  const allowed = (event: APIGatewayProxyEvent): Record<string, string> => {
    if (anyOrigin) return { "access-control-allow-origin": "*" };
    const origin = header(event, "origin");
    return origin !== undefined && allowOrigins.includes(origin)
      ? { "access-control-allow-origin": origin }
      : {};
  };
  const decorate = (request: { event: APIGatewayProxyEvent; response?: APIGatewayProxyResult | null }) => {
    if (!request.response) return;
    const headers: ResultHeaders = { ...request.response.headers };
    const origin = allowed(request.event);
    Object.assign(headers, origin);
    if (origin["access-control-allow-origin"]) headers["access-control-expose-headers"] = CORS_EXPOSE_HEADERS;
    if (!anyOrigin) addVary(headers, "Origin");
    request.response = { ...request.response, headers };
  };
  return {
    before: (request) => {
      if (request.event.httpMethod !== "OPTIONS") return undefined;
      const headers: ResultHeaders = {
        ...allowed(request.event),
        "access-control-allow-methods": CORS_ALLOW_METHODS,
        "access-control-allow-headers": CORS_ALLOW_HEADERS,
        "access-control-max-age": "600",
        allow: CORS_ALLOW_METHODS,
      };
      if (!anyOrigin) addVary(headers, "Origin");
      return { statusCode: 204, headers, body: "" };
    },
    after: (request) => decorate(request),
    onError: (request) => decorate(request),
  };
}
