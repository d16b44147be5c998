import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { newCaptureId, newUlid, urlIdFor, versionIdForCapture } from "../../shared/domain/ids.ts";
import { comparableArticle, normaliseForComparison } from "../../shared/domain/normalise-text.ts";
import { parseRecapturePolicy } from "../../shared/domain/recapture.ts";
import { InvalidRequestError } from "../../shared/errors.ts";

describe("ids", () => {
  it("capture ids sort by request time", () => {
    const earlier = newCaptureId(new Date("2026-01-01T00:00:00Z"));
    const later = newCaptureId(new Date("2026-01-01T00:00:00.001Z"));
    assert.ok(earlier < later);
    assert.match(newUlid(), /^[0-9a-z]{26}$/);
  });

  it("a URL id is a stable digest of the normalised URL", () => {
    assert.equal(urlIdFor("https://example.com/a"), urlIdFor("https://example.com/a"));
    assert.notEqual(urlIdFor("https://example.com/a"), urlIdFor("https://example.com/b"));
  });

  it("a capture's version id is derived from it, so a retry cannot mint a second one", () => {
    const captureId = newCaptureId();
    assert.equal(versionIdForCapture(captureId), versionIdForCapture(captureId));
    assert.match(versionIdForCapture(captureId), /^ver_/);
  });
});

describe("normaliseForComparison", () => {
  it("ignores typography readers do not see as an edit", () => {
    const a = "“Quoted” — text with soft\u00adhyphen and\u00a0no-break space.\n\n  Second   para ";
    const b = '"Quoted" - text with softhyphen and no-break space.\n\nSecond para';
    assert.equal(normaliseForComparison(a), normaliseForComparison(b));
  });

  it("keeps real changes", () => {
    assert.notEqual(
      normaliseForComparison("The minister said 40."),
      normaliseForComparison("The minister said 41."),
    );
  });

  it("counts the title as part of the article", () => {
    assert.notEqual(comparableArticle("Old headline", "Body"), comparableArticle("New headline", "Body"));
  });
});

describe("parseRecapturePolicy", () => {
  it("accepts the three forms and defaults to adaptive", () => {
    assert.equal(parseRecapturePolicy(undefined), "adaptive");
    assert.equal(parseRecapturePolicy("off"), "off");
    assert.deepEqual(parseRecapturePolicy({ everyMinutes: 60 }), { everyMinutes: 60 });
  });

  it("refuses anything else with a specific code", () => {
    const codeOf = (input: unknown) => {
      try {
        parseRecapturePolicy(input);
        return "accepted";
      } catch (err) {
        assert.ok(err instanceof InvalidRequestError);
        return err.code;
      }
    };
    assert.equal(codeOf("hourly"), "invalid_recapture");
    assert.equal(codeOf({ everyMinutes: 4 }), "invalid_recapture_interval");
    assert.equal(codeOf({ everyMinutes: 43_201 }), "invalid_recapture_interval");
    assert.equal(codeOf({ everyMinutes: 1.5 }), "invalid_recapture");
    assert.equal(codeOf({ everyMinutes: 10, extra: 1 }), "invalid_recapture");
  });
});
