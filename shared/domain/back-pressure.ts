/**
 * Back-pressure on the capture queue, on the age of its oldest message rather than its depth: age
 * is what a person waiting on a capture feels, and it does not depend on how fast the workers are
 * (a depth of 10,000 is minutes at 1,000 workers and hours at 10). Depth is the fallback while the
 * age is unknown. The sweeper applies it: while it holds, a sweep claims no recaptures, so the
 * backlog stops growing and the captures people ask for meet a shorter queue.
 */
import type { CaptureQueue, QueueAgeReader } from "../ports.ts";
import { SEND_HORIZON_MS } from "./host-shaping.ts";

/** The capture queue's redelivery settings, as SQS (or the file queue) applies them. */
export interface RedeliveryLimits {
  /** Deliveries before a message is dead-lettered. */
  maxReceiveCount: number;
  /** How long a delivered message stays hidden before it is delivered again. */
  visibilityTimeoutMs: number;
}

/**
 * The age a healthy capture message can reach before its last delivery starts: held back to its
 * host's slot (up to SQS's longest delay, 15 minutes), then one visibility timeout per failed
 * delivery before the last. SQS's `ApproximateAgeOfOldestMessage` (and the file queue's
 * `oldestAgeMs`) count delayed and in-flight messages too, so a back-pressure age at or below this
 * would hold sweeps on ordinary retries.
 */
export function retriedMessageAgeMs(limits: RedeliveryLimits): number {
  return SEND_HORIZON_MS + (limits.maxReceiveCount - 1) * limits.visibilityTimeoutMs;
}

/**
 * The shortest retention that keeps a capture message through all its deliveries: the longest
 * delay plus a visibility timeout per delivery. A shorter one drops messages before they have run.
 */
export function minimumRetentionMs(limits: RedeliveryLimits): number {
  return SEND_HORIZON_MS + limits.maxReceiveCount * limits.visibilityTimeoutMs;
}

export interface BackPressureDeps {
  /** @default - age unknown: depth decides */
  age?: QueueAgeReader;
  queue: Pick<CaptureQueue, "depth">;
  maxAgeSeconds: number;
  maxDepth: number;
}

/** Whether to hold, and on what it was decided (`none`: neither age nor depth could be read). */
export interface BackPressure {
  hold: boolean;
  basis: "age" | "depth" | "none";
  /** The age in seconds or the depth in messages that was compared. */
  value?: number;
}

export async function readBackPressure(deps: BackPressureDeps): Promise<BackPressure> {
  const age = await deps.age?.oldestMessageAgeSeconds();
  if (age !== undefined) return { hold: age >= deps.maxAgeSeconds, basis: "age", value: age };
  if (!deps.queue.depth) return { hold: false, basis: "none" };
  const depth = await deps.queue.depth();
  return { hold: depth >= deps.maxDepth, basis: "depth", value: depth };
}
