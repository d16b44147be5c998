/**
 * The URL's own history as a signal: how much of a capture's text the previous version shares,
 * and whether the capture is that version cut short (a teaser of the same article).
 *
 * Bags of words, not a diff: a wall and an article share almost no vocabulary, while even a heavy
 * rewrite of one story keeps most of its names and nouns. The diff is for edits; this only asks
 * "is this the same article at all?", cheaply, on every capture.
 */
import { words } from "./page-text.ts";
import type { PreviousText } from "./types.ts";

/** Below this share of the capture's distinct words found in the previous text, it is another page. */
export const UNRELATED_BELOW = 0.25;

/**
 * Words this long carry the content; shorter ones ("the", "und", "pour", "with") are shared by any
 * two pages in one language, so a wall in the article's language shares a quarter of them.
 */
const CONTENT_WORD_MIN_CHARS = 5;

/** How the capture's text relates to the URL's previous version. */
export interface Relation {
  /** Share of the capture's distinct words that the previous text has (0 to 1; 1 when empty). */
  shared: number;
  /** The same share over content words only (see `CONTENT_WORD_MIN_CHARS`; `shared` when it has none). */
  sharedContent: number;
  /** The capture's words over the previous version's. */
  lengthRatio: number;
  /** The capture begins as the previous version begins (its lede, word for word, mostly). */
  sameLede: boolean;
  currentWords: number;
  previousWords: number;
}

/** Compares the capture's title and text with the previous version's. */
export function relateToPrevious(
  current: { title: string | null; text: string },
  previous: PreviousText,
): Relation {
  const now = words(`${current.title ?? ""} ${current.text}`);
  const before = words(`${previous.title ?? ""} ${previous.text}`);
  const known = new Set(before);
  const distinct = new Set(now);
  let found = 0;
  let content = 0;
  let contentFound = 0;
  for (const word of distinct) {
    const isKnown = known.has(word);
    if (isKnown) found++;
    if (word.length >= CONTENT_WORD_MIN_CHARS) {
      content++;
      if (isKnown) contentFound++;
    }
  }
  const shared = distinct.size === 0 ? 1 : found / distinct.size;
  const textNow = words(current.text);
  const textBefore = words(previous.text);
  return {
    shared,
    sharedContent: content === 0 ? shared : contentFound / content,
    lengthRatio: textBefore.length === 0 ? 1 : textNow.length / textBefore.length,
    sameLede: sameLede(textNow, textBefore),
    currentWords: textNow.length,
    previousWords: textBefore.length,
  };
}

/** Size of the lede compared: about a paragraph. */
const LEDE_WORDS = 30;

/**
 * Whether the capture opens as the previous version opens: most of the first words of each in
 * common, in either order (a teaser often drops or adds a kicker line, so no exact prefix).
 */
function sameLede(now: readonly string[], before: readonly string[]): boolean {
  const size = Math.min(LEDE_WORDS, now.length, before.length);
  if (size < 8) return false;
  const head = new Set(before.slice(0, size * 2));
  let found = 0;
  for (const word of now.slice(0, size)) if (head.has(word)) found++;
  return found / size >= 0.8;
}
