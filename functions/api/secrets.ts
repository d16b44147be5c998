/**
 * Comparing secrets a caller sends (the API key, a form's CSRF token) with ours without telling
 * the caller anything through timing: not where they first differ, and not our secret's length.
 */
import { createHash, timingSafeEqual } from "node:crypto";

const digest = (value: string | Uint8Array) => createHash("sha256").update(value).digest();

/**
 * Whether `given` equals `expected`. Both are hashed first, so the comparison always runs over
 * 32 bytes: `timingSafeEqual` alone needs equal lengths, and checking the lengths before it
 * answers a wrong-length guess faster than a right-length one.
 */
export function sameSecret(given: string | undefined, expected: string | Uint8Array): boolean {
  if (given === undefined) return false;
  return timingSafeEqual(digest(given), digest(expected));
}
