/**
 * Sitemaps (sitemaps.org 0.9): a `urlset` of article URLs, or a `sitemapindex` of child sitemaps;
 * Google News sitemaps add `<news:news>` with the article's title and publication date. Parsed
 * with `fast-xml-parser`, namespace prefixes dropped, so `news:title` and an unprefixed `title`
 * read alike. Gzip is handled before (see decode.ts).
 *
 * Pure: text in, entries out.
 */
import { XMLParser } from "fast-xml-parser";
import type { SourceDocument, SourceEntry } from "./model.ts";
import { resolveHttpUrl } from "./resolve-url.ts";

type SitemapResult = Extract<SourceDocument, { kind: "sitemap" }>;

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // A sitemap has no use for DTD entities; leaving them unexpanded also leaves no entity bomb.
  processEntities: false,
  htmlEntities: false,
  isArray: (name) => name === "url" || name === "sitemap",
});

/** The five XML entities and numeric references (sitemaps must escape `&` in URLs). */
function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (all, ref: string) => {
    const lower = ref.toLowerCase();
    if (lower.startsWith("#x")) return safeCodePoint(Number.parseInt(lower.slice(2), 16)) ?? all;
    if (lower.startsWith("#")) return safeCodePoint(Number.parseInt(lower.slice(1), 10)) ?? all;
    return { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }[lower] ?? all;
  });
}

function safeCodePoint(code: number): string | undefined {
  return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : undefined;
}

function textOf(value: unknown): string | undefined {
  if (typeof value === "string") return unescapeXml(value).trim() || undefined;
  if (typeof value === "number") return String(value);
  // An element with attributes or children: its text, when the parser kept one.
  if (value && typeof value === "object" && "#text" in value)
    return textOf((value as { "#text": unknown })["#text"]);
  return undefined;
}

function isoOf(value: unknown): string | undefined {
  const text = textOf(value);
  if (text === undefined) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function entryOf(node: unknown, documentUrl: string): SourceEntry | undefined {
  if (!node || typeof node !== "object") return undefined;
  const record = node as Record<string, unknown>;
  const url = resolveHttpUrl(textOf(record.loc), documentUrl);
  if (url === undefined) return undefined;
  // Google News: <news:news><news:title/><news:publication_date/></news:news>
  const news = (Array.isArray(record.news) ? record.news[0] : record.news) as
    | Record<string, unknown>
    | undefined;
  const title = textOf(news?.title)?.replace(/\s+/g, " ");
  const publishedAt = isoOf(news?.publication_date) ?? isoOf(record.lastmod);
  return { url, ...(title ? { title } : {}), ...(publishedAt ? { publishedAt } : {}) };
}

/** A `urlset` or `sitemapindex` document, or null when the text is neither. */
export function parseSitemapDocument(text: string, documentUrl: string): SitemapResult | null {
  let parsed: Record<string, unknown>;
  try {
    parsed = parser.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  // An empty element parses as "", which has no children either.
  const urlset = parsed.urlset === "" ? {} : parsed.urlset;
  if (urlset !== undefined) {
    const nodes = (urlset as { url?: unknown[] } | null)?.url ?? [];
    const entries = nodes
      .map((node: unknown) => entryOf(node, documentUrl))
      .filter((e): e is SourceEntry => e !== undefined);
    return { kind: "sitemap", format: "urlset", title: null, entries };
  }
  const index = parsed.sitemapindex === "" ? {} : parsed.sitemapindex;
  if (index !== undefined) {
    const nodes = (index as { sitemap?: unknown[] } | null)?.sitemap ?? [];
    const children = nodes
      .map((node: unknown) => entryOf(node, documentUrl))
      .filter((e): e is SourceEntry => e !== undefined);
    return { kind: "sitemap", format: "sitemapindex", title: null, children };
  }
  return null;
}
