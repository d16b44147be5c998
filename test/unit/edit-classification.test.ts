import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type ArticleForDiff,
  diffArticles,
  isOneEditApart,
  isStealthEdit,
} from "../../shared/domain/diff/index.ts";
import type { Edit } from "../../shared/domain/model.ts";

const TEXT = [
  "The minister said on Tuesday that 40% of schools would close by March. The plan will cost £3m.",
  "“We have no other choice,” she told reporters. Critics, led by Tom Baker, disagreed strongly.",
  "Parents gathered outside the building. The government expects the decision to be controversial.",
].join("\n\n");

function article(text: string, overrides: Partial<ArticleForDiff> = {}): ArticleForDiff {
  return { title: "Schools to close", byline: "By Jane Smith", text, modifiedTime: null, ...overrides };
}

function editOf(before: string, after: string, overrides: Partial<ArticleForDiff> = {}): Edit | null {
  return diffArticles(article(before), article(after, overrides)).edit;
}

describe("significance: minor is typography and spelling only", () => {
  it("a misspelt word corrected is minor and only 'changed'", () => {
    const edit = editOf(TEXT.replace("gathered", "gahtered"), TEXT);
    assert.equal(edit?.significance, "minor");
    assert.deepEqual(edit?.kinds, ["changed"]);
  });

  it("dropped, doubled and swapped letters are typo fixes; two fixes in a row too", () => {
    for (const typo of ["controversal", "controversiall", "contorversial"]) {
      assert.equal(editOf(TEXT.replace("controversial", typo), TEXT)?.significance, "minor", typo);
    }
    assert.equal(
      editOf(TEXT.replace("outside the building", "outsdie teh building"), TEXT)?.significance,
      "major",
    );
    assert.equal(editOf(TEXT.replace("gathered outside", "gahtered outsdie"), TEXT)?.significance, "minor");
  });

  it("punctuation, case, hyphenation and apostrophes are minor", () => {
    assert.equal(
      editOf(TEXT, TEXT.replace("Critics, led by Tom Baker, disagreed", "Critics led by Tom Baker disagreed"))
        ?.significance,
      "minor",
    );
    assert.equal(editOf(TEXT, TEXT.replace("The minister", "The Minister"))?.significance, "minor");
    assert.equal(editOf(TEXT, TEXT.replace("other choice", "other-choice"))?.significance, "minor");
    assert.equal(editOf(TEXT.replace("outside", "out side"), TEXT)?.significance, "minor");
  });

  it("a different word is major, even one letter apart, when it is short, a name or meaning-bearing", () => {
    assert.equal(editOf(TEXT, TEXT.replace("strongly", "mildly"))?.significance, "major");
    assert.equal(editOf(TEXT, TEXT.replace("Tom Baker", "Tom Parker"))?.significance, "major", "a name");
    assert.equal(
      editOf(TEXT, TEXT.replace("Tom Baker", "Tom Bakes"))?.significance,
      "major",
      "a name, one letter",
    );
    assert.equal(editOf("He is now guilty.", "He is not guilty.")?.significance, "major");
    assert.equal(editOf("They were told.", "Then were told.")?.significance, "major");
  });

  it("any sentence added or removed is major", () => {
    assert.equal(editOf(TEXT, `${TEXT} Nobody was hurt.`)?.significance, "major");
    assert.equal(editOf(TEXT, TEXT.replace(" The plan will cost £3m.", ""))?.significance, "major");
  });
});

