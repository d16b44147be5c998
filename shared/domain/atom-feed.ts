/** Atom 1.0 (RFC 4287) feeds of flagged edits. Pure: records in, XML out. */
import { summariseEdit } from "./diff/index.ts";
import type { EditEntry } from "./model.ts";

export interface EditFeed {
  /** A permanent, absolute IRI for the feed. */
  id: string;
  title: string;
  /** Where the feed itself is served. */
  selfUrl: string;
  /** The web UI page of what the feed follows (the home page, a URL's or a source's page). */
  pageUrl: string;
  /** The same list as JSON. */
  jsonUrl: string;
  /** Used when there are no entries to date the feed by. */
  emptyUpdated: Date;
  /** Newest first. */
  entries: readonly FeedEdit[];
}

export interface FeedEdit extends EditEntry {
  /** The diff between the previous version and this one, as a page for people. */
  diffPageUrl: string;
  /** The same diff from the API, as JSON. */
  diffUrl: string;
  /** The page as captured after the edit, when it has a snapshot. */
  mementoUrl?: string;
}

/** XML 1.0's Char production: page titles scraped from the web can hold anything else. */
function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    code >= 0x10000
  );
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/** Text safe in XML character data and attribute values. */
export function escapeXml(text: string): string {
  let kept = "";
  // Iterating a string yields code points; a lone surrogate comes alone and is dropped.
  for (const char of text) if (isXmlChar(char.codePointAt(0) ?? 0)) kept += char;
  return kept.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

/** "Major stealth edit", "Minor edit". */
export function editLabel(entry: Pick<EditEntry, "edit">): string {
  return `${entry.edit.significance === "major" ? "Major" : "Minor"}${entry.edit.stealth ? " stealth" : ""} edit`;
}

/** The entry's readable sentence: the summary stored with the version, else one made from the edit. */
export function editSummary(entry: EditEntry): string {
  const summary = entry.summary?.trim() || summariseEdit(entry.edit);
  if (!entry.revertOf) return summary;
  const sentence = /[.!?]$/.test(summary) ? summary : `${summary}.`;
  return `${sentence} The text is again that of an earlier version (${entry.revertOf}).`;
}

function renderEntry(entry: FeedEdit): string {
  const subject = entry.title ?? entry.url;
  const categories = [
    entry.edit.significance,
    ...(entry.edit.stealth ? ["stealth"] : []),
    ...entry.edit.kinds,
  ];
  return [
    "  <entry>",
    `    <id>urn:palimpsest:edit:${escapeXml(entry.versionId)}</id>`,
    `    <title>${escapeXml(`${editLabel(entry)}: ${subject}`)}</title>`,
    `    <updated>${escapeXml(entry.capturedAt)}</updated>`,
    `    <published>${escapeXml(entry.capturedAt)}</published>`,
    "    <author><name>Palimpsest</name></author>",
    `    <link rel="alternate" type="text/html" href="${escapeXml(entry.diffPageUrl)}"/>`,
    `    <link rel="describedby" type="application/json" href="${escapeXml(entry.diffUrl)}"/>`,
    ...(entry.mementoUrl
      ? [`    <link rel="related" type="text/html" href="${escapeXml(entry.mementoUrl)}"/>`]
      : []),
    `    <link rel="via" href="${escapeXml(entry.url)}"/>`,
    ...categories.map((term) => `    <category term="${escapeXml(term)}"/>`),
    `    <summary type="text">${escapeXml(editSummary(entry))}</summary>`,
    "  </entry>",
  ].join("\n");
}

/**
 * The feed document. Each entry has exactly one `alternate` link, the diff page for people: feed
 * readers that keep one alternate (npm's feedparser takes the last) must land there, so the same
 * diff as JSON is `describedby`, and the memento of the page after the edit `related`.
 * Entry ids are `urn:palimpsest:edit:<versionId>`: version ids are unique and
 * never reused, so an edit keeps its id however the API is reached.
 */
export function renderEditFeed(feed: EditFeed): string {
  const updated = feed.entries[0]?.capturedAt ?? feed.emptyUpdated.toISOString();
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    `  <id>${escapeXml(feed.id)}</id>`,
    `  <title>${escapeXml(feed.title)}</title>`,
    `  <updated>${escapeXml(updated)}</updated>`,
    `  <link rel="self" type="application/atom+xml" href="${escapeXml(feed.selfUrl)}"/>`,
    `  <link rel="alternate" type="text/html" href="${escapeXml(feed.pageUrl)}"/>`,
    `  <link rel="describedby" type="application/json" href="${escapeXml(feed.jsonUrl)}"/>`,
    // RFC 4287 §4.1.1: a feed without a feed-level author needs one in every entry; readers
    // show this one as the feed's.
    "  <author><name>Palimpsest</name></author>",
    "  <generator>Palimpsest</generator>",
    ...feed.entries.map(renderEntry),
    "</feed>",
    "",
  ].join("\n");
}
