/** The first element of an XML document, which says what the document is. Pure. */

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

/** Feed roots (RSS 0.9x/2.0, RSS 1.0's RDF, Atom), also under an unusual prefix (`<atom:feed>`). */
export const isFeedRoot = (root: string | undefined) =>
  root !== undefined && /(^|:)(feed|rss|rdf)$/.test(root);

/** Sitemap roots. */
export const isSitemapRoot = (root: string | undefined) =>
  root !== undefined && /(^|:)(urlset|sitemapindex)$/.test(root);

/** Whether the text looks like an HTML document (not XML, not JSON). */
export function looksLikeHtml(text: string): boolean {
  const head = text.slice(0, 4096).trimStart().toLowerCase();
  return /^(<!--[\s\S]*?-->\s*)*<(!doctype html|html|head|body|meta|title)\b/.test(head);
}

/**
 * Whether a parsed JSON value is a JSON Feed 1.x document. Version 1 named itself with `https://`,
 * but feeds written from older examples and some generators still say `http://jsonfeed.org/...`.
 */
export function isJsonFeed(json: unknown): boolean {
  const version = (json as { version?: unknown } | null)?.version;
  return typeof version === "string" && /^https?:\/\/jsonfeed\.org\/version\//.test(version);
}
