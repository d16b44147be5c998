/**
 * Host shaping: politeness towards a site is decided before a capture's message reaches the queue,
 * never by a worker that finds the host busy. Every capture takes a start slot from its host's
 * schedule (the `HostSlots` port: one `HOST#` item per host holding the next free start), slots on
 * one host are the host's interval apart, and the message is sent with `DelaySeconds` so that it
 * arrives at its slot. A slot further ahead than SQS can delay a message (15 minutes) parks the
 * capture on its URL, and the sweep that finds the URL due at its slot sends the message then. A
 * host with a backlog therefore only pushes its own captures later; other hosts' captures keep
 * their own slots, and no message is ever sent back to its own queue to wait.
 *
 * Interactive captures (a person's submission, "Capture now") take their slots on a lane of their
 * own, so a person never waits behind a host's scheduled backlog; the two lanes together may load a
 * host with twice its rate, which interactive traffic is far too small to matter for.
 */
import { ConfigError } from "../errors.ts";
import type { HostLane, HostSlots } from "../ports.ts";

/** The longest SQS delays a message (DelaySeconds ≤ 900): starts further ahead are parked. */
export const SEND_HORIZON_MS = 900_000;

/**
 * What one capture of a page typically holds a host for (load, settle, snapshot), measured by the
 * capture bench at about 5–10 s: turns a host's concurrency limit into a start interval.
 */
export const TYPICAL_CAPTURE_MS = 10_000;

/** How far apart the starts of two captures of one host must be. */
export interface HostLimits {
  /** The start interval for `host` (a URL's `host`, with its port when it has one). */
  intervalFor(host: string): number;
}

