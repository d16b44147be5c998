/** Host shaping's pure parts: per-host limits and the plan of starts from a host's next free slot. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  assignStarts,
  type HostShaper,
  parseHostLimits,
  planStarts,
  TYPICAL_CAPTURE_MS,
} from "../../shared/domain/host-shaping.ts";
import { ConfigError } from "../../shared/errors.ts";
import type { HostLane, HostSlots } from "../../shared/ports.ts";

describe("parseHostLimits", () => {
  const defaults = { minGapMs: 1000, maxConcurrent: 2 };

  it("gives every host the default interval: the minimum gap, or a typical capture per allowed concurrent one", () => {
    assert.equal(parseHostLimits(undefined, defaults).intervalFor("news.example"), TYPICAL_CAPTURE_MS / 2);
    assert.equal(parseHostLimits("", { minGapMs: 8000, maxConcurrent: 4 }).intervalFor("a.example"), 8000);
  });

  it("takes per-host intervals, exact hosts before the longest matching wildcard", () => {
    const limits = parseHostLimits(
      "news.example=2s, *.bigpaper.example=250ms,*.live.bigpaper.example=1m,127.0.0.1:8080=100ms",
      defaults,
    );
    assert.equal(limits.intervalFor("news.example"), 2000);
    assert.equal(limits.intervalFor("news.example:8443"), 2000, "any port of the host");
    assert.equal(limits.intervalFor("NEWS.example"), 2000, "host names are case-insensitive");
    assert.equal(limits.intervalFor("www.bigpaper.example"), 250);
    assert.equal(limits.intervalFor("bigpaper.example"), 250, "the wildcard covers the domain itself");
    assert.equal(limits.intervalFor("a.live.bigpaper.example"), 60_000, "the longer suffix wins");
    assert.equal(limits.intervalFor("127.0.0.1:8080"), 100);
    assert.equal(limits.intervalFor("127.0.0.1:9090"), 5000, "another port is another host");
    assert.equal(limits.intervalFor("notbigpaper.example"), 5000, "a suffix matches whole labels only");
  });

  it("takes a default for every other host from `*`", () => {
    const limits = parseHostLimits("*=0ms,news.example=2s", defaults);
    assert.equal(limits.intervalFor("any.example"), 0, "politeness off, as benches on one host want");
    assert.equal(limits.intervalFor("news.example"), 2000);
  });

  it("refuses what it cannot read, naming the entry", () => {
    for (const bad of ["news.example", "news.example=fast", "=2s", "a=2s=3s", "news example=2s", "a=2h"]) {
      assert.throws(() => parseHostLimits(bad, defaults), ConfigError, bad);
    }
    assert.throws(() => parseHostLimits(undefined, { minGapMs: 0, maxConcurrent: 0 }), ConfigError);
  });
});

describe("planStarts", () => {
  it("spaces starts by the interval from the host's next free start", () => {
    assert.deepEqual(planStarts(undefined, [100, 100, 100], 10), { nextFree: 130, starts: [100, 110, 120] });
    assert.deepEqual(planStarts(500, [100, 100], 10), { nextFree: 520, starts: [500, 510] });
  });

  it("never starts a capture before its own earliest time", () => {
    assert.deepEqual(planStarts(100, [100, 300], 10), { nextFree: 310, starts: [100, 300] });
  });

  it("reserves nothing past `latest`", () => {
    assert.deepEqual(planStarts(100, [0, 0, 0], 50, 160), { nextFree: 200, starts: [100, 150, null] });
    assert.deepEqual(planStarts(500, [0], 50, 160), { nextFree: 500, starts: [null] });
  });
});

describe("assignStarts", () => {
  /** Host schedules in memory, counting reservations per host (one per host per call). */
  function memorySlots(): HostSlots & { writes: Map<string, number> } {
    const free = new Map<string, number>();
    const writes = new Map<string, number>();
    return {
      writes,
      async reserve(host: string, lane: HostLane, plan) {
        const key = `${host}/${lane}`;
        const { nextFree, result } = plan(free.get(key));
        free.set(key, nextFree);
        writes.set(host, (writes.get(host) ?? 0) + 1);
        return result;
      },
    };
  }

  it("serves each host from its own schedule, one reservation per host, earliest first", async () => {
    const slots = memorySlots();
    const shaper: HostShaper = {
      slots,
      limits: parseHostLimits("busy.example=1s", { minGapMs: 0, maxConcurrent: 1 }),
    };
    const items = [
      { host: "busy.example", earliest: 5000 },
      { host: "busy.example", earliest: 0 },
      { host: "quiet.example", earliest: 0 },
      { host: "busy.example", earliest: 0 },
    ];
    const starts = await assignStarts(shaper, items, (i) => i, "scheduled");
    assert.deepEqual(
      items.map((i) => starts.get(i)),
      [5000, 0, 0, 1000],
    );
    assert.deepEqual(Object.fromEntries(slots.writes), { "busy.example": 1, "quiet.example": 1 });
    // The interactive lane is a schedule of its own: a person does not wait behind the backlog.
    const person = { host: "busy.example", earliest: 0 };
    assert.equal((await assignStarts(shaper, [person], (i) => i, "interactive")).get(person), 0);
  });
});
