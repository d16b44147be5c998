/**
 * What a document is, found when a source is followed: a feed or a sitemap by the elements the
 * poll's readers require (read-document.ts), or JSON Feed's version, with its title; an HTML page
 * with its title and the feeds it names. The entries are read by the poll, with the full parsers;
 * keeping them out of this path keeps them out of the API function (fast-xml-parser and the feed
 * parser would add 128 KB to a bundle with a 540 KB budget and about 14 KB to spare).
 *
 * So the check here is structural, with the tokenizer the API already carries (htmlparser2): an RSS
 * or RDF root must hold a `<channel>` (the feed parser refuses one without), an Atom root must be a
 * whole `<feed>` tag, a sitemap root a whole `<urlset>` or `<sitemapindex>` tag. A body that only
 * starts like a feed is `not_a_feed` at once. What the full XML parser also refuses — a tag, comment
 * or CDATA left open at the very end of an otherwise good feed — passes here and is recorded by the
 * first poll as `not_a_feed` (test/unit/source-documents.test.ts holds the two to agreeing).
 *
 * Pure. Bounded: the walk stops once the shape and title are known, and looks for the title in the
 * first 256 KB only.
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

/** What the poll's readers look for in an XML document. */
interface XmlShape {
  /** The first element's local name (`rdf:RDF` → `rdf`), once its tag is whole. */
  root: string | undefined;
  /** Whether the root holds a `<channel>` as a direct child (what RSS and RDF need). */
  channel: boolean;
  /** The first `<title>` directly inside `<channel>` or `<feed>`. */
  title: string | null;
}

const CHUNK = 64 * 1024;
const TITLE_WINDOW = 256 * 1024;

/**
 * The root, its channel and the feed's title, read with htmlparser2's lenient tokenizer (in HTML
 * mode, as a browser would read markup in a title; CDATA and self-closing tags recognised).
 */
function readXmlShape(text: string): XmlShape {
  const open: string[] = [];
  const shape: XmlShape = { root: undefined, channel: false, title: null };
  let title: string | undefined;
  let capturing = false;
  let titleDone = false;
  let rootClosed = false;
  const parser = new Parser(
    {
      onopentag(name) {
        const local = name.replace(/^.*:/, "");
        if (open.length === 0 && shape.root === undefined) shape.root = local;
        if (open.length === 1 && local === "channel") shape.channel = true;
        if (!titleDone && local === "title" && ["channel", "feed"].includes(open.at(-1) ?? "")) {
          capturing = true;
          title = "";
        }
        // The feed's title comes before its items; past the first, there is none to wait for.
        if (local === "item" || local === "entry") titleDone = true;
        open.push(local);
      },
      ontext(data) {
        if (capturing) title += data;
      },
      onclosetag() {
        if (capturing && open.at(-1) === "title") {
          capturing = false;
          titleDone = true;
        }
        open.pop();
        if (open.length === 0 && shape.root !== undefined) rootClosed = true;
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
  const decided = () => {
    if (rootClosed || (shape.root !== undefined && !isFeedRoot(shape.root))) return true;
    const shapeKnown = shape.root === "feed" || shape.channel;
    return shapeKnown && titleDone;
  };
  for (let at = 0; at < text.length && !decided(); at += CHUNK) {
    if (at >= TITLE_WINDOW) titleDone = true;
    parser.write(text.slice(at, at + CHUNK));
  }
  if (!decided()) parser.end();
  shape.title = cleanTitle(title) ?? null;
  return shape;
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
  if (!isFeedRoot(root) && !isSitemapRoot(root)) return null;
  const shape = readXmlShape(text);
  if (shape.root === "feed") return { kind: "feed", format: "atom", title: shape.title, alternates: [] };
  if ((shape.root === "rss" || shape.root === "rdf") && shape.channel) {
    return { kind: "feed", format: shape.root === "rdf" ? "rdf" : "rss", title: shape.title, alternates: [] };
  }
  if (shape.root !== undefined && isSitemapRoot(shape.root)) {
    return { kind: "sitemap", format: sitemapFormat(shape.root), title: null, alternates: [] };
  }
  return null;
}
