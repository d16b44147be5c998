/**
 * The diff engine: comparison units, alignment, moves, sentence pairing and word diffs, into the
 * rows that classify-edit.ts judges, changes.ts lists and render-html.ts draws. The pipeline and
 * the bound on each step are told in index.ts.
 */
import { toChanges } from "./changes.ts";
import { classifyHunk } from "./classify.ts";
import { classifyEdit } from "./classify-edit.ts";
import { type Bags, type PairBudget, pairHunk, type WordBag } from "./pair.ts";
import { comparisonUnits } from "./paragraph-units.ts";
import { renderDiffHtml } from "./render-html.ts";
import type { FieldChange, Row } from "./rows.ts";
import type { Sentence } from "./sentences.ts";
import { matchSequences } from "./sequence-diff.ts";
import { KeyCache, removeInvisible, type Token, tokeniseParagraph } from "./tokenise.ts";
import {
  type ArticleDiff,
  type ArticleForDiff,
  DEFAULT_DIFF_LIMITS,
  type DiffLimits,
  type DiffOptions,
} from "./types.ts";
import { diffWords, type WordBudget } from "./word-diff.ts";

/**
 * Compares two versions of an article.
 *
 * - `edit` is null (and `changes` empty) when nothing meaningful changed: typography, whitespace,
 *   paragraph re-flow and page-furniture paragraphs never count. "none" in the CLI's terms.
 * - `significance`: minor for punctuation, case, spacing and one-letter typo fixes only; major
 *   for any sentence added, removed or moved, any other word change (numbers, names, quotations),
 *   a reworded headline or a changed byline (rules in classify.ts).
 * - `stealth`: the declared modification time did not advance (see `isStealthEdit`).
 * - A null title or byline on either side is "unknown", never an edit.
 *
 * @throws TypeError when an article or its text is missing; RangeError when a limit is below 1.
 */
export function diffArticles(
  before: ArticleForDiff,
  after: ArticleForDiff,
  options: DiffOptions = {},
): ArticleDiff {
  assertArticle(before, "before");
  assertArticle(after, "after");
  const limits = resolveLimits(options.limits);
  const keys = new KeyCache();
  const split = {
    maxSentenceTokens: limits.maxSentenceTokens,
    ignoreVolatileParagraphs: options.ignoreVolatileParagraphs ?? true,
  };
  const units = comparisonUnits(before.text, after.text, { ...split, ...limits }, keys);
  const oldSentences = units.oldUnits;
  const newSentences = units.newUnits;

  const sentenceIds = new Map<string, number>();
  const oldIds = idsOf(oldSentences, sentenceIds);
  const newIds = idsOf(newSentences, sentenceIds);
  const alignment = matchSequences(oldIds, newIds, limits.maxAlignSteps);

  const items = toItems(alignment.aToB, newSentences.length);
  const moves = findMoves(items, oldIds, newIds, oldSentences, newSentences);
  const pairBudget: PairBudget = { remaining: limits.maxPairSteps, work: 0, exhausted: false };
  const wordBudget: WordBudget = { remaining: limits.maxWordSteps, work: 0, exhausted: false };
  const wordIds = new Map<string, number>();
  const rows = toRows(items, moves, oldSentences, newSentences, limits, pairBudget, wordBudget, wordIds);

  const titleChange = compareTitle(before.title, after.title, keys, wordIds, wordBudget);
  const bylineChange = compareByline(before.byline, after.byline, keys, wordIds, wordBudget);
  const edit = classifyEdit(rows, titleChange, bylineChange, before, after, oldSentences, newSentences);
  const changes = edit ? toChanges(rows, titleChange, bylineChange) : [];
  const html = renderDiffHtml({
    significance: edit?.significance ?? "none",
    title: after.title ?? before.title,
    titleChange,
    byline: after.byline ?? before.byline,
    bylineChange,
    rows,
  });
  const coarse =
    units.coarse ||
    alignment.coarse ||
    pairBudget.exhausted ||
    wordBudget.exhausted ||
    rows.some(isCoarseChange);
  return {
    edit,
    changes,
    html,
    bounds: {
      work:
        units.work +
        alignment.work +
        pairBudget.work +
        wordBudget.work +
        oldSentences.length +
        newSentences.length,
      coarse,
    },
  };
}