describe("kinds", () => {
  it("number: digits, percentages, currency amounts, dates and number words", () => {
    const cases: Array<[string, string]> = [
      ["40%", "45%"],
      ["£3m", "£4m"],
      ["£3m", "$3m"],
      ["by March", "by April"],
      ["on Tuesday", "on Wednesday"],
    ];
    for (const [from, to] of cases) {
      const edit = editOf(TEXT, TEXT.replace(from, to));
      assert.equal(edit?.significance, "major", `${from} → ${to}`);
      assert.deepEqual(edit?.kinds, ["changed", "number"], `${from} → ${to}`);
    }
    const words = editOf("It cost three million.", "It cost three billion.");
    assert.deepEqual(words?.kinds, ["changed", "number"]);
    assert.deepEqual(
      editOf("It cost a miillion.", "It cost a million.")?.kinds,
      ["changed"],
      "a typo in a number word",
    );
  });

  it("quote: words inside quotation marks changed, added or removed", () => {
    const changed = editOf(TEXT, TEXT.replace("no other choice", "little other choice"));
    assert.equal(changed?.significance, "major");
    assert.deepEqual(changed?.kinds, ["changed", "quote"]);
    const added = editOf(TEXT, `${TEXT} "It is a disgrace," one parent said.`);
    assert.deepEqual(added?.kinds, ["added", "quote"]);
    const straight = editOf(
      'He said "we will win the vote" today.',
      'He said "we will lose the vote" today.',
    );
    assert.deepEqual(straight?.kinds, ["changed", "quote"]);
    const single = editOf(
      "He called it 'a total disgrace' today.",
      "He called it 'a partial disgrace' today.",
    );
    assert.deepEqual(single?.kinds, ["changed", "quote"]);
    const outside = editOf(TEXT, TEXT.replace("she told reporters", "she told journalists"));
    assert.deepEqual(outside?.kinds, ["changed"], "words outside the quotation");
    const typo = editOf(TEXT.replace("choice", "chioce"), TEXT);
    assert.equal(typo?.significance, "minor", "a typo fixed inside a quotation");
  });

  it("headline: the title reworded, and typography in it ignored", () => {
    const edit = editOf(TEXT, TEXT, { title: "Schools to stay open" });
    assert.equal(edit?.significance, "major");
    assert.deepEqual(edit?.kinds, ["headline"]);
    assert.equal(editOf(TEXT, TEXT, { title: "Schools  to\u00a0close" }), null);
    assert.equal(editOf(TEXT, TEXT, { title: null }), null, "a missing title is unknown, not removed");
    const figure = editOf(TEXT, TEXT, { title: "12 schools to close" });
    assert.deepEqual(figure?.kinds, ["headline", "number"]);
  });

  it("byline: another author is major; a 'By' prefix, case and a missing byline are not edits", () => {
    const edit = editOf(TEXT, TEXT, { byline: "By John Doe" });
    assert.equal(edit?.significance, "major");
    assert.deepEqual(edit?.kinds, ["byline"]);
    assert.equal(editOf(TEXT, TEXT, { byline: "JANE SMITH" }), null);
    assert.equal(editOf(TEXT, TEXT, { byline: null }), null);
  });

  it("correction: an added notice of correction, clarification or amendment", () => {
    const notices = [
      "Correction: An earlier version of this article misstated the cost.",
      "Clarification: The minister spoke on Monday.",
      "This article was amended on 3 March 2026 to correct a name.",
      "An earlier version of this story said 50 schools.",
      "Editor's note: This story has been updated.",
    ];
    for (const notice of notices) {
      assert.deepEqual(editOf(TEXT, `${TEXT}\n\n${notice}`)?.kinds.includes("correction"), true, notice);
    }
    const existing = `${TEXT}\n\nCorrection: An earlier version of this article misstated the cost.`;
    assert.equal(
      editOf(existing, existing.replace("strongly", "loudly"))?.kinds.includes("correction"),
      false,
    );
    assert.equal(
      editOf(TEXT, `${TEXT}\n\nThe correction of errors takes time.`)?.kinds.includes("correction"),
      false,
    );
  });

  it("moved: a sentence that now sits elsewhere", () => {
    const edit = editOf(
      "First point here. Second point here. Third point here.",
      "Second point here. Third point here. First point here.",
    );
    assert.equal(edit?.significance, "major");
    assert.deepEqual(edit?.kinds, ["moved"]);
    assert.equal(edit?.stats.sentencesMoved, 1);
  });

  it("reports kinds in a fixed order and counts words", () => {
    const after = `${TEXT.replace("40%", "45%").replace(" The plan will cost £3m.", "")} Police attended.`;
    const edit = editOf(TEXT, after, { title: "Schools will close" });
    assert.deepEqual(edit?.kinds, ["headline", "added", "removed", "changed", "number"]);
    assert.equal(edit?.stats.wordsInserted, 3);
    assert.equal(edit?.stats.wordsDeleted, 6);
    assert.ok((edit?.stats.changeRatio ?? 0) > 0 && (edit?.stats.changeRatio ?? 1) < 0.2);
  });
});

describe("stealth", () => {
  const after = TEXT.replace("strongly", "loudly");

  it("is true when the declared modification time stayed the same, or the page never declares one", () => {
    assert.equal(editOf(TEXT, after, { modifiedTime: null })?.stealth, true);
    const same = "2026-03-01T10:00:00Z";
    const diff = diffArticles(article(TEXT, { modifiedTime: same }), article(after, { modifiedTime: same }));
    assert.equal(diff.edit?.stealth, true);
  });

  it("is false when the modification time advanced or appeared", () => {
    const diff = diffArticles(
      article(TEXT, { modifiedTime: "2026-03-01T10:00:00Z" }),
      article(after, { modifiedTime: "2026-03-01T11:30:00Z" }),
    );
    assert.equal(diff.edit?.stealth, false);
    assert.equal(editOf(TEXT, after, { modifiedTime: "2026-03-01T11:30:00Z" })?.stealth, false);
  });

  it("compares instants, not spellings, and treats a dropped time as no admission", () => {
    assert.equal(isStealthEdit("2026-03-01T10:00:00Z", "2026-03-01T11:00:00+01:00"), true);
    assert.equal(isStealthEdit("2026-03-01T10:00:00Z", null), true);
    assert.equal(isStealthEdit(null, "2026-03-01"), false);
    assert.equal(isStealthEdit("yesterday", "yesterday"), true);
    assert.equal(isStealthEdit(null, null), true);
  });
});

describe("isOneEditApart", () => {
  it("accepts one insertion, deletion, substitution or adjacent transposition", () => {
    for (const [a, b] of [
      ["recieve", "receive"],
      ["goverment", "government"],
      ["thier", "their"],
      ["cat", "cut"],
      ["abc", "ab"],
    ]) {
      assert.equal(isOneEditApart(a as string, b as string), true, `${a}/${b}`);
    }
    for (const [a, b] of [
      ["same", "same"],
      ["increase", "decrease"],
      ["abcd", "badc"],
      ["a", "abc"],
    ]) {
      assert.equal(isOneEditApart(a as string, b as string), false, `${a}/${b}`);
    }
  });
});
