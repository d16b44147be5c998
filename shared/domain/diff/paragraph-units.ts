/**
 * Comparison units: sentences, or, for large inputs, whole paragraphs where sentences would cost
 * too much. Tokenising, splitting and the per-sentence bookkeeping cost a few microseconds a
 * sentence and a fraction of one a word, so the diff first estimates that work for both versions
 * (one pass over the characters, no strings built: words + `SENTENCE_COST` per sentence). Within
 * `maxFineWork` every paragraph is split into sentences, exactly as `splitIntoSentences` does.
 * Past it, paragraphs are aligned by a hash of their folded text, and then:
 * - an unchanged paragraph becomes one unit, identical on both sides, never tokenised;
 * - a changed region (a hunk of the paragraph alignment) is split into sentences while the
 *   regions split so far, both versions together, fit in `maxFineWork`;
 * - a changed region past that allowance is compared paragraph by paragraph, each paragraph one
 *   unit, so it shows as deleted and inserted whole.
 * A text of more than `MAX_BLOCKS` paragraphs is first cut into about that many blocks of
 * consecutive paragraphs (at content-defined points, so an insertion moves no later cut), and
 * blocks take the place of paragraphs above. Coarser, never lossy: every changed paragraph is
 * still listed with its full text, and `bounds.coarse` says when a region was not split into
 * sentences. A unit stands for an estimated number of sentences in the statistics (`count`).
 * Page-furniture paragraphs are dropped first, as in the sentence path. Past `MAX_PARAGRAPHS`
 * paragraphs in a version (no article has a hundredth of that), each version is one unit.
 *
 * Cost: the sentence path within `maxFineWork`, plus, for large inputs, a pass over the characters
 * (tens of nanoseconds each: splitting, hashing, escaping for the HTML) and a few microseconds per
 * paragraph, for at most `MAX_PARAGRAPHS` of them; the alignments are capped as elsewhere.
 */

import { type Sentence, type SplitOptions, splitIntoSentences, splitParagraphInto } from "./sentences.ts";
import { matchSequences } from "./sequence-diff.ts";
import {
  foldParagraph,
  type KeyCache,
  removeInvisible,
  splitParagraphs,
  tokeniseParagraph,
} from "./tokenise.ts";
import { isVolatileParagraph, mightBeVolatile } from "./volatile.ts";

export interface UnitOptions extends SplitOptions {
  maxFineWork: number;
  maxAlignSteps: number;
}

export interface Units {
  oldUnits: Sentence[];
  newUnits: Sentence[];
  /** Counted steps of the paragraph alignment (0 when every paragraph was split into sentences). */
  work: number;
  /** Some changed paragraphs were compared whole rather than by sentence. */
  coarse: boolean;
}

/** At most about this many units per version stand for unchanged or coarse paragraphs. */
export const MAX_BLOCKS = 4000;
/** More paragraphs than this in a version, and each version is compared whole. */
export const MAX_PARAGRAPHS = 20_000;
/** A sentence costs about as much as this many words (objects, keys, rows, rendering). */
const SENTENCE_COST = 5;
/** Below this many characters (both versions) the estimate is not worth making. */
const SMALL_INPUT = 32_768;

/** Keys of paragraph units start with a character no token key contains. */
const UNIT_KEY_PREFIX = "\u0002";