function assertArticle(article: ArticleForDiff, name: string): void {
  if (article === null || typeof article !== "object" || typeof article.text !== "string") {
    throw new TypeError(`diffArticles: ${name} must be an article with a string text`);
  }
}

function resolveLimits(overrides: Partial<DiffLimits> | undefined): DiffLimits {
  const limits = { ...DEFAULT_DIFF_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value < 1) throw new RangeError(`diffArticles: limit ${name} must be ≥ 1`);
  }
  return limits;
}

function idsOf(sentences: readonly Sentence[], ids: Map<string, number>): Int32Array {
  const out = new Int32Array(sentences.length);
  sentences.forEach((sentence, index) => {
    let id = ids.get(sentence.key);
    if (id === undefined) {
      id = ids.size;
      ids.set(sentence.key, id);
    }
    out[index] = id;
  });
  return out;
}

type Item = { equal: true; a: number; b: number } | { equal: false; del: number[]; ins: number[] };

function toItems(aToB: Int32Array, newLength: number): Item[] {
  const items: Item[] = [];
  let i = 0;
  let j = 0;
  while (i < aToB.length || j < newLength) {
    if (i < aToB.length && aToB[i] === j) {
      items.push({ equal: true, a: i++, b: j++ });
      continue;
    }
    const hunk = { equal: false as const, del: [] as number[], ins: [] as number[] };
    while (i < aToB.length && aToB[i] === -1) hunk.del.push(i++);
    const target = i < aToB.length ? (aToB[i] as number) : newLength;
    while (j < target) hunk.ins.push(j++);
    items.push(hunk);
  }
  return items;
}

interface Moves {
  /** move id by old sentence index */
  from: Map<number, number>;
  /** move id by new sentence index */
  to: Map<number, number>;
}

/** A removed sentence that reappears verbatim among the added ones moved. Linear, by hash. */
function findMoves(
  items: readonly Item[],
  oldIds: Int32Array,
  newIds: Int32Array,
  oldSentences: readonly Sentence[],
  newSentences: readonly Sentence[],
): Moves {
  // Removed sentences by id, consumed in order through a cursor (no Array#shift: that is O(n)).
  const removedById = new Map<number, { at: number; list: number[] }>();
  for (const item of items) {
    if (item.equal) continue;
    for (const a of item.del) {
      if ((oldSentences[a] as Sentence).words === 0) continue;
      const id = oldIds[a] as number;
      const queue = removedById.get(id);
      if (queue) queue.list.push(a);
      else removedById.set(id, { at: 0, list: [a] });
    }
  }
  const moves: Moves = { from: new Map(), to: new Map() };
  if (removedById.size === 0) return moves;
  let next = 1;
  for (const item of items) {
    if (item.equal) continue;
    for (const b of item.ins) {
      if ((newSentences[b] as Sentence).words === 0) continue;
      const queue = removedById.get(newIds[b] as number);
      if (queue === undefined || queue.at >= queue.list.length) continue;
      const a = queue.list[queue.at++] as number;
      moves.from.set(a, next);
      moves.to.set(b, next);
      next++;
    }
  }
  return moves;
}

