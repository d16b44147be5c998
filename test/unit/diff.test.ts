import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type ArticleForDiff,
  type Change,
  DEFAULT_DIFF_LIMITS,
  diffArticles,
  matchSequences,
  splitSentences,
  summariseEdit,
} from "../../shared/domain/diff/index.ts";

function article(text: string, overrides: Partial<ArticleForDiff> = {}): ArticleForDiff {
  return {
    title: "Council votes on school closures",
    byline: "Jane Smith",
    text,
    modifiedTime: null,
    ...overrides,
  };
}

const BASE = [
  "The council voted on Tuesday to close 12 schools. “We had no choice,” said the leader, Ann Jones.",
  "Parents protested outside the town hall. The closures take effect in September.",
  "Opposition councillors said the plan was rushed. They promised to fight it in the courts.",
].join("\n\n");

/** A deterministic pseudo-random generator for building large inputs. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

function prose(sentences: number, seed: number): string {
  const next = random(seed);
  const vocabulary = Array.from({ length: 500 }, (_, k) => `word${k}${seed}`);
  const paragraphs: string[] = [];
  let paragraph: string[] = [];
  for (let s = 0; s < sentences; s++) {
    const length = 8 + Math.floor(next() * 20);
    const words = Array.from({ length }, () => vocabulary[Math.floor(next() * vocabulary.length)] as string);
    paragraph.push(`Sentence${s} ${words.join(" ")}.`);
    if (paragraph.length === 4) {
      paragraphs.push(paragraph.join(" "));
      paragraph = [];
    }
  }
  if (paragraph.length > 0) paragraphs.push(paragraph.join(" "));
  return paragraphs.join("\n\n");
}

function textOf(changes: Change[], side: "before" | "after"): string {
  return changes
    .filter((change) => !change.field)
    .map((change) => change[side] ?? "")
    .join(" ");
}

describe("splitSentences", () => {
  it("splits on terminal punctuation and keeps closing quotes and brackets with their sentence", () => {
    assert.deepEqual(splitSentences('He left. "Why?" she asked. (It was late.) Then silence!'), [
      "He left.",
      '"Why?" she asked.',
      "(It was late.)",
      "Then silence!",
    ]);
    assert.deepEqual(splitSentences("“It is over.” The room emptied."), [
      "“It is over.”",
      "The room emptied.",
    ]);
  });

  it("does not split after titles, initials, U.S.-style abbreviations, decimals or list markers", () => {
    assert.deepEqual(splitSentences("Mr. Smith and Dr. Jones met J. K. Rowling in the U.S. on Friday."), [
      "Mr. Smith and Dr. Jones met J. K. Rowling in the U.S. on Friday.",
    ]);
    assert.deepEqual(splitSentences("Inflation rose to 3.5 per cent. Prices of No. 10 items rose."), [
      "Inflation rose to 3.5 per cent.",
      "Prices of No. 10 items rose.",
    ]);
    assert.deepEqual(splitSentences("1. Protein matters. It builds muscle."), [
      "1. Protein matters.",
      "It builds muscle.",
    ]);
  });

  it("treats an ellipsis or stop before a lowercase word as mid-sentence", () => {
    assert.deepEqual(splitSentences("He waited... and waited. Nothing came… Then it did."), [
      "He waited... and waited.",
      "Nothing came…",
      "Then it did.",
    ]);
  });

  it("never lets a sentence cross a paragraph break", () => {
    assert.deepEqual(splitSentences("A heading without a stop\n\nThe body starts here."), [
      "A heading without a stop",
      "The body starts here.",
    ]);
  });

  it("cuts an over-long sentence into chunks no longer than the cap", () => {
    const giant = Array.from({ length: 1000 }, (_, k) => `w${k}`).join(" ");
    const chunks = splitSentences(giant, { maxSentenceTokens: 50 });
    assert.ok(chunks.length >= 20);
    for (const chunk of chunks) assert.ok(chunk.split(" ").length <= 50);
    assert.equal(chunks.join(" "), giant);
  });
});

describe("diffArticles: alignment", () => {
  it("returns no edit and no changes when nothing changed", () => {
    const diff = diffArticles(article(BASE), article(BASE));
    assert.equal(diff.edit, null);
    assert.deepEqual(diff.changes, []);
    assert.match(diff.html, /^<div class="pd-diff pd-none">/);
  });

  it("finds an added sentence", () => {
    const after = BASE.replace("town hall.", "town hall. Police were called.");
    const { edit, changes } = diffArticles(article(BASE), article(after));
    assert.deepEqual(changes, [{ op: "insert", after: "Police were called." }]);
    assert.equal(edit?.stats.sentencesAdded, 1);
    assert.equal(edit?.stats.wordsInserted, 3);
  });

  it("finds a removed sentence", () => {
    const after = BASE.replace(" They promised to fight it in the courts.", "");
    const { edit, changes } = diffArticles(article(BASE), article(after));
    assert.deepEqual(changes, [{ op: "delete", before: "They promised to fight it in the courts." }]);
    assert.equal(edit?.stats.sentencesRemoved, 1);
  });

  it("merges a run of removed sentences across paragraphs into one change", () => {
    const after = BASE.split("\n\n")[0] as string;
    const { changes } = diffArticles(article(BASE), article(after));
    assert.equal(changes.length, 1);
    assert.equal(changes[0]?.op, "delete");
    assert.match(changes[0]?.before ?? "", /closures take effect in September\.\n\nOpposition/);
  });

  it("pairs a reworded sentence as a replace with a word-level diff inside it", () => {
    const after = BASE.replace(
      "Parents protested outside the town hall.",
      "Angry parents protested outside the civic centre.",
    );
    const { edit, changes } = diffArticles(article(BASE), article(after));
    assert.equal(changes.length, 1);
    const change = changes[0] as Change;
    assert.equal(change.op, "replace");
    assert.equal(change.before, "Parents protested outside the town hall.");
    assert.equal(change.after, "Angry parents protested outside the civic centre.");
    assert.deepEqual(change.words, [
      { op: "delete", text: "Parents" },
      { op: "insert", text: "Angry parents" },
      { op: "equal", text: " protested outside the" },
      { op: "delete", text: " town hall" },
      { op: "insert", text: " civic centre" },
      { op: "equal", text: "." },
    ]);
    assert.equal(edit?.stats.sentencesChanged, 1);
  });

  it("diffs words only inside changed sentences, leaving the rest untouched", () => {
    const after = BASE.replace("rushed", "hasty");
    const { changes } = diffArticles(article(BASE), article(after));
    assert.equal(changes.length, 1);
    assert.equal(changes[0]?.before, "Opposition councillors said the plan was rushed.");
  });

  it("reports a sentence that moved, at both ends with one move id", () => {
    const paragraphs = BASE.split("\n\n");
    const after = [paragraphs[2], paragraphs[0], paragraphs[1]].join("\n\n");
    const { edit, changes } = diffArticles(article(BASE), article(after));
    assert.ok(edit?.kinds.includes("moved"));
    const moved = changes.filter((change) => change.moved);
    assert.ok(moved.length >= 2);
    for (const change of moved) assert.equal(typeof change.moveId, "number");
    const ids = new Set(moved.map((change) => change.moveId));
    assert.equal(ids.size * 2, moved.length, "each move has a delete end and an insert end");
    assert.equal(edit?.stats.sentencesAdded, 0);
    assert.equal(edit?.stats.sentencesRemoved, 0);
  });

  it("keeps long unchanged runs of repeated sentences aligned", () => {
    const repeated = Array(500).fill("The council met again today.");
    const edited = [...repeated];
    edited[250] = "The council did not meet today.";
    const { edit, changes } = diffArticles(article(repeated.join(" ")), article(edited.join(" ")));
    assert.equal(changes.length, 1);
    assert.equal(edit?.stats.sentencesChanged, 1);
  });
});

describe("diffArticles: noise immunity", () => {
  it("ignores curly/straight quotes, dashes, ellipses, soft hyphens, zero-width and no-break spaces, whitespace", () => {
    const noisy = BASE.replace(/“|”/g, '"')
      .replace("Tuesday", "Tues\u00adday")
      .replace("the leader", "the\u00a0leader")
      .replace("town hall", "town\u200b hall")
      .replace(/ /g, (space, offset: number) => (offset % 7 === 0 ? "  " : space))
      .replace(/\n\n/g, "\n \n\n");
    const diff = diffArticles(article(BASE, { title: "Council – school closures" }), {
      ...article(`  ${noisy}\t`),
      title: "Council — school closures",
    });
    assert.equal(diff.edit, null);
    assert.deepEqual(diff.changes, []);
  });

  it("ignores paragraph re-flow when the sentences are the same", () => {
    const reflowed = BASE.replace("\n\n", " ").replace("town hall. ", "town hall.\n\n");
    assert.equal(diffArticles(article(BASE), article(reflowed)).edit, null);
  });

  it("drops page furniture paragraphs: relative times, counters, link boxes, share bars, byline lines", () => {
    const before = `Updated 12 minutes ago\n\n${BASE}\n\n1,204 views · 31 comments\n\nRead more: Another story entirely\n\nShare on Facebook Share on X 1,234 shares\n\nLast updated: 10:32 GMT, 3 March 2025`;
    const after = `Updated 3 hours ago\n\nBy Jane Smith\n\n${BASE}\n\n9,876 views · 45 comments\n\nRead more: A different story\n\nAdvertisement\n\nLast updated: 09:05 GMT, 4 March 2025`;
    assert.equal(diffArticles(article(before), article(after)).edit, null);
    assert.notEqual(
      diffArticles(article(before), article(after), { ignoreVolatileParagraphs: false }).edit,
      null,
    );
  });

  it("keeps paragraphs of reporting that merely look like furniture", () => {
    const after = BASE.replace("Parents protested", "The video has 3 million views. Parents protested");
    assert.ok(diffArticles(article(BASE), article(after)).edit?.kinds.includes("added"));
    for (const paragraph of [
      "By the numbers",
      "Share prices fell 3%",
      "Related-party deals rose",
      "Updated figures show 3 deaths",
    ]) {
      const edit = diffArticles(article(BASE), article(`${BASE}\n\n${paragraph}`)).edit;
      assert.deepEqual(edit?.kinds.includes("added"), true, paragraph);
    }
  });
});

describe("diffArticles: html", () => {
  it("escapes text and marks insertions and deletions inside a fragment with class names", () => {
    const after = BASE.replace("Parents protested", "<script>alert(1)</script> & parents protested");
    const { html } = diffArticles(article(BASE), article(after));
    assert.ok(html.startsWith('<div class="pd-diff pd-major">'));
    assert.ok(!/<html|<body|<script/i.test(html));
    assert.match(html, /<ins class="pd-ins">&lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; parents<\/ins>/);
    assert.match(html, /<del class="pd-del">Parents<\/del>/);
    assert.match(html, /<span class="pd-changed">/);
    assert.match(html, /<h1 class="pd-title">Council votes on school closures<\/h1>/);
    assert.equal((html.match(/<p class="pd-p/g) ?? []).length, 3);
  });

  it("marks whole added and removed paragraphs and moved sentences", () => {
    const after = `${BASE.split("\n\n").slice(1).join("\n\n")}\n\nA new paragraph appears.`;
    const { html } = diffArticles(article(BASE), article(after));
    assert.match(html, /<p class="pd-p pd-p-del"><del class="pd-del">The council voted/);
    assert.match(html, /<p class="pd-p pd-p-ins"><ins class="pd-ins">A new paragraph appears\.<\/ins><\/p>/);
    const moved = diffArticles(
      article("One moves here. Two stays. Three stays."),
      article("Two stays. Three stays. One moves here."),
    );
    assert.match(moved.html, /<del class="pd-del pd-moved" data-move="1">One moves here\.<\/del>/);
    assert.match(moved.html, /<ins class="pd-ins pd-moved" data-move="1">One moves here\.<\/ins>/);
  });

  it("shows a headline change in the title element", () => {
    const { html } = diffArticles(
      article(BASE),
      article(BASE, { title: "Council votes to shut <b>schools</b>" }),
    );
    assert.match(
      html,
      /<h1 class="pd-title">.*<ins class="pd-ins">.*&lt;b&gt;schools&lt;\/b&gt;<\/ins><\/h1>/,
    );
  });
});

describe("diffArticles: bounded work", () => {
  const caps = DEFAULT_DIFF_LIMITS;
  const budget = 2 * caps.maxAlignSteps + caps.maxPairSteps + caps.maxWordSteps;

  it("a 200 KB complete rewrite finishes within the work caps and accounts for every sentence", () => {
    const before = prose(1600, 1);
    const after = prose(1600, 2);
    assert.ok(before.length > 200_000 && after.length > 200_000);
    const { edit, changes, bounds } = diffArticles(article(before), article(after));
    assert.ok(bounds.work <= budget + 10 * (before.length + after.length), `work ${bounds.work}`);
    assert.equal(edit?.significance, "major");
    const stats = edit?.stats;
    assert.ok(stats);
    assert.equal(
      stats.sentencesRemoved + stats.sentencesChanged + stats.sentencesMoved,
      stats.sentencesBefore,
    );
    assert.equal(stats.sentencesAdded + stats.sentencesChanged + stats.sentencesMoved, stats.sentencesAfter);
    assert.ok(textOf(changes, "after").length >= after.length * 0.9);
  });

  it("falls back to a coarse but valid diff when a cap is tiny", () => {
    const before = prose(400, 3);
    const after = prose(400, 4);
    const limits = { maxAlignSteps: 500, maxPairSteps: 500, maxWordSteps: 500 };
    const { edit, bounds } = diffArticles(article(before), article(after), { limits });
    assert.equal(bounds.coarse, true);
    assert.ok(bounds.work <= 2 * 500 + 500 + 500 + 10 * (before.length + after.length));
    const stats = edit?.stats;
    assert.ok(stats);
    assert.equal(
      stats.sentencesRemoved + stats.sentencesChanged + stats.sentencesMoved,
      stats.sentencesBefore,
    );
  });

  it("chunks one giant sentence without punctuation, so an edit in it stays local", () => {
    const words = Array.from({ length: 20_000 }, (_, k) => `w${k % 997}x${k % 13}`);
    const edited = [...words];
    edited[10_000] = "CHANGED";
    const { edit, changes, bounds } = diffArticles(article(words.join(" ")), article(edited.join(" ")));
    assert.ok(edit);
    assert.ok(changes.length <= 3, `changes ${changes.length}`);
    assert.ok(bounds.work < budget);
    const replace = changes.find((change) => change.op === "replace");
    assert.ok(replace?.words?.some((op) => op.op === "insert" && op.text.trim() === "CHANGED"));
  });

  it("handles a flood of identical tiny sentences rewritten into others", () => {
    const before = Array(30_000).fill("Aa.").join(" ");
    const after = Array(30_000)
      .fill(0)
      .map((_, k) => (k % 3 === 0 ? "Bb." : "Aa."))
      .join(" ");
    const { edit, bounds } = diffArticles(article(before), article(after));
    assert.ok(edit);
    assert.ok(bounds.work <= budget + 10 * (before.length + after.length));
  });

  it("matchSequences is optimal when affordable and bounded when not", () => {
    const a = Int32Array.from([1, 2, 3, 4, 5, 6]);
    const b = Int32Array.from([1, 3, 4, 7, 5, 6, 8]);
    assert.deepEqual(Array.from(matchSequences(a, b, 1000).aToB), [0, -1, 1, 2, 4, 5]);

    const next = random(9);
    const big = (n: number) => Int32Array.from({ length: n }, () => Math.floor(next() * 4));
    const x = big(50_000);
    const y = big(50_000);
    const result = matchSequences(x, y, 10_000);
    assert.equal(result.coarse, true);
    assert.ok(result.work <= 2 * 10_000 + 10 * (x.length + y.length), `work ${result.work}`);
    let last = -1;
    for (let i = 0; i < x.length; i++) {
      const j = result.aToB[i] as number;
      if (j < 0) continue;
      assert.ok(j > last, "matches are strictly increasing");
      assert.equal(x[i], y[j], "only identical elements match");
      last = j;
    }
  });
});

describe("diffArticles: large inputs", () => {
  /** Paragraphs of prose, each distinct, about `bytes` characters in all. */
  function document(bytes: number, seed: number): string[] {
    const paragraphs = prose(Math.ceil(bytes / 110), seed).split("\n\n");
    return paragraphs.map((paragraph, k) => `Part ${k}. ${paragraph}`);
  }
  const small = { limits: { maxFineWork: 2_000 } };
  const caps = DEFAULT_DIFF_LIMITS;
  const budget = 2 * caps.maxAlignSteps + caps.maxPairSteps + caps.maxWordSteps;

  it("aligns paragraphs first and diffs only the changed one by sentence", () => {
    const paragraphs = document(600_000, 11);
    const edited = [...paragraphs];
    edited[700] = (edited[700] as string).replace(/ (word\d+) /, " CHANGED ");
    const { edit, changes, bounds } = diffArticles(
      article(paragraphs.join("\n\n")),
      article(edited.join("\n\n")),
    );
    assert.equal(bounds.coarse, false);
    assert.equal(edit?.stats.sentencesChanged, 1);
    assert.equal(edit?.stats.sentencesAdded, 0);
    assert.equal(changes.length, 1);
    assert.ok(changes[0]?.words?.some((op) => op.op === "insert" && op.text.trim() === "CHANGED"));
  });

  it("lists every changed paragraph whole once the sentence allowance is spent", () => {
    const paragraphs = document(100_000, 12);
    const edited = paragraphs.map((paragraph, k) =>
      k % 3 === 0 ? paragraph.replace("Part", "Section") : paragraph,
    );
    const { edit, changes, bounds } = diffArticles(
      article(paragraphs.join("\n\n")),
      article(edited.join("\n\n")),
      small,
    );
    assert.equal(bounds.coarse, true);
    assert.equal(edit?.significance, "major");
    const after = textOf(changes, "after");
    const before = textOf(changes, "before");
    for (let k = 0; k < paragraphs.length; k += 3) {
      assert.ok(after.includes(`Section ${k}.`), `paragraph ${k} listed as changed`);
      assert.ok(before.includes(`Part ${k}.`), `paragraph ${k} listed as it was`);
    }
    const last = paragraphs.length - 1 - ((paragraphs.length - 1) % 3);
    assert.ok(after.includes(edited[last] as string), "a paragraph past the allowance is listed whole");
    assert.ok(!after.includes(edited[1] as string), "unchanged paragraphs are not listed");
  });

  it("still ignores typography, re-spacing and furniture lines when comparing paragraphs whole", () => {
    const paragraphs = document(100_000, 13).map((paragraph, k) =>
      k % 10 === 0 ? `“Quoted,” she said — it's ${paragraph}…` : paragraph,
    );
    const before = [...paragraphs];
    before.splice(5, 0, "Updated 5 minutes ago", "1,204 views · 31 comments");
    const after = paragraphs.map((paragraph) =>
      paragraph
        .replace(/[“”]/g, '"')
        .replace(/ — /g, " - ")
        .replace(/'/g, "’")
        .replace(/…/g, "...")
        .replace(/ /g, "  "),
    );
    after.splice(9, 0, "Updated 2 hours ago", "Advertisement", "9,876 views · 45 comments");
    const result = diffArticles(article(before.join("\n\n")), article(after.join("\n\n")), small);
    assert.equal(result.edit, null, summariseEdit(result.edit, result.changes));
  });

  it("compares a text of countless paragraphs whole, and a flood of tiny sentences by paragraph", () => {
    const words = Array.from({ length: 40_000 }, (_, k) => `Item${k % 977}.`);
    const reversed = diffArticles(article(words.join("\n\n")), article([...words].reverse().join("\n\n")));
    assert.equal(reversed.bounds.coarse, true);
    assert.equal(reversed.changes.length, 2);
    const same = diffArticles(article(words.join("\n\n")), article(words.join("\n \n")));
    assert.equal(same.edit, null);

    const flood = Array(250_000).fill("Aa.").join(" ");
    const half = Array.from({ length: 250_000 }, (_, k) => (k % 2 ? "Bb." : "Aa.")).join(" ");
    const { edit, changes, bounds } = diffArticles(article(flood), article(half));
    assert.equal(bounds.coarse, true);
    assert.equal(edit?.significance, "major");
    assert.ok(textOf(changes, "after").trim() === half, "the new text is listed in full");
    assert.ok(textOf(changes, "before").trim() === flood, "the old text is listed in full");
    assert.ok(bounds.work < budget);
  });
});

describe("diffArticles: misuse and summaries", () => {
  it("throws on a missing text or a nonsensical limit", () => {
    assert.throws(
      () =>
        diffArticles(
          { title: null, byline: null, modifiedTime: null } as unknown as ArticleForDiff,
          article(""),
        ),
      TypeError,
    );
    assert.throws(() => diffArticles(article(""), article(""), { limits: { maxAlignSteps: 0 } }), RangeError);
  });

  it("summarises an edit in one line", () => {
    const after = BASE.replace("12 schools", "14 schools").replace(
      "town hall.",
      "town hall. Police were called.",
    );
    const { edit, changes } = diffArticles(
      article(BASE, { modifiedTime: "2026-01-01T10:00:00Z" }),
      article(after, { modifiedTime: "2026-01-01T10:00:00Z" }),
    );
    const line = summariseEdit(edit, changes);
    assert.equal(line, "Major stealth edit: 1 sentence added, 1 changed; figures changed — “12” → “14”");
    assert.ok(!line.includes("\n"));
    assert.equal(summariseEdit(null), "No meaningful change");
  });
});
