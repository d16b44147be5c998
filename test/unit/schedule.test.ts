import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_CADENCE, nextCaptureTime, parseCadence } from "../../shared/domain/schedule.ts";
import { ConfigError } from "../../shared/errors.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const changed = new Date("2026-01-01T00:00:00Z");
const at = (ms: number) => new Date(changed.getTime() + ms);
const noJitter = { jitter: 0 };

function intervalAt(ageMs: number): number | null {
  const next = nextCaptureTime({ policy: "adaptive", lastChangedAt: changed, now: at(ageMs), ...noJitter });
  return next === null ? null : next.getTime() - at(ageMs).getTime();
}

describe("adaptive cadence", () => {
  it("follows the curve: 15 min, 1 h, 3 h, 3 days, 30 days, then stops", () => {
    assert.equal(intervalAt(0), 15 * MINUTE);
    assert.equal(intervalAt(3 * HOUR - 1), 15 * MINUTE);
    assert.equal(intervalAt(3 * HOUR), HOUR);
    assert.equal(intervalAt(DAY), 3 * HOUR);
    assert.equal(intervalAt(7 * DAY), 3 * DAY);
    assert.equal(intervalAt(30 * DAY), 30 * DAY);
    assert.equal(intervalAt(365 * DAY), null, "a year of quiet ends re-capturing");
  });

  it("resets when the article changes", () => {
    const quiet = nextCaptureTime({
      policy: "adaptive",
      lastChangedAt: changed,
      now: at(10 * DAY),
      ...noJitter,
    });
    const justEdited = nextCaptureTime({
      policy: "adaptive",
      lastChangedAt: at(10 * DAY),
      now: at(10 * DAY),
      ...noJitter,
    });
    assert.equal(quiet?.getTime(), at(13 * DAY).getTime());
    assert.equal(justEdited?.getTime(), at(10 * DAY + 15 * MINUTE).getTime());
  });

  it("spreads URLs with jitter within ±10 % of the interval", () => {
    const spread = new Set<number>();
    for (const r of [0, 0.25, 0.5, 0.75, 0.999]) {
      const next = nextCaptureTime({
        policy: "adaptive",
        lastChangedAt: changed,
        now: at(DAY),
        random: () => r,
      });
      const interval = (next?.getTime() ?? 0) - at(DAY).getTime();
      assert.ok(interval >= 3 * HOUR * 0.9 && interval <= 3 * HOUR * 1.1, String(interval));
      spread.add(interval);
    }
    assert.equal(spread.size, 5);
  });

  it("honours fixed intervals and off", () => {
    const next = nextCaptureTime({
      policy: { everyMinutes: 45 },
      lastChangedAt: changed,
      now: at(400 * DAY),
      ...noJitter,
    });
    assert.equal(next?.getTime(), at(400 * DAY + 45 * MINUTE).getTime(), "a fixed interval never stops");
    assert.equal(nextCaptureTime({ policy: "off", lastChangedAt: changed, now: at(0) }), null);
  });
});

describe("parseCadence", () => {
  it("reads the documented format and defaults to NewsDiffs' curve", () => {
    assert.equal(parseCadence(undefined), DEFAULT_CADENCE);
    assert.deepEqual(parseCadence("2h:10m,2d:6h"), [
      { underMs: 2 * HOUR, everyMs: 10 * MINUTE },
      { underMs: 2 * DAY, everyMs: 6 * HOUR },
    ]);
  });

  it("refuses malformed, unordered or too frequent curves with a clear error", () => {
    assert.throws(() => parseCadence("3h"), ConfigError);
    assert.throws(() => parseCadence("3x:15m"), ConfigError);
    assert.throws(() => parseCadence("1d:1h,3h:15m"), /increasing order/);
    assert.throws(() => parseCadence("3h:1m"), /5 minutes/);
  });
});