export function comparisonUnits(
  oldText: string,
  newText: string,
  options: UnitOptions,
  keys: KeyCache,
): Units {
  if (oldText.length + newText.length <= SMALL_INPUT) {
    return {
      oldUnits: splitIntoSentences(oldText, options, keys),
      newUnits: splitIntoSentences(newText, options, keys),
      work: 0,
      coarse: false,
    };
  }
  const oldBreaks = paragraphBreaks(oldText);
  const newBreaks = paragraphBreaks(newText);
  if (oldBreaks >= MAX_PARAGRAPHS || newBreaks >= MAX_PARAGRAPHS)
    return wholeTextUnits(oldText, oldBreaks, newText, newBreaks);
  const oldParagraphs = splitParagraphs(oldText);
  const newParagraphs = splitParagraphs(newText);
  const ids = new Map<number, number>();
  const oldSide = new Side(oldParagraphs, options, keys);
  const newSide = new Side(newParagraphs, options, keys);
  const split: SplitOptions = { ...options, ignoreVolatileParagraphs: false };
  if (oldSide.cost() + newSide.cost() <= options.maxFineWork) {
    oldSide.splitAll(split, keys);
    newSide.splitAll(split, keys);
    return { oldUnits: oldSide.units, newUnits: newSide.units, work: 0, coarse: false };
  }
  const alignment = matchSequences(oldSide.blockIds(ids), newSide.blockIds(ids), options.maxAlignSteps);
  const aToB = alignment.aToB;
  let allowance = options.maxFineWork;
  let coarse = alignment.coarse;
  let i = 0;
  let j = 0;
  while (i < oldSide.length || j < newSide.length) {
    if (i < oldSide.length && aToB[i] === j && sameBlock(oldSide, i, newSide, j)) {
      oldSide.whole(i++);
      newSide.whole(j++);
      continue;
    }
    // A changed region: old blocks up to the next match, new ones up to its counterpart (or the
    // one pair whose hashes matched but whose text did not).
    const oldFrom = i;
    const newFrom = j;
    if (i < oldSide.length && aToB[i] === j) {
      i++;
      j++;
    } else {
      while (i < oldSide.length && aToB[i] === -1) i++;
      j = i < oldSide.length ? (aToB[i] as number) : newSide.length;
    }
    const cost = oldSide.cost(oldFrom, i) + newSide.cost(newFrom, j);
    const fine = cost <= allowance;
    if (fine) allowance -= cost;
    else coarse = true;
    for (let k = oldFrom; k < i; k++) oldSide.changed(k, fine, split, keys);
    for (let k = newFrom; k < j; k++) newSide.changed(k, fine, split, keys);
  }
  return { oldUnits: oldSide.units, newUnits: newSide.units, work: alignment.work, coarse };
}

/**
 * Past `MAX_PARAGRAPHS`, even a pass per paragraph is too much: each version is one unit, equal
 * when their folded texts hash alike (typography, whitespace and paragraph breaks aside), else
 * the old text deleted and the new one inserted, whole. Furniture is not filtered here.
 */
function wholeTextUnits(oldText: string, oldBreaks: number, newText: string, newBreaks: number): Units {
  const unit = (raw: string, breaks: number): Sentence | null => {
    // Kept as it is (invisible characters aside): normalising a million paragraph breaks costs
    // more than it is worth, and the HTML renders any blank line as a break.
    const text = removeInvisible(raw).trim();
    if (text === "") return null;
    const scan = scanParagraph(text);
    return {
      para: 0,
      tokens: [],
      key: `${UNIT_KEY_PREFIX}${scan.hash}`,
      text,
      words: scan.words,
      fragment: false,
      count: scan.sentences,
      paragraphs: breaks + 1,
    };
  };
  const oldUnit = unit(oldText, oldBreaks);
  const newUnit = unit(newText, newBreaks);
  return {
    oldUnits: oldUnit === null ? [] : [oldUnit],
    newUnits: newUnit === null ? [] : [newUnit],
    work: 0,
    coarse: oldUnit?.key !== newUnit?.key,
  };
}

/** Paragraph breaks (blank lines) in `text`, counted without splitting it. */
function paragraphBreaks(text: string): number {
  let breaks = 0;
  let at = text.indexOf("\n");
  while (at !== -1) {
    // A newline, whitespace, another newline: a break; the run of whitespace is one.
    let k = at + 1;
    let lines = 1;
    while (k < text.length) {
      const code = text.charCodeAt(k);
      if (code === 0x0a) lines++;
      else if (!isSpace(code)) break;
      k++;
    }
    if (lines > 1) breaks++;
    at = text.indexOf("\n", k);
  }
  return breaks;
}

/** Blocks matched by hash are compared for real unless their text is identical. */
function sameBlock(a: Side, i: number, b: Side, j: number): boolean {
  const x = a.paragraphsOf(i);
  const y = b.paragraphsOf(j);
  if (x.length !== y.length) return false;
  for (let k = 0; k < x.length; k++) {
    const p = x[k] as string;
    const q = y[k] as string;
    if (p !== q && foldParagraph(p) !== foldParagraph(q)) return false;
  }
  return true;
}

/** One version: its paragraphs (furniture dropped), grouped into blocks, turned into units in order. */
class Side {
  readonly units: Sentence[] = [];
  private readonly paragraphs: string[];
  private readonly scans: Scan[];
  /** Block k is paragraphs starts[k] to starts[k + 1]. */
  private starts: number[] = [];
  private ids = new Int32Array(0);
  private para = 0;