function toRows(
  items: readonly Item[],
  moves: Moves,
  oldSentences: readonly Sentence[],
  newSentences: readonly Sentence[],
  limits: DiffLimits,
  pairBudget: PairBudget,
  wordBudget: WordBudget,
  wordIds: Map<string, number>,
): Row[] {
  const rows: Row[] = [];
  const bagIds = new Map<string, number>();
  for (const item of items) {
    if (item.equal) {
      rows.push({
        kind: "equal",
        before: oldSentences[item.a] as Sentence,
        after: newSentences[item.b] as Sentence,
      });
      continue;
    }
    const dels = item.del.filter((a) => !moves.from.has(a));
    const ins = item.ins.filter((b) => !moves.to.has(b));
    const pairs = pairHunk(
      lazyBags(dels, oldSentences, bagIds),
      lazyBags(ins, newSentences, bagIds),
      limits.pairWindow,
      pairBudget,
    );
    let di = 0;
    let ii = 0;
    const emitUntil = (aStop: number, bStop: number) => {
      while (di < item.del.length && (item.del[di] as number) < aStop) {
        const a = item.del[di++] as number;
        rows.push({ kind: "delete", before: oldSentences[a] as Sentence, ...moveOf(moves.from, a) });
      }
      while (ii < item.ins.length && (item.ins[ii] as number) < bStop) {
        const b = item.ins[ii++] as number;
        rows.push({ kind: "insert", after: newSentences[b] as Sentence, ...moveOf(moves.to, b) });
      }
    };
    for (const [dp, ip] of pairs) {
      const a = dels[dp] as number;
      const b = ins[ip] as number;
      emitUntil(a, b);
      di++;
      ii++;
      const before = oldSentences[a] as Sentence;
      const after = newSentences[b] as Sentence;
      const words = diffWords(before.tokens, after.tokens, wordIds, wordBudget);
      rows.push({ kind: "change", before, after, words, classes: words.hunks.map(classifyHunk) });
    }
    emitUntil(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
  }
  return rows;
}

function moveOf(map: Map<number, number>, index: number): { moveId?: number } {
  const moveId = map.get(index);
  return moveId === undefined ? {} : { moveId };
}

function lazyBags(
  indices: readonly number[],
  sentences: readonly Sentence[],
  ids: Map<string, number>,
): Bags {
  const memo: Array<WordBag | undefined> = [];
  return {
    length: indices.length,
    get(index) {
      let bag = memo[index];
      if (bag === undefined) {
        bag = bagOf(sentences[indices[index] as number] as Sentence, ids);
        memo[index] = bag;
      }
      return bag;
    },
  };
}

function bagOf(sentence: Sentence, ids: Map<string, number>): WordBag {
  const bag: number[] = [];
  for (const token of sentence.tokens) {
    if (!token.word) continue;
    const key = token.key.toLowerCase();
    let id = ids.get(key);
    if (id === undefined) {
      id = ids.size;
      ids.set(key, id);
    }
    bag.push(id);
  }
  return Int32Array.from(bag).sort();
}

function isCoarseChange(row: Row): boolean {
  return row.kind === "change" && row.words.coarse;
}

/** Title and byline are single "sentences": tokenised whole, whitespace collapsed. */
function fieldTokens(text: string, keys: KeyCache): Token[] {
  const tokens = tokeniseParagraph(removeInvisible(text).replace(/\s+/g, " "), keys);
  const first = tokens.find((token) => token.word);
  if (first) first.initial = true;
  return tokens;
}

function sameKeys(a: readonly Token[], b: readonly Token[]): boolean {
  return a.length === b.length && a.every((token, k) => token.key === (b[k] as Token).key);
}

/**
 * A missing title on either side means "unknown", not "removed": extraction may miss a title on
 * one capture, and that is no edit.
 */
function compareTitle(
  before: string | null,
  after: string | null,
  keys: KeyCache,
  wordIds: Map<string, number>,
  budget: WordBudget,
): FieldChange | null {
  if (!before?.trim() || !after?.trim()) return null;
  const a = fieldTokens(before, keys);
  const b = fieldTokens(after, keys);
  if (sameKeys(a, b)) return null;
  const words = diffWords(a, b, wordIds, budget);
  return { before: before.trim(), after: after.trim(), words, classes: words.hunks.map(classifyHunk) };
}

/** Bylines compare case-insensitively and without a leading "By"; a missing byline is unknown. */
function compareByline(
  before: string | null,
  after: string | null,
  keys: KeyCache,
  wordIds: Map<string, number>,
  budget: WordBudget,
): FieldChange | null {
  if (!before?.trim() || !after?.trim()) return null;
  const a = fieldTokens(before, keys);
  const b = fieldTokens(after, keys);
  const comparable = (tokens: Token[]) => {
    const words = tokens.filter((token) => token.word).map((token) => token.key.toLowerCase());
    if (words[0] === "by") words.shift();
    return words.join(" ");
  };
  if (comparable(a) === comparable(b)) return null;
  const words = diffWords(a, b, wordIds, budget);
  return {
    before: before.trim(),
    after: after.trim(),
    words,
    classes: words.hunks.map(() => ({ minor: false, number: false, quote: false })),
  };
}
