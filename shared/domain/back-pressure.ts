/**
 * Back-pressure on the capture queue, on the age of its oldest message rather than its depth: age
 * is what a person waiting on a capture feels, and it does not depend on how fast the workers are
 * (a depth of 10,000 is minutes at 1,000 workers and hours at 10). Depth is the fallback while the
 * age is unknown. The sweeper applies it: while it holds, a sweep claims no recaptures, so the
 * backlog stops growing and the captures people ask for meet a shorter queue.
 */
import type { CaptureQueue, QueueAgeReader } from "../ports.ts";

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
