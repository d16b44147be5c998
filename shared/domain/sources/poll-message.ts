/**
 * The poll job's message: `{"kind":"poll","sourceId":"src_…","lease":"<ISO time>"}`, `lease` being
 * the source's `nextPollAt` when it was sent (absent in messages from before it existed). Encoding and parsing live here, in
 * one place, so the queue-message codec can take them over whole.
 */
import type { PollMessage } from "../../ports.ts";

const SOURCE_ID = /^src_[0-9a-z]{1,60}$/;
/** `Date.prototype.toISOString`'s form, which every lease is written in. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function encodePollMessage(message: PollMessage): string {
  const { sourceId, lease } = message;
  return JSON.stringify({
    kind: "poll",
    sourceId,
    ...(lease === undefined ? {} : { lease }),
  } satisfies PollMessage);
}

/** The message, or null for a body that is not a poll job (it is dropped, never retried). */
export function parsePollMessage(body: string): PollMessage | null {
  try {
    const parsed: unknown = JSON.parse(body);
    const { kind, sourceId, lease } = (parsed ?? {}) as {
      kind?: unknown;
      sourceId?: unknown;
      lease?: unknown;
    };
    if (kind !== "poll" || typeof sourceId !== "string" || !SOURCE_ID.test(sourceId)) return null;
    if (lease === undefined) return { kind: "poll", sourceId };
    return typeof lease === "string" && ISO_TIME.test(lease) ? { kind: "poll", sourceId, lease } : null;
  } catch {
    return null;
  }
}
