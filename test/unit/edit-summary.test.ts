/** The one-line summary of an edit quotes what its details name (issue 12: first impressions). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ArticleForDiff, diffArticles, summariseEdit } from "../../shared/domain/diff/index.ts";

function article(title: string, text: string): ArticleForDiff {
  return { title, byline: "Jane Smith", text, modifiedTime: null };
}

const TEXT = [
  "The island ferry company said on Friday that a return ticket would cost 24 euros from June.",
  "The company blamed the rising price of fuel and the cost of repairs to its oldest vessel.",
].join("\n\n");

describe("summariseEdit", () => {
  it("quotes the figure under “figures changed” when the headline changed too", () => {
    const { edit, changes } = diffArticles(
      article("Ferry fares to rise", TEXT),
      article("Ferry fares to rise sharply", TEXT.replace("24 euros", "27 euros")),
    );
    assert.ok(edit);
    assert.ok(edit.kinds.includes("headline") && edit.kinds.includes("number"), edit.kinds.join());
    const line = summariseEdit(edit, changes);
    assert.match(line, /^Major stealth edit: headline changed, 1 sentence changed; figures changed — /);
    assert.ok(line.endsWith("— “24” → “27”"), line);
  });

  it("still quotes the headline when it is the only thing that changed", () => {
    const { edit, changes } = diffArticles(
      article("Ferry fares to rise", TEXT),
      article("Ferry fares to soar", TEXT),
    );
    assert.ok(edit);
    assert.match(summariseEdit(edit, changes), /headline changed — “rise” → “soar”$/);
  });
});
