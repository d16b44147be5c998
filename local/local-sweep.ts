/**
 * `POST /_local/sweep {"now"?: ISO}`: runs the sweeper at once with that clock: captures of due
 * URLs (`enqueued`) and polls of due sources (`polls`). Local runner only; nothing like it is
 * deployed (on AWS the scheduler owns the clock).
 */
import type { IncomingMessage } from "node:http";
import type { APIGatewayProxyResult } from "aws-lambda";
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

export async function handleLocalSweep(
  req: IncomingMessage,
  sweep: (now?: Date) => Promise<SweepOutcome>,
): Promise<APIGatewayProxyResult> {
  if (req.method !== "POST")
    return errorResponse(405, "method_not_allowed", "Use POST on /_local/sweep.", { allow: "POST" });
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
