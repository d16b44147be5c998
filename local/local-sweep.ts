/**
 * `POST /_local/sweep {"now"?: ISO}`: runs the sweeper at once with that clock. Local runner only;
 * nothing like it is deployed (on AWS the scheduler owns the clock).
 */
import type { IncomingMessage } from "node:http";
import type { APIGatewayProxyResult } from "aws-lambda";
import type { SweepResult } from "../shared/domain/sweep.ts";
import { errorResponse, json } from "../shared/http/api-gateway.ts";

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = "";
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 4096) throw new SyntaxError("too long");
  }
  return text.trim() === "" ? {} : JSON.parse(text);
}

export async function handleLocalSweep(
  req: IncomingMessage,
  sweep: (now?: Date) => Promise<SweepResult>,
): Promise<APIGatewayProxyResult> {
  if (req.method !== "POST")
    return errorResponse(405, "method_not_allowed", "Use POST on /_local/sweep.", { allow: "POST" });
  let body: unknown;
  try {
    body = await readJson(req);
  } catch {
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
  return json(200, { enqueued: result.enqueued, complete: result.complete });
}
