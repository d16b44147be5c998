/**
 * Edit classification rules (PRODUCT.md): minor = spelling/typography-level only; major = any
 * sentence added or removed, any number, name or quotation changed, the headline reworded, or a
 * larger rewrite.
 *
 * A word-level hunk inside a changed sentence is minor when it is only:
 * - punctuation (commas, full stops, quotation marks, hyphens),
 * - case, spacing or apostrophes ("Every day" → "everyday", "its" → "it's"),
 * - typo fixes: the same number of words on each side, each pair one edit apart (insertion,
 *   deletion, substitution or adjacent transposition) and at least four letters long, with no digits,
 *   not a name (a capitalised word that does not start its sentence) and not a word whose one-letter
 *   change flips the meaning (negations, pronouns, number words: "now" → "not", "they" → "then").
 * Anything else is major. Without a dictionary, a one-letter change between two real words
 * ("affect" → "effect") reads as a typo fix; that is the documented limit of the heuristic.
 *
 * Beyond hunks: an added, removed or moved sentence is major (moving a paragraph is an editorial
 * change, not typography); a headline follows the hunk rules (so a typo fixed in it is minor but
 * any rewording is major; in a Title Case headline every word looks like a name, so there even a
 * typo fix is major); any byline change is major (it names people).
 */

import type { Token } from "./tokenise.ts";
import type { WordHunk } from "./word-diff.ts";

export interface HunkClass {
  minor: boolean;
  /** A digit-bearing token, currency sign, percent sign, number word or date word changed. */
  number: boolean;
  /** Words inside a quotation changed (beyond typo level). */
  quote: boolean;
}

const NUMBER_WORDS: ReadonlySet<string> = new Set([
  "zero",
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
  "ten",
  "eleven",
  "twelve",
  "thirteen",
  "fourteen",
  "fifteen",
  "sixteen",
  "seventeen",
  "eighteen",
  "nineteen",
  "twenty",
  "thirty",
  "forty",
  "fifty",
  "sixty",
  "seventy",
  "eighty",
  "ninety",
  "hundred",
  "hundreds",
  "thousand",
  "thousands",
  "million",
  "millions",
  "billion",
  "billions",
  "trillion",
  "trillions",
  "dozen",
  "dozens",
  "half",
  "third",
  "quarter",
  "first",
  "second",
  "fourth",
  "fifth",
  "sixth",
  "seventh",
  "eighth",
  "ninth",
  "tenth",
  "once",
  "twice",
  "bn",
  "percent",
]);

/** Capitalised date words; "may" and "march" in lower case are ordinary words. */
const DATE_WORDS: ReadonlySet<string> = new Set([
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
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
  "Monday",
  "Tuesday",
  "Wednesday",
  "Thursday",
  "Friday",
  "Saturday",
  "Sunday",
]);

/** Short words whose one-letter changes flip meaning; never treated as typo fixes. */
const MEANING_WORDS: ReadonlySet<string> = new Set([
  "not",
  "now",
  "no",
  "nor",
  "never",
  "ever",
  "none",
  "nothing",
  "nobody",
  "cannot",
  "can't",
  "won't",
  "don't",
  "didn't",
  "doesn't",
  "isn't",
  "aren't",
  "wasn't",
  "weren't",
  "hasn't",
  "haven't",
  "hadn't",
  "shouldn't",
  "wouldn't",
  "couldn't",
  "mustn't",
  "they",
  "them",
  "then",
  "than",
  "their",
  "there",
  "these",
  "those",
  "this",
  "that",
  "hers",
  "here",
  "were",
  "where",
  "will",
  "well",
  "would",
  "could",
  "should",
  "might",
  "must",
  "more",
  "most",
  "less",
  "least",
  "loss",
  "lost",
  "last",
  "rise",
  "rose",
  "fall",
  "fell",
  "over",
  "even",
  "before",
  "after",
  "with",
  "without",
  "dead",
  "deaf",
  "died",
  "dies",
  "live",
  "life",
  "lives",
  "win",
  "wins",
  "won",
  "guilty",
  "always",
  "also",
  "only",
]);

const HAS_DIGIT = /\p{N}/u;
/** Longer "words" are identifiers, URLs or run-together text, not something one misspells. */
const MAX_WORD_LENGTH = 30;
const CURRENCY = /^\p{Sc}$/u;
const UPPERCASE_START = /^\p{Lu}/u;
const APOSTROPHE = /'/g;

function hasFigure(token: Token): boolean {
  if (HAS_DIGIT.test(token.key)) return true;
  return !token.word && (CURRENCY.test(token.key) || token.key === "%");
}

function isNumberWord(token: Token): boolean {
  return token.word && (NUMBER_WORDS.has(token.key.toLowerCase()) || DATE_WORDS.has(token.key));
}

/** A capitalised word that does not start its sentence: a name, as far as a diff can tell. */
function isName(token: Token): boolean {
  return token.word && !token.initial && UPPERCASE_START.test(token.text);
}

const MINOR: HunkClass = Object.freeze({ minor: true, number: false, quote: false });