/** What a host shaper works with: the stored schedules and the limits. */
export interface HostShaper {
  slots: HostSlots;
  limits: HostLimits;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function parseInterval(raw: string, entry: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(raw.trim());
  const unit = match?.[2] ? UNITS[match[2]] : undefined;
  if (!match?.[1] || unit === undefined) {
    throw new ConfigError(`HOST_LIMITS: "${entry}" needs an interval like 500ms, 2s or 1m after "=".`);
  }
  const ms = Math.round(Number(match[1]) * unit);
  if (ms < 0 || ms > 3_600_000) throw new ConfigError(`HOST_LIMITS: "${entry}" must be at most 1h.`);
  return ms;
}

/**
 * The limits of every host: by default one start every `max(minGapMs, TYPICAL_CAPTURE_MS /
 * maxConcurrent)` (so about `maxConcurrent` captures of a host run at once), and per host the
 * interval `overrides` gives, as `host=interval` pairs separated by commas: `news.example=2s`
 * (that host, any port), `*.bigpaper.example=250ms` (its subdomains and itself), `*=1s` (every
 * other host: the default). The longest matching pattern wins. Throws ConfigError on anything else.
 */
export function parseHostLimits(
  overrides: string | undefined,
  defaults: { minGapMs: number; maxConcurrent: number },
): HostLimits {
  if (!Number.isInteger(defaults.maxConcurrent) || defaults.maxConcurrent < 1) {
    throw new ConfigError(`HOST_MAX_CONCURRENCY must be at least 1, got ${defaults.maxConcurrent}.`);
  }
  let fallback = Math.max(defaults.minGapMs, Math.ceil(TYPICAL_CAPTURE_MS / defaults.maxConcurrent));
  const exact = new Map<string, number>();
  const suffixes: Array<{ suffix: string; intervalMs: number }> = [];
  for (const entry of (overrides ?? "").split(",")) {
    if (entry.trim() === "") continue;
    const [pattern, interval, extra] = entry.split("=");
    const host = pattern?.trim().toLowerCase() ?? "";
    if (host === "*" && interval !== undefined && extra === undefined) {
      fallback = parseInterval(interval, entry);
      continue;
    }
    if (interval === undefined || extra !== undefined || !/^(\*\.)?[a-z0-9.-]+(:\d+)?$/.test(host)) {
      throw new ConfigError(`HOST_LIMITS: "${entry}" must be "host=interval", like "news.example=2s".`);
    }
    const intervalMs = parseInterval(interval, entry);
    if (host.startsWith("*.")) suffixes.push({ suffix: host.slice(2), intervalMs });
    else exact.set(host, intervalMs);
  }
  suffixes.sort((a, b) => b.suffix.length - a.suffix.length);
  return {
    intervalFor(host) {
      const name = host.toLowerCase();
      const bare = name.replace(/:\d+$/, "");
      const direct = exact.get(name) ?? exact.get(bare);
      if (direct !== undefined) return direct;
      const match = suffixes.find(({ suffix }) => bare === suffix || bare.endsWith(`.${suffix}`));
      return match?.intervalMs ?? fallback;
    },
  };
}

/**
 * Plans the starts of captures of one host from its next free start: each no sooner than its own
 * earliest time, and each `intervalMs` after the one before. With `latest`, a start past it is not
 * reserved (null) and takes no slot. Pure, so the sweep, submissions and the scale bench share it.
 */
export function planStarts(
  nextFree: number | undefined,
  earliest: readonly number[],
  intervalMs: number,
  latest?: number,
): { nextFree: number; starts: Array<number | null> } {
  let free = nextFree ?? Number.NEGATIVE_INFINITY;
  const starts = earliest.map((wanted) => {
    const start = Math.max(wanted, free);
    if (latest !== undefined && start > latest) return null;
    free = start + intervalMs;
    return start;
  });
  return { nextFree: Number.isFinite(free) ? free : (nextFree ?? 0), starts };
}

/**
 * Gives each item a start from its host's schedule on `lane`: one reservation (one conditional
 * write) per host, whatever the number of its items. Items of a host are served in order of their
 * earliest time. Without a shaper every item starts at its earliest time.
 */
export async function assignStarts<T>(
  shaper: HostShaper | undefined,
  items: readonly T[],
  describe: (item: T) => { host: string; earliest: number },
  lane: HostLane,
  options: { latest?: number } = {},
): Promise<Map<T, number | null>> {
  const starts = new Map<T, number | null>();
  if (!shaper) {
    for (const item of items) starts.set(item, describe(item).earliest);
    return starts;
  }
  const byHost = new Map<string, Array<{ item: T; earliest: number }>>();
  for (const item of items) {
    const { host, earliest } = describe(item);
    const group = byHost.get(host) ?? [];
    group.push({ item, earliest });
    byHost.set(host, group);
  }
  await Promise.all(
    [...byHost].map(async ([host, group]) => {
      group.sort((a, b) => a.earliest - b.earliest);
      const intervalMs = shaper.limits.intervalFor(host);
      // A host with no interval needs no schedule: nothing to space, so no write on its item.
      if (intervalMs <= 0) {
        for (const g of group) starts.set(g.item, g.earliest);
        return;
      }
      const planned = await shaper.slots.reserve(host, lane, (nextFree) => {
        const plan = planStarts(
          nextFree,
          group.map((g) => g.earliest),
          intervalMs,
          options.latest,
        );
        return { nextFree: plan.nextFree, result: plan.starts };
      });
      group.forEach((g, i) => {
        starts.set(g.item, planned[i] ?? null);
      });
    }),
  );
  return starts;
}

/** The host a URL's captures are shaped by: its `host` (name and port), lower-cased. */
export function hostOf(url: string): string {
  return new URL(url).host.toLowerCase();
}

/** The host limits of a shaping configuration (see `loadHostShapingConfig` in shared/config.ts). */
export function hostLimitsFrom(config: {
  hostLimits: string | undefined;
  hostMinGapMs: number;
  hostMaxConcurrency: number;
}): HostLimits {
  return parseHostLimits(config.hostLimits, {
    minGapMs: config.hostMinGapMs,
    maxConcurrent: config.hostMaxConcurrency,
  });
}