  constructor(paragraphs: readonly string[], options: SplitOptions, keys: KeyCache) {
    this.paragraphs = paragraphs.filter(
      (paragraph) =>
        !options.ignoreVolatileParagraphs ||
        !mightBeVolatile(paragraph) ||
        !isVolatileParagraph(tokeniseParagraph(paragraph, keys)),
    );
    this.scans = this.paragraphs.map(scanParagraph);
  }

  /** Estimated sentence-path work for blocks `from` to `to`, or for the whole text. */
  cost(from?: number, to?: number): number {
    const first = from === undefined ? 0 : (this.starts[from] as number);
    const end = to === undefined ? this.paragraphs.length : (this.starts[to] as number);
    let n = 0;
    for (let k = first; k < end; k++) {
      const scan = this.scans[k] as Scan;
      n += scan.words + SENTENCE_COST * scan.sentences;
    }
    return n;
  }

  /** Every paragraph split into sentences (the whole text is affordable). */
  splitAll(options: SplitOptions, keys: KeyCache): void {
    for (const paragraph of this.paragraphs) {
      if (splitParagraphInto(this.units, paragraph, this.para, options, keys)) this.para++;
    }
  }

  /** Groups the paragraphs into blocks and gives each block an id (equal hashes, equal ids, across both sides). */
  blockIds(ids: Map<number, number>): Int32Array {
    this.starts = blockStarts(this.scans);
    this.ids = new Int32Array(this.starts.length - 1);
    for (let k = 0; k < this.ids.length; k++) {
      const hash = this.blockHash(k);
      let id = ids.get(hash);
      if (id === undefined) {
        id = ids.size;
        ids.set(hash, id);
      }
      this.ids[k] = id;
    }
    return this.ids;
  }

  /** Number of blocks. */
  get length(): number {
    return this.ids.length;
  }

  paragraphsOf(block: number): string[] {
    return this.paragraphs.slice(this.starts[block], this.starts[block + 1]);
  }

  /** An unchanged block: one unit. */
  whole(block: number): void {
    this.units.push(this.unit(block));
  }

  /** A changed block: its sentences when affordable, else one unit. */
  changed(block: number, fine: boolean, options: SplitOptions, keys: KeyCache): void {
    if (!fine) {
      this.units.push(this.unit(block));
      return;
    }
    for (const paragraph of this.paragraphsOf(block)) {
      if (splitParagraphInto(this.units, paragraph, this.para, options, keys)) this.para++;
    }
  }

  private blockHash(block: number): number {
    const from = this.starts[block] as number;
    const to = this.starts[block + 1] as number;
    if (to - from === 1) return (this.scans[from] as Scan).hash;
    let h = 0;
    for (let k = from; k < to; k++) h = (h * 31 + (this.scans[k] as Scan).hash) % HASH_MODULUS;
    return h;
  }

  private unit(block: number): Sentence {
    const from = this.starts[block] as number;
    const to = this.starts[block + 1] as number;
    let words = 0;
    let count = 0;
    const texts: string[] = [];
    for (let k = from; k < to; k++) {
      const paragraph = this.paragraphs[k] as string;
      const scan = this.scans[k] as Scan;
      words += scan.words;
      count += scan.sentences;
      texts.push(MESSY_WHITESPACE.test(paragraph) ? paragraph.replace(/\s+/g, " ").trim() : paragraph);
    }
    const unit: Sentence = {
      para: this.para,
      tokens: [],
      key: `${UNIT_KEY_PREFIX}${this.ids[block]}`,
      text: texts.join("\n\n"),
      words,
      fragment: false,
      count,
      paragraphs: to - from,
    };
    this.para += to - from;
    return unit;
  }
}

/** A prime below 2^53 / 32, so that h * 31 + hash stays an exact integer. */
const HASH_MODULUS = 281_474_976_710_597;

/**
 * Where blocks start (and, last, the paragraph count): one block a paragraph, or, past
 * `MAX_BLOCKS` paragraphs, runs cut after a paragraph whose hash hits, so that the same text cuts
 * the same way wherever it sits; at most four times the average run.
 */
