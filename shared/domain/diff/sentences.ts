/**
 * Sentence splitting over tokens. Decisions look only at the few tokens around a full stop, so an
 * edit in one sentence never moves the boundaries of another, and since tokens ignore typography
 * and whitespace, both versions of a noisy page split identically.
 *
 * Non-goal: linguistic perfection. "in the U.S. The" stays one sentence; what matters is that the
 * same text always splits the same way.
 */

import { joinTokens, KeyCache, splitParagraphs, type Token, tokeniseParagraph } from "./tokenise.ts";
import { isVolatileParagraph } from "./volatile.ts";

export interface Sentence {
  /** Index of the paragraph it sits in (after volatile paragraphs were dropped). */
  readonly para: number;
  readonly tokens: readonly Token[];
  /** Comparison key: token keys joined, whitespace ignored. */
  readonly key: string;
  /** Display text. */
  readonly text: string;
  readonly words: number;
  /** A chunk of an over-long sentence rather than a whole sentence. */
  readonly fragment: boolean;
  /**
   * How many sentences this unit stands for in the statistics: 1 for a sentence or chunk; for a
   * whole paragraph compared as one unit (large inputs, see `paragraph-units.ts`), an estimate.
   */
  readonly count: number;
  /** Set on a unit of whole paragraphs: how many, their texts joined by blank lines. */
  readonly paragraphs?: number;
}

export interface SplitOptions {
  maxSentenceTokens: number;
  ignoreVolatileParagraphs: boolean;
}

const TERMINATORS: ReadonlySet<string> = new Set([".", "?", "!", "。", "؟"]);
const DOTS = /^\.+$/;

function isTerminator(key: string): boolean {
  return TERMINATORS.has(key) || DOTS.test(key);
}
const BRACKET_CLOSERS: ReadonlySet<string> = new Set([")", "]", "}"]);
const QUOTE_MARKS: ReadonlySet<string> = new Set(['"', "'"]);
/** Punctuation after a full stop that means the sentence goes on ("e.g., …", "p.m.;"). */
const CONTINUERS: ReadonlySet<string> = new Set([",", ";", ":", ")", "]", "}", "%", "/", "&", "-"]);

/** Titles and forms that are followed by a name or a number, never by a new sentence. */
const TITLE_ABBREVIATIONS: ReadonlySet<string> = new Set([
  "Mr",
  "Mrs",
  "Ms",
  "Mx",
  "Dr",
  "Prof",
  "Sen",
  "Rep",
  "Gov",
  "Gen",
  "Col",
  "Lt",
  "Sgt",
  "Capt",
  "Cmdr",
  "Adm",
  "Maj",
  "Rev",
  "Hon",
  "St",
  "Mt",
  "Messrs",
  "Mme",
  "Mlle",
  "Fr",
  "Supt",
  "Insp",
  "Det",
  "Cllr",
]);
/** "etc." is left out: before a capital it ends a sentence far more often than not. */
const LOWER_ABBREVIATIONS: ReadonlySet<string> = new Set(["vs", "cf", "al", "approx", "ca", "viz"]);
/** Abbreviations that precede a number: "Jan. 6", "No. 10", "Vol. 3". */
const NUMBER_ABBREVIATIONS: ReadonlySet<string> = new Set([
  "Jan",
  "Feb",
  "Mar",
  "Apr",
  "Jun",
  "Jul",
  "Aug",
  "Sep",
  "Sept",
  "Oct",
  "Nov",
  "Dec",
  "No",
  "Nos",
  "Vol",
  "Art",
  "Fig",
  "p",
  "pp",
  "para",
]);

const LOWERCASE_START = /^\p{Ll}/u;
const STARTS_WITH_DIGIT = /^\p{N}/u;
const SINGLE_LETTER = /^\p{L}$/u;
const ALL_DIGITS = /^\p{N}+$/u;

/**
 * Splits article text into sentences: paragraphs on blank lines, then sentences on terminal
 * punctuation, then over-long sentences into content-defined chunks. Linear in the input.
 */
export function splitIntoSentences(text: string, options: SplitOptions, keys: KeyCache): Sentence[] {
  const sentences: Sentence[] = [];
  let para = 0;
  for (const paragraph of splitParagraphs(text)) {
    if (splitParagraphInto(sentences, paragraph, para, options, keys)) para++;
  }
  return sentences;
}

/**
 * Appends one paragraph's sentences to `out` as paragraph number `para`; false (and nothing
 * appended) when the paragraph is empty or, with `ignoreVolatileParagraphs`, page furniture.
 */
