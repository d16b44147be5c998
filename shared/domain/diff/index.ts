/**
 * Article diff and edit classification: pure, synchronous, no I/O.
 *
 * This file is the folder's front door: `diffArticles` (diff-articles.ts, the engine that runs the
 * pipeline below), the helpers other modules use, and the diff's types. The edit a diff flags
 * (`Edit`, `EditKind`) is a record of the archive and lives in ../model.ts.
 *
 * Pipeline, with the bound on each step:
 * 1. Comparison units (`paragraph-units.ts`): when the estimated sentence-path work of both texts
 *    (words + 5 per sentence, from one cheap pass over the characters) is within `maxFineWork`,
 *    every paragraph is tokenised with typography folded into comparison keys, split into
 *    sentences, and sentences over `maxSentenceTokens` tokens are chunked. Larger inputs are
 *    aligned paragraph by paragraph first (by a hash of the folded text): unchanged paragraphs
 *    stay whole, changed regions are split into sentences while they fit in `maxFineWork`, and
 *    the rest are compared as whole paragraphs (a text of more than 20,000 paragraphs, as one).
 * 2. Align the unit sequences by their keys: common prefix/suffix, then Myers capped at
 *    `maxAlignSteps`, falling back to patience anchors and greedy matching (`sequence-diff.ts`).
 * 3. In each hunk of removed and added sentences: identical sentences elsewhere are moves (linear,
 *    by hash); the rest are paired by word-bag similarity (`pair.ts`, capped at `maxPairSteps`).
 * 4. Word-level diff inside each changed pair only (`word-diff.ts`, capped at `maxWordSteps`).
 * 5. Classify each word hunk (`classify.ts`) and the whole edit (`classify-edit.ts`), and render
 *    the JSON changes (`changes.ts`), HTML (`render-html.ts`) and a one-line summary
 *    (`summarise.ts`).
 *
 * Bounds: everything worse than linear is counted against a cap. Counted work is at most
 * 4·maxAlignSteps (paragraphs, then units) + maxPairSteps + 2·maxWordSteps; the sentence path
 * takes about `maxFineWork` words' worth of text at most; what remains is linear in the
 * characters with a small constant (hashing, escaping) plus a few microseconds per paragraph for
 * at most 20,000 of them.
 * When a cap is reached the affected region is shown coarser (whole sentences or paragraphs
 * deleted and inserted, never left out) and `bounds.coarse` is set. Measured in bench/diff.ts
 * (see BENCHMARKS.md) on 10 KB to 1 MB inputs, edits, rewrites and adversarial floods.
 *
 * Non-goals: a dictionary (typo detection is edit-distance based), semantic paraphrase detection,
 * and diffing anything but the extracted text, title and byline.
 */

export { isOneEditApart, isStealthEdit } from "./classify.ts";
export { diffArticles } from "./diff-articles.ts";
export { escapeHtml } from "./render-html.ts";
export { splitSentences } from "./sentences.ts";
export { matchSequences, type SequenceMatch } from "./sequence-diff.ts";
export { summariseEdit } from "./summarise.ts";
export * from "./types.ts";
