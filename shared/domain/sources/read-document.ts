/**
 * What a fetched document is — feed, sitemap or HTML page — and what it lists. The body's own
 * content decides, not its Content-Type: outlets serve feeds as `text/html`, `text/plain` and
 * `application/octet-stream`, and sitemaps gzipped without saying so.
 *
 * Pure: bytes in, a document (or null: none of these) out.
 */
import { decodeDocument, gunzipCapped } from "./decode.ts";
import { parseJsonFeedDocument, parseXmlFeedDocument } from "./feed-document.ts";
import { looksLikeHtml, parseHtmlDocument } from "./html-document.ts";
import type { SourceDocument } from "./model.ts";
import { parseSitemapDocument } from "./sitemap-document.ts";

/** The name of the document's first element, lower-cased with its prefix (`rdf:rdf`), if any. */
export function rootElementName(text: string): string | undefined {
  let rest = text.replace(/^\uFEFF/, "");
  // Declarations, processing instructions, comments and a doctype (with its internal subset) go first.
  const prolog = /^\s*(<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^[>]*(\[[\s\S]*?\])?\s*>)/i;
  for (let i = 0; i < 100; i++) {
    const match = prolog.exec(rest);
    if (!match) break;
    rest = rest.slice(match[0].length);
  }
  return /^\s*<([A-Za-z_][\w:.-]*)/.exec(rest)?.[1]?.toLowerCase();
}

export interface ReadDocumentOptions {
  /** The document's Content-Type, for its charset. */
  contentType?: string | undefined;
  /** Largest a gzipped body may inflate to; past it, `too_large`. */
  maxInflatedBytes: number;
}

/**
 * The document at `documentUrl` (its final URL, to resolve relative links), or null when it is
 * neither a feed, a sitemap nor an HTML page. Throws FetchError `too_large` for a gzip bomb.
 */
export function readSourceDocument(
  body: Uint8Array,
  documentUrl: string,
  options: ReadDocumentOptions,
): SourceDocument | null {
  const bytes = gunzipCapped(body, options.maxInflatedBytes);
  const text = decodeDocument(bytes, options.contentType);
  const start = text.trimStart();
  if (start.startsWith("{")) return parseJsonFeedDocument(start, documentUrl);
  const root = rootElementName(start);
  switch (root) {
    case "rss":
    case "rdf:rdf":
    case "feed":
      return parseXmlFeedDocument(start, documentUrl);
    case "urlset":
    case "sitemapindex":
      return parseSitemapDocument(start, documentUrl);
    case "html":
      return parseHtmlDocument(start, documentUrl);
    default:
      // A fragment with no <html> (a page that starts with <head> or <meta>), or a feed under an
      // unusual prefix (<atom:feed>, <rss:rss>): try the lenient readers in turn.
      if (looksLikeHtml(start)) return parseHtmlDocument(start, documentUrl);
      if (root !== undefined && /(^|:)(feed|rss|rdf)$/.test(root))
        return parseXmlFeedDocument(start, documentUrl);
      if (root !== undefined && /(^|:)(urlset|sitemapindex)$/.test(root))
        return parseSitemapDocument(start, documentUrl);
      return null;
  }
}
