/**
 * When to try a URL again after a capture that did not show the article, and how long a server's
 * `Retry-After` asks us to wait.
 *
 * The wait after a wall grows with how long the URL has shown walls: as long again as the run has
 * lasted so far, within [WALL_RETRY_MIN_MS, WALL_RETRY_MAX_MS]. That doubles the gap from one retry
 * to the next (15 min, 15 min, 30 min, 1 h, 2 h …) with nothing kept but when the run began
 * (`notOkSince` on the URL), and a challenge that lifts is noticed soon, one that stays costs the
 * outlet a capture a day.
 */

/** The first retry after a wall. */
export const WALL_RETRY_MIN_MS = 15 * 60_000;
/** The longest gap between retries while the walls last. */
export const WALL_RETRY_MAX_MS = 24 * 60 * 60_000;

/** When to capture again after a capture that was not `ok`, in a run of them since `notOkSince`. */
export function wallRetryAt(notOkSince: string | undefined, capturedAt: string): Date {
  const now = Date.parse(capturedAt);
  const since = notOkSince === undefined ? now : Date.parse(notOkSince);
  const lasted = Number.isFinite(since) ? Math.max(0, now - since) : 0;
  return new Date(now + Math.min(WALL_RETRY_MAX_MS, Math.max(WALL_RETRY_MIN_MS, lasted)));
}

/**
 * A `Retry-After` header as milliseconds from `now`: delay-seconds or an HTTP date (RFC 9110
 * §10.2.3). Null when absent or unreadable; never negative.
 */
export function retryAfterMs(value: string | undefined, now: Date): number | null {
  const raw = value?.trim();
  if (!raw) return null;
  if (/^\d+$/.test(raw)) return Number(raw) * 1000;
  const at = Date.parse(raw);
  if (!Number.isFinite(at)) return null;
  return Math.max(0, at - now.getTime());
}
