/**
 * The capture message's one codec: `{"captureId":"cap_…","correlationId"?:"…"}`. The SQS adapter,
 * the local file queue, the capture and dead-letter handlers and the local runner's reconciliation
 * all encode and parse it here, so a field added to the message is added once.
 */
import type { CaptureMessage } from "../ports.ts";

/** Correlation ids are request ids: short, printable, safe to log. Anything else is dropped. */
const CORRELATION_ID = /^[\w.:@/+=-]{1,128}$/;

/** The message body for `message`; an absent or malformed correlation id is left out. */
export function encodeCaptureMessage(message: CaptureMessage): string {
  const { captureId, correlationId } = message;
  return JSON.stringify(
    correlationId !== undefined && CORRELATION_ID.test(correlationId)
      ? { captureId, correlationId }
      : { captureId },
  );
}

/**
 * The message in `body`, or null for a body that is not a capture message: such a message is
 * acknowledged and dropped, because redelivering it cannot make it readable.
 */
export function parseCaptureMessage(body: string): CaptureMessage | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  const { captureId, correlationId } = (parsed ?? {}) as { captureId?: unknown; correlationId?: unknown };
  if (typeof captureId !== "string") return null;
  return typeof correlationId === "string" && CORRELATION_ID.test(correlationId)
    ? { captureId, correlationId }
    : { captureId };
}
