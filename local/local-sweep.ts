/**
 * `POST /_local/sweep {"now"?: ISO}`: runs the sweeper at once with that clock: captures of due
 * URLs (`enqueued`) and polls of due sources (`polls`). Local runner only; nothing like it is
 * deployed (on AWS the scheduler owns the clock).
 *
 * It is guarded like the JSON API, because any web page the user opens can POST to loopback: the
 * `x-api-key` where `API_KEY` is set, and a body only as `application/json`, which a page on
 * another origin cannot send without a CORS preflight that this endpoint never grants.
 */
import type { IncomingMessage } from "node:http";
import type { APIGatewayProxyResult } from "aws-lambda";
import { sameSecret } from "../functions/api/secrets.ts";
import type { SweepOutcome } from "../functions/sweeper/handler.ts";
import { errorResponse, json } from "../shared/http/api-gateway.ts";
import { RequestTooLargeError, readLimitedBody } from "./read-body.ts";

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text: string;
  try {
    text = (await readLimitedBody(req, 4096)).toString("utf8");
  } catch (err) {
    if (err instanceof RequestTooLargeError && err.closeConnection) throw err;
    throw new SyntaxError("too long", { cause: err });
  }
  return text.trim() === "" ? {} : JSON.parse(text);
}

/** Whether the request says it carries a body (a length, or chunks). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return (length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined;
}

/** Runs the sweep for one request; `apiKey` is the runner's API_KEY, when set. */
export async function handleLocalSweep(
  req: IncomingMessage,
  sweep: (now?: Date) => Promise<SweepOutcome>,
  options: { apiKey?: string | undefined } = {},
): Promise<APIGatewayProxyResult> {
  if (req.method !== "POST")
    return errorResponse(405, "method_not_allowed", "Use POST on /_local/sweep.", { allow: "POST" });
  const key = req.headers["x-api-key"];
  if (options.apiKey !== undefined && !sameSecret(typeof key === "string" ? key : undefined, options.apiKey))
    return errorResponse(401, "unauthorized", "A valid API key is required in the x-api-key header.");
  const type = req.headers["content-type"]?.split(";")[0]?.trim().toLowerCase();
  if (hasBody(req) && type !== "application/json") {
    return errorResponse(
      415,
      "unsupported_media_type",
      'Send the body as application/json, like {"now": "2026-01-01T00:00:00Z"}.',
    );
  }
  let body: unknown;
  try {
    body = await readJson(req);
  } catch (err) {
    // Not drained: the server answers 413 and closes the connection.
    if (err instanceof RequestTooLargeError && err.closeConnection) throw err;
    return errorResponse(400, "invalid_json", 'The body must be JSON like {"now": "2026-01-01T00:00:00Z"}.');
  }
  const raw = (body as { now?: unknown } | null)?.now;
  let now: Date | undefined;
  if (raw !== undefined) {
    now = typeof raw === "string" ? new Date(raw) : new Date(Number.NaN);
    if (Number.isNaN(now.getTime()))
      return errorResponse(400, "invalid_time", '"now" must be an ISO 8601 time.');
  }
  const result = await sweep(now);
  return json(200, { enqueued: result.enqueued, polls: result.polls, complete: result.complete });
}
