/**
 * When to capture a URL again. Articles change most in their first hours, then rarely, so the
 * adaptive cadence follows the time since the last observed change (or the first capture):
 * frequent at first, backing off step by step, and stopping once an article has been quiet for
 * a year. An observed edit resets the curve. Jitter keeps URLs submitted together from staying
 * in lockstep.
 */
import { ConfigError } from "../errors.ts";
import type { RecapturePolicy } from "./model.ts";

export interface CadenceStep {
  /** The step applies while the time since the last change is under this. */
  underMs: number;
  /** Capture again after this long. */
  everyMs: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** NewsDiffs' curve: 15 min under 3 h, 1 h under a day, 3 h under a week, 3 days under a month, 30 days under a year, then stop. */
export const DEFAULT_CADENCE: readonly CadenceStep[] = [
  { underMs: 3 * HOUR, everyMs: 15 * MINUTE },
  { underMs: DAY, everyMs: HOUR },
  { underMs: 7 * DAY, everyMs: 3 * HOUR },
  { underMs: 30 * DAY, everyMs: 3 * DAY },
  { underMs: 365 * DAY, everyMs: 30 * DAY },
];

/** Fraction of the interval by which the next time may move either way. */
export const DEFAULT_JITTER = 0.1;

const UNITS: Record<string, number> = { m: MINUTE, h: HOUR, d: DAY };

function parseDuration(raw: string, source: string): number {
  const match = /^(\d+(?:\.\d+)?)([mhd])$/.exec(raw.trim());
  const unit = match?.[2] ? UNITS[match[2]] : undefined;
  if (!match?.[1] || unit === undefined) {
    throw new ConfigError(
      `RECAPTURE_CADENCE: "${raw}" in "${source}" is not a duration like 15m, 3h or 30d.`,
    );
  }
  return Number(match[1]) * unit;
}

/**
 * Parses a cadence like "3h:15m,1d:1h,7d:3h,30d:3d,365d:30d": each `under:every` pair is a step,
 * in increasing order. Past the last step the URL is no longer re-captured.
 */
export function parseCadence(raw: string | undefined): readonly CadenceStep[] {
  if (raw === undefined || raw.trim() === "") return DEFAULT_CADENCE;
  const steps = raw.split(",").map((pair) => {
    const [under, every, extra] = pair.split(":");
    if (under === undefined || every === undefined || extra !== undefined) {
      throw new ConfigError(`RECAPTURE_CADENCE: "${pair}" must be "under:every", like "3h:15m".`);
    }
    return { underMs: parseDuration(under, raw), everyMs: parseDuration(every, raw) };
  });
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] as CadenceStep;
    if (step.everyMs < 5 * MINUTE)
      throw new ConfigError("RECAPTURE_CADENCE: no step may be more often than every 5 minutes.");
    const previous = steps[i - 1];
    if (previous && previous.underMs >= step.underMs) {
      throw new ConfigError("RECAPTURE_CADENCE: steps must be in increasing order of age.");
    }
  }
  return steps;
}

export interface ScheduleInput {
  policy: RecapturePolicy;
  /** When the article last changed, or when it was first captured. */
  lastChangedAt: Date;
  /** The moment the next time is computed from (the end of the latest capture). */
  now: Date;
  cadence?: readonly CadenceStep[];
  jitter?: number;
  /** A number in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
}

/** The next capture time, or null when the URL should not be captured again. */
export function nextCaptureTime(input: ScheduleInput): Date | null {
  const { policy, now } = input;
  if (policy === "off") return null;
  const random = input.random ?? Math.random;
  const jitter = input.jitter ?? DEFAULT_JITTER;
  let interval: number;
  if (policy === "adaptive") {
    const age = Math.max(0, now.getTime() - input.lastChangedAt.getTime());
    const step = (input.cadence ?? DEFAULT_CADENCE).find((s) => age < s.underMs);
    if (!step) return null;
    interval = step.everyMs;
  } else {
    interval = policy.everyMinutes * MINUTE;
  }
  const spread = interval * jitter * (2 * random() - 1);
  // Never sooner than five minutes, whatever the jitter: the floor every policy promises.
  return new Date(now.getTime() + Math.max(5 * MINUTE, Math.round(interval + spread)));
}
