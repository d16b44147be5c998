/**
 * Page furniture that sometimes survives extraction as a paragraph of its own: relative
 * timestamps, counters, "Read more:" link boxes, ad labels, share prompts, cookie notices. Such a
 * paragraph is dropped before comparing, so its churn can never flag an edit. The extractor is the
 * first line of defence; this is the second.
 *
 * Only whole paragraphs that consist of nothing else are matched, and the patterns are narrow:
 * a sentence of reporting that mentions "views" or "3 hours ago" is never dropped.
 */

import { foldedText, type Token } from "./tokenise.ts";

const TIME_UNIT =
  "(?:s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?|mos?|months?|y|yrs?|years?)";
const STAMP_LEADS: ReadonlySet<string> = new Set([
  "updated",
  "posted",
  "published",
  "modified",
  "edited",
  "last",
]);
const DATE_TOKEN =
  /^(?:\d[\d:.,/-]*(?:st|nd|rd|th|am|pm|h)?|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*|[ap]\.?m\.?|at|on|the|of|ago|today|yesterday|last|updated|posted|published|modified|edited|secs?|seconds?|mins?|minutes?|hrs?|hours?|days?|weeks?|months?|years?|gmt|bst|utc|est|edt|cst|cdt|mst|mdt|pst|pdt|cet|cest|eet|eest|ist|jst|aest|aedt|awst|nzst|nzdt|hkt|sgt|msk|[:.,|/()-])$/;

const VOLATILE_PATTERNS: readonly RegExp[] = [
  // "Updated 12 minutes ago", "5 hours ago", "Published: just now"
  new RegExp(
    String.raw`^(?:(?:last )?(?:updated|posted|published|modified|edited)\s*:?\s*)?(?:about |around |over |under |less than )?(?:\d+|an?|one)\s*${TIME_UNIT}\.?\s+ago\.?$`,
  ),
  /^(?:(?:last )?(?:updated|posted|published|modified|edited)\s*:?\s*)?(?:just now|moments ago|a moment ago|seconds ago)\.?$/,
  // "1,234 views", "56 comments", "Comments (12)", "4 min read", "Reading time: 5 minutes"
  /^(?:[\d.,]+\s*[km]?\s*(?:views?|comments?|shares?|reads?|likes?|reactions?|replies|responses|readers?)\.?\s*)+$/,
  /^(?:views?|comments?|shares?|replies|reactions?)\s*[:(]?\s*[\d.,]+\s*[km]?\s*\)?$/,
  /^(?:\d+\s*(?:-\s*)?(?:min(?:ute)?s?|m)\s*read|reading time\s*:?\s*\d+\s*(?:min(?:ute)?s?))\.?$/,
  // Link boxes and prompts that introduce other stories
  /^(?:read more|read next|read also|also read|related|related articles?|related stories|see also|more on this story|most read|most popular|most viewed|recommended|trending|more from [\p{L} ]{1,40}|you may also like)(?:\s*[:|»›>]|\s+-)/u,
  /^(?:read more|most read|most popular|most viewed|trending now|related stories|recommended for you|you may also like|more stories)$/,
  // Ads, share bars, subscription and cookie prompts
  /^(?:advertisement|advert|ad|sponsored|sponsored content|skip advertisement|story continues below(?: this)? advertisement|article continues below(?: this)? (?:advertisement|advert|ad)|continue reading below)$/,
  /^(?:we use cookies|this (?:web)?site uses cookies|by continuing to (?:browse|use) this site)\b.{0,400}$/,
  // A bare byline line ("By Jane Smith", "by ibby"): bylines are compared as a field of their own.
  // Headings such as "By the numbers" are not bylines.
  /^by (?!(?:the|a|an|then|now|contrast|comparison|design|default|far|way)\b)\p{L}[\p{L}.'-]*(?: [\p{L}.'-]+){0,4}$/u,
];

/** Everything a share bar is made of; a line that is nothing else, and says share or tweet, is one. */
const SHARE_BAR_PARTS =
  /\b(?:share|shares|shared|sharing|this|article|story|page|post|on|via|with|facebook|twitter|x|whatsapp|linkedin|reddit|email|e-mail|mail|print|copy|copied|link|messenger|pinterest|bluesky|threads|tweet|telegram|flipboard|pocket|save|comment|comments)\b|[\d.,]+\s*[km]?\b|[|,·•:/()+-]|\s+/g;

function isShareBar(text: string): boolean {
  return /\b(?:share|tweet)\b/.test(text) && text.replace(SHARE_BAR_PARTS, "") === "";
}

const SEPARATORS: ReadonlySet<string> = new Set(["·", "|", "•", "/"]);

/** No paragraph longer than this (characters) is furniture: the longest pattern allows about 450. */
const VOLATILE_MAX_CHARS = 1000;

/**
 * A word every furniture paragraph has: each pattern above, the timestamp leads and the share
 * bar need one of these. Keep it a superset when a pattern is added.
 */
const FURNITURE_WORD =
  /\b(?:ago|just|moments?|views?|comments?|shares?|shared|sharing|reads?|reading|likes?|reactions?|replies|responses|readers?|updated|posted|published|modified|edited|last|related|see|more|most|recommended|trending|you|advert\w*|ads?|sponsored|skip|story|article|continue|cookies|continuing|by|tweet)\b/i;

/**
 * A cheap test on the raw paragraph: false means it cannot be furniture, so callers with many
 * paragraphs tokenise only the few that might be.
 */
export function mightBeVolatile(paragraph: string): boolean {
  return paragraph.length <= VOLATILE_MAX_CHARS && FURNITURE_WORD.test(paragraph);
}

/**
 * Whether a paragraph is page furniture that must not count as article text. A line of several
 * such items ("Updated 5 minutes ago · 1,234 views · 56 comments") counts when every item does.
 */
export function isVolatileParagraph(tokens: readonly Token[]): boolean {
  if (tokens.length > 80) return false;
  if (isVolatileItem(tokens)) return true;
  const items: Token[][] = [[]];
  for (const token of tokens) {
    if (!token.word && SEPARATORS.has(token.key)) items.push([]);
    else (items[items.length - 1] as Token[]).push(token);
  }
  const nonEmpty = items.filter((item) => item.length > 0);
  return nonEmpty.length > 1 && nonEmpty.every(isVolatileItem);
}

function isVolatileItem(tokens: readonly Token[]): boolean {
  if (isTimestampLine(tokens)) return true;
  const text = foldedText(tokens).toLowerCase();
  if (text.length > 500) return false;
  return isShareBar(text) || VOLATILE_PATTERNS.some((pattern) => pattern.test(text));
}

/** "Updated: 10:32 GMT, 3 March 2025", "Published 3 hours ago | Updated 12 minutes ago". */
function isTimestampLine(tokens: readonly Token[]): boolean {
  const first = tokens[0];
  if (first === undefined || !STAMP_LEADS.has(first.key.toLowerCase()) || tokens.length > 24) return false;
  let digits = false;
  for (const token of tokens) {
    const key = token.key.toLowerCase();
    if (!DATE_TOKEN.test(key)) return false;
    if (/\d/.test(key)) digits = true;
  }
  return digits;
}
