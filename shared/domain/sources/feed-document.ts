/**
 * Feeds: RSS 0.9x, 1.0 (RDF) and 2.0 and Atom 1.0 through `@rowanmanning/feed-parser`; JSON Feed
 * 1.x is JSON, read with `JSON.parse` and the few fields it needs (a feed library for it would add
 * nothing but bytes to the API function, whose bundle has a 500 KB budget). The XML parser was chosen for its leniency with what outlets publish
 * (HTML entities and markup in titles, unclosed elements, CDATA, `xml:base`, relative links); the
 * glue here adds what feed readers do beyond it: `feedburner:origLink` is preferred to a feed
 * proxy's redirect link, an RSS `<guid>` that is a permalink stands in for a missing `<link>`, and
 * every link is resolved against the document's own URL last.
 *
 * Pure: text in, entries out.
 */
import { parseFeed as parseXmlFeed } from "@rowanmanning/feed-parser";
import type { SourceDocument, SourceEntry } from "./model.ts";
import { cleanTitle, resolveHttpUrl } from "./resolve-url.ts";
import { isJsonFeed } from "./root-element.ts";

type FeedResult = Extract<SourceDocument, { kind: "feed" }>;
type XmlFeed = ReturnType<typeof parseXmlFeed>;
type XmlItem = XmlFeed["items"][number];

const asText = (value: unknown) => (typeof value === "string" ? value : undefined);

function isoOf(date: Date | string | null | undefined): string | undefined {
  if (date === null || date === undefined) return undefined;
  const parsed = typeof date === "string" ? new Date(date) : date;
  return Number.isNaN(parsed.getTime()) ? undefined : parsed.toISOString();
}

/** The article's own URL: the proxy's original link first, then the item's link, then a permalink guid. */
function xmlItemUrl(item: XmlItem, documentUrl: string): string | undefined {
  const element = item.element;
  const origLink = element.findElementWithName("origlink")?.textContentNormalized;
  const fromOrig = resolveHttpUrl(origLink, element.baseUrl ?? documentUrl);
  if (fromOrig) return resolveHttpUrl(fromOrig, documentUrl);
  const link = resolveHttpUrl(item.url, documentUrl);
  if (link) return link;
  const guid = element.findElementWithName("guid");
  // RSS 2.0: a guid is a permalink unless it says isPermaLink="false".
  if (guid && guid.getAttribute("ispermalink")?.toLowerCase() !== "false") {
    const text = guid.textContentNormalized;
    if (/^https?:\/\//i.test(text ?? "")) return resolveHttpUrl(text, documentUrl);
  }
  return undefined;
}

/** RSS 1.0 is RDF: the parser reports it as RSS 1.0 (its root is `rdf:RDF`). */
function xmlFormat(feed: XmlFeed): FeedResult["format"] {
  if (feed.meta.type === "atom") return "atom";
  return feed.meta.version === "1.0" ? "rdf" : "rss";
}

/** An RSS or Atom document, or null when the parser finds no feed in it. */
export function parseXmlFeedDocument(text: string, documentUrl: string): FeedResult | null {
  let feed: XmlFeed;
  try {
    feed = parseXmlFeed(text);
  } catch {
    return null;
  }
  const entries: SourceEntry[] = [];
  for (const item of feed.items) {
    const url = xmlItemUrl(item, documentUrl);
    if (url === undefined) continue;
    const title = cleanTitle(item.title);
    const publishedAt = isoOf(item.published) ?? isoOf(item.updated);
    entries.push({ url, ...(title ? { title } : {}), ...(publishedAt ? { publishedAt } : {}) });
  }
  return { kind: "feed", format: xmlFormat(feed), title: cleanTitle(feed.title) ?? null, entries };
}

/** A JSON Feed 1.x document, or null when the text is not one. */
export function parseJsonFeedDocument(text: string, documentUrl: string): FeedResult | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isJsonFeed(json)) return null;
  const feed = json as { title?: unknown; items?: unknown };
  const entries: SourceEntry[] = [];
  for (const raw of Array.isArray(feed.items) ? feed.items : []) {
    if (!raw || typeof raw !== "object") continue;
    const item = raw as Record<string, unknown>;
    // `url` is the item's permalink; `external_url` what a link-blog item points at.
    const url = resolveHttpUrl(asText(item.url) ?? asText(item.external_url), documentUrl);
    if (url === undefined) continue;
    const title = cleanTitle(asText(item.title));
    const publishedAt = isoOf(asText(item.date_published)) ?? isoOf(asText(item.date_modified));
    entries.push({ url, ...(title ? { title } : {}), ...(publishedAt ? { publishedAt } : {}) });
  }
  return { kind: "feed", format: "json", title: cleanTitle(asText(feed.title)) ?? null, entries };
}
