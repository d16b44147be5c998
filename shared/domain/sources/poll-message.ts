/**
 * The poll job's message: `{"kind":"poll","sourceId":"src_…"}`. Encoding and parsing live here, in
 * one place, so the queue-message codec can take them over whole.
 */
import type { PollMessage } from "../../ports.ts";

const SOURCE_ID = /^src_[0-9a-z]{1,60}$/;

export function encodePollMessage(sourceId: string): string {
  return JSON.stringify({ kind: "poll", sourceId } satisfies PollMessage);
}

/** The message, or null for a body that is not a poll job (it is dropped, never retried). */
export function parsePollMessage(body: string): PollMessage | null {
  try {
    const parsed: unknown = JSON.parse(body);
    const { kind, sourceId } = (parsed ?? {}) as { kind?: unknown; sourceId?: unknown };
    return kind === "poll" && typeof sourceId === "string" && SOURCE_ID.test(sourceId)
      ? { kind: "poll", sourceId }
      : null;
  } catch {
    return null;
  }
}