export function splitParagraphInto(
  out: Sentence[],
  paragraph: string,
  para: number,
  options: SplitOptions,
  keys: KeyCache,
): boolean {
  const tokens = tokeniseParagraph(paragraph, keys);
  if (tokens.length === 0) return false;
  if (options.ignoreVolatileParagraphs && isVolatileParagraph(tokens)) return false;
  let start = 0;
  for (let k = 0; k < tokens.length; k++) {
    const end = sentenceEndAfter(tokens, k, start);
    if (end < 0) continue;
    pushSentence(out, tokens.slice(start, end), para, options.maxSentenceTokens);
    start = end;
    k = end - 1;
  }
  if (start < tokens.length) pushSentence(out, tokens.slice(start), para, options.maxSentenceTokens);
  return true;
}

/**
 * If token k ends a sentence, the index just past the sentence (closing quotes and brackets
 * included); otherwise -1.
 */
function sentenceEndAfter(tokens: readonly Token[], k: number, start: number): number {
  const token = tokens[k] as Token;
  if (token.word || !isTerminator(token.key)) return -1;
  let end = k + 1;
  while (end < tokens.length) {
    const next = tokens[end] as Token;
    if (next.word) break;
    // Closing marks attached to the stop belong to the sentence. Attachment, not quotation state,
    // decides, so removing a quotation elsewhere in the paragraph cannot move this boundary.
    if (isTerminator(next.key) || BRACKET_CLOSERS.has(next.key) || (!next.space && QUOTE_MARKS.has(next.key)))
      end++;
    else break;
  }
  const next = tokens[end];
  if (next === undefined) return end;
  if (next.word ? LOWERCASE_START.test(next.text) : CONTINUERS.has(next.key)) return -1;
  if (token.key === "." && isAbbreviation(tokens, k, start, next)) return -1;
  return end;
}

function isAbbreviation(tokens: readonly Token[], dot: number, start: number, next: Token): boolean {
  const prev = tokens[dot - 1];
  if (prev === undefined || !prev.word) return false;
  const word = prev.text;
  if (SINGLE_LETTER.test(word)) return true;
  if (TITLE_ABBREVIATIONS.has(word)) return true;
  if (LOWER_ABBREVIATIONS.has(word)) return true;
  if (NUMBER_ABBREVIATIONS.has(word) && next.word && STARTS_WITH_DIGIT.test(next.text)) return true;
  // A list marker: "1. High-protein meals".
  return dot - 1 === start && ALL_DIGITS.test(word);
}

function pushSentence(out: Sentence[], tokens: Token[], para: number, maxTokens: number): void {
  if (tokens.length <= maxTokens) {
    out.push(makeSentence(tokens, para, false));
    return;
  }
  for (const chunk of chunkTokens(tokens, maxTokens)) out.push(makeSentence(chunk, para, true));
}

function makeSentence(tokens: Token[], para: number, fragment: boolean): Sentence {
  let words = 0;
  let first = true;
  for (const token of tokens) {
    if (!token.word) continue;
    words++;
    if (first) {
      token.initial = true;
      first = false;
    }
  }
  // join() yields a flat string; building it with += leaves a rope that is slow to hash.
  const key = tokens.map((token) => token.key).join("\u0001");
  return { para, tokens, key, text: joinTokens(tokens), words, fragment, count: 1 };
}

/**
 * Cuts an over-long sentence where its content says so (after a comma or semicolon, or after a
 * token whose hash hits), never before `min` tokens and always by `max`. Content-defined cuts stay
 * put when words are inserted elsewhere, so an edit in a giant sentence changes one chunk, not all
 * that follow it. Only runs with no natural cut (one word repeated) fall back to fixed-size cuts.
 */
function chunkTokens(tokens: Token[], max: number): Token[][] {
  const min = Math.max(1, Math.floor(max * 0.3));
  const chunks: Token[][] = [];
  let start = 0;
  for (let k = 0; k < tokens.length; k++) {
    const length = k - start + 1;
    const token = tokens[k] as Token;
    const natural =
      length >= min && (token.key === ";" || token.key === "," || (fnv1a(token.key) & 31) === 0);
    if (natural || length >= max) {
      chunks.push(tokens.slice(start, k + 1));
      start = k + 1;
    }
  }
  if (start < tokens.length) chunks.push(tokens.slice(start));
  return chunks;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Splits text into sentences as the diff sees them (display text), by default without chunking
 * long sentences or dropping furniture paragraphs. For callers and tests; the diff itself works on
 * the token form.
 */
export function splitSentences(text: string, options?: Partial<SplitOptions>): string[] {
  const resolved: SplitOptions = {
    maxSentenceTokens: options?.maxSentenceTokens ?? Number.POSITIVE_INFINITY,
    ignoreVolatileParagraphs: options?.ignoreVolatileParagraphs ?? false,
  };
  return splitIntoSentences(text, resolved, new KeyCache()).map((sentence) => sentence.text);
}