function blockStarts(scans: readonly Scan[]): number[] {
  const starts: number[] = [];
  const perBlock = Math.ceil(scans.length / MAX_BLOCKS);
  if (perBlock <= 1) {
    for (let k = 0; k <= scans.length; k++) starts.push(k);
    return starts;
  }
  let start = 0;
  starts.push(0);
  for (let k = 0; k < scans.length; k++) {
    const length = k - start + 1;
    if ((scans[k] as Scan).hash % perBlock === 0 || length >= 4 * perBlock) {
      starts.push(k + 1);
      start = k + 1;
    }
  }
  if (start < scans.length) starts.push(scans.length);
  return starts;
}

const MESSY_WHITESPACE = /[^\S ]| {2}|^ | $/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: "all ASCII" includes the control range
const ASCII = /^[\x00-\x7f]*$/;

interface Scan {
  /** 53-bit hash of the paragraph's folded form (see `foldParagraph`). */
  hash: number;
  /** Word count, approximately as the tokens count them. */
  words: number;
  /** Sentence count, approximately as the splitter counts them. */
  sentences: number;
}

/**
 * One pass over a paragraph, without building strings: a hash of its folded form (the token
 * folding; whitespace only between word characters) and its word and sentence counts.
 */
function scanParagraph(paragraph: string): Scan {
  const text = ASCII.test(paragraph) ? paragraph : paragraph.normalize("NFKC");
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  let words = 0;
  let sentences = 1;
  let prevWord = false;
  let space = false;
  let ended = false;
  for (let k = 0; k < text.length; k++) {
    let code = text.charCodeAt(k);
    if (code === 0x20 || (code > 0x7e && isSpace(code)) || (code >= 0x09 && code <= 0x0d)) {
      space = true;
      continue;
    }
    if (code < 0x20) continue;
    if (code >= 0x80) code = FOLD.get(code) ?? code;
    const word = isWordCode(code);
    if (space && ended) sentences++;
    if (word && (space || !prevWord)) words++;
    if (space && word && prevWord) {
      h1 = Math.imul(h1 ^ 0x20, 0x01000193);
      h2 = Math.imul(h2 ^ 0x20, 0x5bd1e995) ^ (h2 >>> 13);
    }
    space = false;
    // "…" folds to "...".
    for (let n = code === ELLIPSIS ? 3 : 1, c = code === ELLIPSIS ? 0x2e : code; n > 0; n--) {
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 13);
    }
    if (code === 0x2e || code === 0x21 || code === 0x3f || (code >= 0x80 && TERMINATORS.has(code)))
      ended = true;
    else if (!(ended && (code === 0x22 || code === 0x27 || code === 0x29 || code === 0x5d || code === 0x7d)))
      ended = false;
    prevWord = word;
  }
  return { hash: (h1 >>> 0) * 0x200000 + (h2 >>> 11), words, sentences };
}

const ELLIPSIS = 0x2026;
/** Sentence terminators beyond ASCII's . ! ? (closing quotes and brackets after one keep it open). */
const TERMINATORS: ReadonlySet<number> = new Set([ELLIPSIS, 0x3002, 0x61f]);

/** The token folding by character code: one apostrophe, one double quote, one dash. */
const FOLD: ReadonlyMap<number, number> = new Map([
  ...[0x2018, 0x2019, 0x201a, 0x201b, 0x2032, 0xb4, 0x60].map((c): [number, number] => [c, 0x27]),
  ...[0x201c, 0x201d, 0x201e, 0x201f, 0x2033, 0xab, 0xbb].map((c): [number, number] => [c, 0x22]),
  ...[0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0x2e3a, 0x2e3b].map((c): [number, number] => [
    c,
    0x2d,
  ]),
]);

function isSpace(code: number): boolean {
  return (
    code === 0x20 ||
    (code >= 0x09 && code <= 0x0d) ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

/**
 * Letters and digits; beyond ASCII, anything but general punctuation and symbols counts as a
 * word character, so whitespace next to it stays in the hash (erring towards "changed").
 */
function isWordCode(code: number): boolean {
  if (code < 0x80) return (code >= 0x30 && code <= 0x39) || ((code | 0x20) >= 0x61 && (code | 0x20) <= 0x7a);
  return !(
    (code >= 0xa1 && code <= 0xbf) ||
    code === 0xd7 ||
    code === 0xf7 ||
    (code >= 0x2000 && code <= 0x2bff) ||
    (code >= 0x3000 && code <= 0x303f)
  );
}
