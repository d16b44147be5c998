import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { extractArticle } from "../../shared/domain/extract/index.ts";
import {
  isBelowThreshold,
  mergeNoiseRules,
  parseNoiseRules,
} from "../../shared/domain/extract/noise-rules.ts";
import { InvalidRequestError } from "../../shared/errors.ts";

const STORY = [
  "The harbour council voted seven to two on Monday evening to build a new sea wall along the eastern quay.",
  "Councillors said the wall was needed after three winter storms flooded homes and shops near the fish market.",
  "Construction is expected to begin in the spring, and residents will be consulted on the design.",
];

function page(ticker: string): string {
  return `<!doctype html><html lang="en"><head><title>Sea wall approved</title></head><body><main><article>
<h1>Sea wall approved</h1>
<div class="ticker" data-live><p>Markets now: the harbour index stands at ${ticker} after a busy morning of trading.</p></div>
${STORY.map((p) => `<p>${p}</p>`).join("")}
<p id="clock">Local time in the harbour is ${ticker} and the tide is turning soon.</p>
</article></main></body></html>`;
}

describe("noise rules: dropping before extraction", () => {
  it("drops what the selectors name, and only that", () => {
    const plain = extractArticle(page("7,431"));
    assert.match(plain?.text ?? "", /harbour index/, "the precondition: the ticker is article text");
    const ruled = extractArticle(page("7,431"), { dropSelectors: [".ticker", "#clock"] });
    assert.equal(ruled?.text, STORY.join("\n\n"));
    // The ticker moving no longer changes the text.
    assert.equal(extractArticle(page("7,502"), { dropSelectors: [".ticker", "#clock"] })?.text, ruled?.text);
  });

  it("ignores a stored selector a parser refuses rather than failing the capture", () => {
    const ruled = extractArticle(page("7,431"), { dropSelectors: ["div[[[", ".ticker"] });
    assert.doesNotMatch(ruled?.text ?? "", /harbour index/);
  });
});

describe("noise rules: reading them from a request", () => {
  it("takes selectors and a threshold, trimmed and deduplicated", () => {
    assert.deepEqual(
      parseNoiseRules({ dropSelectors: [" .ticker ", ".ticker", "", "#clock"], minChangedWords: 3 }),
      {
        dropSelectors: [".ticker", "#clock"],
        minChangedWords: 3,
      },
    );
    assert.deepEqual(parseNoiseRules({}), { dropSelectors: [], minChangedWords: 0 });
  });

  it("refuses what is not a rule, with a code a person can act on", () => {
    const cases: Array<[unknown, string]> = [
      [null, "invalid_body"],
      [[".x"], "invalid_body"],
      [{ drop: [".x"] }, "unknown_field"],
      [{ dropSelectors: ".x" }, "invalid_selectors"],
      [{ dropSelectors: [1] }, "invalid_selectors"],
      [{ dropSelectors: ["div[[["] }, "invalid_selectors"],
      [{ dropSelectors: ["body"] }, "invalid_selectors"],
      [{ dropSelectors: ["*"] }, "invalid_selectors"],
      [{ dropSelectors: Array.from({ length: 51 }, (_, i) => `.c${i}`) }, "invalid_selectors"],
      [{ minChangedWords: -1 }, "invalid_min_changed_words"],
      [{ minChangedWords: 1.5 }, "invalid_min_changed_words"],
      [{ minChangedWords: "3" }, "invalid_min_changed_words"],
    ];
    for (const [body, code] of cases) {
      assert.throws(
        () => parseNoiseRules(body),
        (err) => err instanceof InvalidRequestError && err.code === code && err.status === 400,
        JSON.stringify(body),
      );
    }
  });
});

describe("noise rules: merging and the threshold", () => {
  it("merges a URL's and its sources' rules: every selector, the largest threshold", () => {
    const merged = mergeNoiseRules([
      { scope: "url", id: "u1", rules: { dropSelectors: [".ticker"], minChangedWords: 2 } },
      { scope: "source", id: "src_a", rules: { dropSelectors: [".ticker", ".clock"], minChangedWords: 5 } },
      { scope: "source", id: "src_b", rules: { dropSelectors: [], minChangedWords: 0 } },
    ]);
    assert.deepEqual(merged, {
      dropSelectors: [".ticker", ".clock"],
      minChangedWords: 5,
      from: [
        { scope: "url", id: "u1" },
        { scope: "source", id: "src_a" },
      ],
    });
  });

  it("holds back a difference of fewer changed words than the threshold, and only then", () => {
    const rules = { minChangedWords: 3 };
    assert.equal(isBelowThreshold({ wordsInserted: 1, wordsDeleted: 1 }, rules), true);
    assert.equal(isBelowThreshold({ wordsInserted: 2, wordsDeleted: 1 }, rules), false);
    assert.equal(isBelowThreshold({ wordsInserted: 0, wordsDeleted: 1 }, { minChangedWords: 0 }), false);
  });
});
