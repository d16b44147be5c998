/**
 * What a fetched document is — feed, sitemap or HTML page — and what it lists. The body's own
 * content decides, not its Content-Type: outlets serve feeds as `text/html`, `text/plain` and
 * `application/octet-stream`, and sitemaps gzipped without saying so.
 *
 * Pure: bytes in, a document (or null: none of these) out.
 */
import { decodeDocument, gunzipCapped } from "./decode.ts";
import { parseJsonFeedDocument, parseXmlFeedDocument } from "./feed-document.ts";
import { parseHtmlDocument } from "./html-document.ts";
import type { SourceDocument } from "./model.ts";
import { isFeedRoot, isSitemapRoot, looksLikeHtml, rootElementName } from "./root-element.ts";
import { parseSitemapDocument } from "./sitemap-document.ts";

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
      if (isFeedRoot(root)) return parseXmlFeedDocument(start, documentUrl);
      if (isSitemapRoot(root)) return parseSitemapDocument(start, documentUrl);
      return null;
  }
}
