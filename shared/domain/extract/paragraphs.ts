import { similarTitles } from "./metadata.ts";
import { CHROME_PARAGRAPH_MAX_LENGTH, CHROME_PARAGRAPHS } from "./patterns.ts";
import type { Paragraph } from "./serialise.ts";

/**
 * Paragraph-level filter: drops what survived the DOM passes but is still chrome — labels,
 * buttons, counters, timestamps, the headline and byline repeated at the top — so the text
 * stays the same from one capture to the next when only the page around the article moves.
 */
export function filterParagraphs(
  paragraphs: readonly Paragraph[],
  context: { title: string | null; byline: string | null },
): Paragraph[] {
  const out: Paragraph[] = [];
  for (const paragraph of paragraphs) {
    // Position among the paragraphs kept so far: chrome before the headline (a dateline, a
    // counter line, one capture's banner) must not change what counts as "at the top".
    const index = out.length;
    const text = paragraph.text;
    if (isChromeLine(text)) continue;
    // The headline sits at the top of the content; the title field carries it.
    if (paragraph.headingLevel === 1 && index < 5) continue;
    if (index < 8 && context.title !== null && text.length <= context.title.length * 1.5 + 20) {
      if (similarTitles(context.title, text)) continue;
    }
    if (index < 8 && isBylineLine(text, context.byline)) continue;
    out.push(paragraph);
  }
  return dropTrailingHeadings(dedupeAdjacent(out));
}

/** A line that is page chrome whatever surrounds it: a label, a button, a timestamp, a counter. */
export function isChromeLine(text: string): boolean {
  return isChromeParagraph(text) || isDateLike(text) || isRelativeTimestamp(text) || isMetaLine(text);
}

export function isChromeParagraph(text: string): boolean {
  if (text.length > CHROME_PARAGRAPH_MAX_LENGTH) return false;
  const normalised = text
    .toLowerCase()
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/^[\s|•·:>›»→←<‹«-]+|[\s|•·:>›»→←<‹«.!-]+$/g, "");
  if (normalised === "") return true;
  return CHROME_PARAGRAPHS.some((re) => re.test(normalised));
}

const DATE_WORDS =
  /\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:rs(?:day)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?|today|yesterday|am|pm|a\.m\.|p\.m\.|gmt|utc|[ecmp][sd]?t|bst|cet|cest|ist|aest|z|at|on|of|ago|just now|seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|updated|published|posted|modified|last|first|originally|date|time)\b|\d+(?:st|nd|rd|th)?|[\s,.:/|\-–—()@+·•]+/gi;

/** A paragraph that is nothing but a date or time ("Sep 4, 2025 · 10:32 AM", "3 hours ago"). */
export function isDateLike(text: string): boolean {
  if (text.length > 80 || !/\d|ago|today|yesterday/i.test(text)) return false;
  return text.replace(/\b[ap]\.m\./gi, " ").replace(DATE_WORDS, "") === "";
}

const COUNTER_WORDS =
  /\b(?:\d[\d.,]*\s*[km]?\s*(?:views?|reads?|comments?|shares?|likes?|replies|reactions?|readers?)|(?:views?|reads?|comments?|shares?|likes?|replies)\s*[:(]?\s*\d[\d.,]*\s*[km]?\s*\)?|\d+\s*(?:s|m|h|d|w|min|mins|hr|hrs)\s+ago)\b/gi;

/**
 * A line of article metadata and nothing else: timestamps and counters, with or without
 * separators ("Last updated: 10:32 GMT, 3 March 2025 · 5.4k views", "3h ago 1,204 reads").
 * Counters change on every capture; a sentence that mentions views has other words.
 */
export function isMetaLine(text: string): boolean {
  if (text.length > 120 || !/\d/.test(text)) return false;
  const rest = text.replace(COUNTER_WORDS, " ");
  return rest !== text && rest.replace(/\b[ap]\.m\./gi, " ").replace(DATE_WORDS, "") === "";
}

/**
 * A short label that ends in a relative time ("Jane Doe · 5 minutes ago"). A sentence ("The
 * ferry left 5 minutes ago.") ends with punctuation and is kept.
 */
export function isRelativeTimestamp(text: string): boolean {
  return text.length <= 80 && RELATIVE_TIME_LABEL.test(text);
}

const RELATIVE_TIME_LABEL =
  /\b(?:an?|\d+)\s*(?:seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w)\s+ago$/i;

function isBylineLine(text: string, byline: string | null): boolean {
  if (text.length > 120) return false;
  if (byline !== null && text.toLowerCase().replace(/^by\s+/, "") === byline.toLowerCase()) return true;
  return /^[Bb][Yy]\s+\p{Lu}/u.test(text) && !/[.!?]["”']?$/.test(text) && text.split(/\s+/).length <= 14;
}

function dedupeAdjacent(paragraphs: Paragraph[]): Paragraph[] {
  return paragraphs.filter((p, i) => i === 0 || paragraphs[i - 1]?.text !== p.text);
}

/** A heading with nothing after it introduced a box that has been removed. */
function dropTrailingHeadings(paragraphs: Paragraph[]): Paragraph[] {
  let end = paragraphs.length;
  while (end > 0 && (paragraphs[end - 1]?.headingLevel ?? 0) > 0) end--;
  return paragraphs.slice(0, end);
}