export function classifyHunk(hunk: WordHunk): HunkClass {
  const delWords = hunk.del.filter((token) => token.word);
  const insWords = hunk.ins.filter((token) => token.word);
  const quote = delWords.some((token) => token.quoted) || insWords.some((token) => token.quoted);
  // Digits, currency and percent signs are never typography ("£" → "$" is a different sum).
  if (hunk.del.some(hasFigure) || hunk.ins.some(hasFigure)) return { minor: false, number: true, quote };
  if (delWords.length === 0 && insWords.length === 0) return MINOR;
  if (sameLetters(delWords, insWords)) return MINOR;
  if (
    delWords.length === insWords.length &&
    delWords.every((token, k) => isTypoFix(token, insWords[k] as Token))
  ) {
    return MINOR;
  }
  // A number or date word that changed ("million" → "billion", "May" → "June") is a figure too.
  const number = delWords.some(isNumberWord) || insWords.some(isNumberWord);
  return { minor: false, number, quote };
}

/** Case, spacing and apostrophes only: "Every day" → "everyday", "its" → "it's". */
function sameLetters(del: readonly Token[], ins: readonly Token[]): boolean {
  const joined = (tokens: readonly Token[]) =>
    tokens.map((token) => token.key.toLowerCase().replace(APOSTROPHE, "")).join("");
  return joined(del) === joined(ins);
}

function isTypoFix(before: Token, after: Token): boolean {
  const a = before.key.toLowerCase();
  const b = after.key.toLowerCase();
  if (a === b) return true;
  if (isName(before) || isName(after)) return false;
  if (Math.min(a.length, b.length) < 4 || Math.max(a.length, b.length) > MAX_WORD_LENGTH) return false;
  if (HAS_DIGIT.test(a) || HAS_DIGIT.test(b)) return false;
  if (MEANING_WORDS.has(a) || MEANING_WORDS.has(b)) return false;
  // "miillion" → "million" is a typo fix; "million" → "billion" is a different figure.
  if (isNumberWord(before) && isNumberWord(after)) return false;
  return isOneEditApart(a, b);
}

/** Damerau-Levenshtein distance exactly 1 (adjacent transposition counts as one), in linear time. */
export function isOneEditApart(a: string, b: string): boolean {
  if (a === b) return false;
  if (a.length === b.length) {
    let first = -1;
    for (let i = 0; i < a.length; i++) {
      if (a[i] === b[i]) continue;
      first = i;
      break;
    }
    if (first < 0) return false;
    if (a.slice(first + 1) === b.slice(first + 1)) return true;
    return (
      a[first] === b[first + 1] && a[first + 1] === b[first] && a.slice(first + 2) === b.slice(first + 2)
    );
  }
  if (Math.abs(a.length - b.length) !== 1) return false;
  const [short, long] = a.length < b.length ? [a, b] : [b, a];
  let i = 0;
  while (i < short.length && short[i] === long[i]) i++;
  return short.slice(i) === long.slice(i + 1);
}

/**
 * Notices by which a page admits an edit. Checked only on text that is new in the after version.
 */
const CORRECTION_PATTERNS: readonly RegExp[] = [
  /^\W*(?:corrections?|clarifications?|editor'?s? note|updates?|updated|amendments?|retraction)\b\s*(?:\([^)]{0,60}\)\s*)?(?:\d[\w ,:.]{0,40})?\s*[:-]/i,
  /\bthis (?:article|story|report|piece|post|headline|caption|page|video) (?:has been|was|is being|had been) (?:amended|updated|corrected|changed|edited|revised|clarified)\b/i,
  /\ban? (?:earlier|previous|prior|original) version of this (?:article|story|report|piece|post|headline|caption|page)\b/i,
  /\bwe (?:have |had )?(?:corrected|amended|clarified|updated) (?:this|the|an?|our) (?:article|story|report|piece|post|headline|caption|error|mistake)\b/i,
  /\b(?:article|story|report|piece|headline) (?:was|has been) (?:corrected|amended) (?:on|to|at)\b/i,
];

export function hasCorrectionNotice(text: string): boolean {
  return CORRECTION_PATTERNS.some((pattern) => pattern.test(text));
}

/**
 * Whether an edit is stealth: the text changed but the page's declared modification time
 * (`article:modified_time`, JSON-LD `dateModified`) did not advance.
 *
 * - both declared: stealth when they are the same instant (or the same string, if unparseable);
 * - declared before, none now: stealth (the page stopped declaring and admits nothing);
 * - none before, declared now: not stealth (the page now states a modification);
 * - never declared: stealth — a page that declares no modification time has admitted nothing,
 *   and that is exactly the case a watchdog wants flagged.
 * A correction notice in the text is reported as the `correction` kind, not folded into `stealth`,
 * so the two signals stay independent.
 */
export function isStealthEdit(beforeModified: string | null, afterModified: string | null): boolean {
  const after = afterModified?.trim() || null;
  const before = beforeModified?.trim() || null;
  if (after === null) return true;
  if (before === null) return false;
  const a = Date.parse(after);
  const b = Date.parse(before);
  if (Number.isFinite(a) && Number.isFinite(b)) return a === b;
  return after === before;
}
