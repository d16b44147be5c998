/** The recapture policy a caller may ask for on submit. */
import { InvalidRequestError } from "../errors.ts";
import type { RecapturePolicy } from "./model.ts";

export const MIN_EVERY_MINUTES = 5;
export const MAX_EVERY_MINUTES = 43_200;

export function parseRecapturePolicy(input: unknown): RecapturePolicy {
  if (input === undefined || input === "adaptive") return "adaptive";
  if (input === "off") return "off";
  if (input !== null && typeof input === "object" && !Array.isArray(input)) {
    const keys = Object.keys(input);
    const every = (input as { everyMinutes?: unknown }).everyMinutes;
    if (keys.length === 1 && typeof every === "number" && Number.isInteger(every)) {
      if (every < MIN_EVERY_MINUTES || every > MAX_EVERY_MINUTES) {
        throw new InvalidRequestError(
          "invalid_recapture_interval",
          `recapture.everyMinutes must be a whole number from ${MIN_EVERY_MINUTES} to ${MAX_EVERY_MINUTES}.`,
        );
      }
      return { everyMinutes: every };
    }
  }
  throw new InvalidRequestError(
    "invalid_recapture",
    'recapture must be "adaptive", "off" or {"everyMinutes": n}.',
  );
}
