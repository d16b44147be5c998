/**
 * What a document is, found cheaply when a source is followed: a feed or a sitemap by its root
 * element (or JSON Feed's version), with its title; an HTML page with its title and the feeds it
 * names. The entries are read by the poll, with the full parsers (read-document.ts); keeping them
 * out of this path keeps them out of the API function, whose bundle has a 500 KB budget. A document
 * that passes here but not the full read is recorded by its first poll as `not_a_feed`.
 *
 * Pure: htmlparser2's lenient tokenizer reads titles of XML and HTML alike.
 */
import { Parser } from "htmlparser2";
import { decodeDocument, gunzipCapped } from "./decode.ts";
import { parseHtmlDocument } from "./html-document.ts";
import type { FeedAlternate, SourceFormat, SourceKind } from "./model.ts";
import { cleanTitle } from "./resolve-url.ts";
import { isFeedRoot, isJsonFeed, isSitemapRoot, looksLikeHtml, rootElementName } from "./root-element.ts";

export interface SniffedDocument {
  kind: SourceKind;
  format: SourceFormat;
  title: string | null;
  /** An HTML page's feeds (`<link rel="alternate">`). */
  alternates: FeedAlternate[];
}

/** The text of the feed's own title: the first `<title>` directly inside `<channel>` or `<feed>`. */
function feedTitle(text: string): string | null {
  const open: string[] = [];
  let title: string | undefined;
  let capturing = false;
  let done = false;
  const parser = new Parser(
    {
      onopentag(name) {
        const local = name.replace(/^.*:/, "");
        if (!done && local === "title" && ["channel", "feed"].includes(open.at(-1) ?? "")) {
          capturing = true;
          title = "";
        }
        open.push(local);
      },
      ontext(data) {
        if (capturing) title += data;
      },
      onclosetag() {
        if (capturing && open.at(-1) === "title") {
          capturing = false;
          done = true;
        }
        open.pop();
      },
    },
    {
      xmlMode: false,
      recognizeCDATA: true,
      decodeEntities: true,
      lowerCaseTags: true,
      recognizeSelfClosing: true,
    },
  );
  parser.end(text.slice(0, 256 * 1024));
  return cleanTitle(title) ?? null;
}

function sitemapFormat(root: string): SourceFormat {
  return root.endsWith("sitemapindex") ? "sitemapindex" : "urlset";
}

/** The document's kind, or null when it is none of feed, sitemap or HTML page. */
export function sniffSourceDocument(
  body: Uint8Array,
  documentUrl: string,
  options: { contentType?: string | undefined; maxInflatedBytes: number },
): SniffedDocument | null {
  const text = decodeDocument(gunzipCapped(body, options.maxInflatedBytes), options.contentType).trimStart();
  if (text.startsWith("{")) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return null;
    }
    if (!isJsonFeed(json)) return null;
    const title = (json as { title?: unknown }).title;
    return {
      kind: "feed",
      format: "json",
      title: cleanTitle(typeof title === "string" ? title : undefined) ?? null,
      alternates: [],
    };
  }
  const root = rootElementName(text);
  if (
    root === "html" ||
    (root !== undefined && !isFeedRoot(root) && !isSitemapRoot(root) && looksLikeHtml(text)) ||
    (root === undefined && looksLikeHtml(text))
  ) {
    const page = parseHtmlDocument(text, documentUrl);
    return { kind: "page", format: "html", title: page.title, alternates: page.alternates };
  }
  if (isFeedRoot(root)) {
    const format: SourceFormat = root?.endsWith("feed") ? "atom" : root?.endsWith("rdf") ? "rdf" : "rss";
    return { kind: "feed", format, title: feedTitle(text), alternates: [] };
  }
  if (root !== undefined && isSitemapRoot(root)) {
    return { kind: "sitemap", format: sitemapFormat(root), title: null, alternates: [] };
  }
  return null;
}
