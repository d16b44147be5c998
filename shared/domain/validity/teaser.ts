/**
 * A teaser against a full text, paragraph by paragraph. A teaser is the article's first whole
 * paragraphs, often followed by one line of the wall ("Create your free account or log in to
 * continue reading"). Exact paragraphs, unlike history.ts's bag of words; and never this shape
 * alone: an editor who deletes an article's last paragraphs leaves the same shape, so a cut needs
 * a wall's words where the text stops before it is called a teaser.
 */
import { forMatching, words } from "./page-text.ts";
import type { PreviousText } from "./types.ts";
import { PAYWALL_WORDS, WALL_HINT_WORDS } from "./vocabulary.ts";

/** A wall's line after a teaser's paragraphs is short; a longer extra paragraph is article text. */
const WALL_LINE_MAX_WORDS = 40;
/**
 * The page text read after the article's last words: where a wall says it stopped the text. Short:
 * further on are related links, newsletter and subscription boxes, footers.
 */
const AFTER_TEXT_CHARS = 150;
/** Words of the article's end looked for in the page (enough to be found once). */
const END_WORDS = 6;

/** The text's paragraphs (the extractor separates them with a blank line), in matching form. */
function paragraphsOf(text: string): string[] {
  return text
    .split(/\n\s*\n/)
    .map((p) => forMatching(p).trim())
    .filter((p) => p.length > 0);
}

/** A teaser's shape against the previous version: its first `leading` whole paragraphs, then `tail`. */
export interface LeadingParagraphs {
  leading: number;
  /** The one short line after them that the previous version does not have ("" for none). */
  tail: string;
}

/**
 * Whether `now` is the first whole paragraphs of `before` (not all of them), with at most one
 * short line after them; null when it is not.
 */
export function leadingParagraphs(now: string, before: string): LeadingParagraphs | null {
  const current = paragraphsOf(now);
  const previous = paragraphsOf(before);
  let leading = 0;
  while (leading < current.length && leading < previous.length && current[leading] === previous[leading]) {
    leading++;
  }
  const rest = current.slice(leading);
  const tail = rest[0] ?? "";
  if (leading === 0 || leading >= previous.length || rest.length > 1) return null;
  return words(tail).length > WALL_LINE_MAX_WORDS ? null : { leading, tail };
}

/** A wall's words, strong or weak, in `text` (matching form); null for none. */
export function wallWords(text: string): string | null {
  return (PAYWALL_WORDS.exec(text) ?? WALL_HINT_WORDS.exec(text))?.[0] ?? null;
}

/**
 * The page's text right after the article's last words (`pageText` in matching form), where a
 * wall says why the text stops; "" when the end cannot be found.
 */
export function textAfterArticle(pageText: string, articleText: string): string {
  const last = paragraphsOf(articleText).at(-1) ?? "";
  const end = words(last).slice(-END_WORDS);
  if (end.length < 3) return "";
  // Words are letters and digits only, so they need no escaping; anything may separate them.
  const pattern = new RegExp(end.join("[^\\p{L}\\p{N}]+"), "gu");
  let stop = -1;
  for (const match of pageText.matchAll(pattern)) stop = match.index + match[0].length;
  return stop < 0 ? "" : pageText.slice(stop, stop + AFTER_TEXT_CHARS);
}

/**
 * Whether `now` completes `before` as a full text completes its teaser: the same title, all of
 * `before`'s paragraphs but its last, then more whole paragraphs, where that last paragraph was a
 * short line with a wall's words ("Read the full story with a free account") that `now` does not
 * have. An article that grows at its end without such a line before (a developing story) is edited.
 */
export function completesTeaser(before: PreviousText, now: PreviousText): boolean {
  if (forMatching(before.title ?? "").trim() !== forMatching(now.title ?? "").trim()) return false;
  const previous = paragraphsOf(before.text);
  const current = paragraphsOf(now.text);
  const sign = previous.at(-1);
  const kept = previous.slice(0, -1);
  if (sign === undefined || kept.length === 0 || current.length <= kept.length) return false;
  if (words(sign).length > WALL_LINE_MAX_WORDS || wallWords(sign) === null || current.includes(sign)) {
    return false;
  }
  return kept.every((paragraph, i) => paragraph === current[i]);
}
