/**
 * The article a page yields for comparison, from any HTML: the rendered DOM of a browser capture,
 * or the document a server sent (the raw response a browser capture keeps, or the body of an HTTP
 * probe). One function for all of them, so that a probe compares exactly what a browser capture
 * compares: the same extractor, the same noise rules, the same fallback to the page's main text,
 * the same normalisation and the same hash.
 */
import type { EffectiveNoiseRules } from "../extract/noise-rules.ts";
import { sha256Hex } from "../ids.ts";
import type { Article } from "../model.ts";
import { comparableArticle } from "../normalise-text.ts";
import { documentTitle } from "../validity/page-text.ts";
import { pageMainText } from "./page-text.ts";
import type { ExtractArticle } from "./types.ts";

/** What a page yields for comparison. */
export interface PageArticle {
  article: Article;
  /** Whether the text is the extracted article's, or the page's main text (see page-text.ts). */
  extraction: "article" | "fallback";
  /** The SHA-256 of the comparable form of title and text: what versions are told apart by. */
  textSha256: string;
}

/**
 * The article of `html` under the noise rules in force, as the capture compares it. A page whose
 * article the extractor cannot find is compared by its main text (`extraction: "fallback"`).
 */
export function articleOfHtml(
  extract: ExtractArticle,
  html: string,
  url: string,
  noiseRules: Pick<EffectiveNoiseRules, "dropSelectors">,
): PageArticle {
  const extracted = extract(html, {
    url,
    ...(noiseRules.dropSelectors.length > 0 ? { dropSelectors: noiseRules.dropSelectors } : {}),
  });
  // No article found (a short page, or one not shaped like an article): its main text stands in,
  // so an edit to it is still found, and the capture says so.
  const extraction = extracted && extracted.text.trim() !== "" ? "article" : "fallback";
  const article: Article =
    extraction === "article" && extracted
      ? extracted
      : {
          title: extracted?.title ?? documentTitle(html, { entities: "kept" }),
          byline: extracted?.byline ?? null,
          publishedTime: extracted?.publishedTime ?? null,
          modifiedTime: extracted?.modifiedTime ?? null,
          lang: extracted?.lang ?? null,
          text: pageMainText(html),
        };
  return { article, extraction, textSha256: sha256Hex(comparableArticle(article.title, article.text)) };
}

/** Cap on the served document read as text (characters), for the classifier and the probe. */
export const RAW_HTML_MAX_CHARS = 2_000_000;

/**
 * A served document as text: "" unless it is HTML; decoded in the charset its Content-Type names
 * (UTF-8 when it names none or one this runtime does not know); never more than the cap.
 */
export function decodeServedHtml(body: Uint8Array, contentType: string | undefined): string {
  if (contentType && !/html/i.test(contentType)) return "";
  const charset = /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType ?? "")?.[1];
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset ?? "utf-8");
  } catch {
    decoder = new TextDecoder("utf-8");
  }
  return decoder.decode(body.subarray(0, RAW_HTML_MAX_CHARS * 2)).slice(0, RAW_HTML_MAX_CHARS);
}

/** An inline script's opening tag attributes and its text. */
const INLINE_SCRIPT = /<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi;
/** A classic script that assigns a state object to a global (`window.__STATE__ = {…}`). */
const STATE_ASSIGNMENT =
  /\b(?:window|self|globalThis)\s*(?:\.\s*[\w$]+|\[\s*["'][\w$]+["']\s*\])\s*=\s*(?:\{|\[|JSON\.parse\()/;

/**
 * The SHA-256 of the data a page's scripts may render its article from: inline JSON scripts
 * (`__NEXT_DATA__`, any `type` naming JSON) other than JSON-LD, which the extractor reads already,
 * and inline classic scripts that assign a state object to a global (`window.__STATE__ = {…}`).
 * Undefined when the page has none. Other inline scripts are left out on purpose: they carry
 * nonces, timestamps and ad settings that change on every request, and would make every probe
 * decline for nothing.
 */
export function inlineDataSha256(html: string): string | undefined {
  const parts: string[] = [];
  for (const [, attributes = "", body = ""] of html.matchAll(INLINE_SCRIPT)) {
    if (/\bsrc\s*=/i.test(attributes)) continue;
    const type = /\btype\s*=\s*["']?([^"'\s>]+)/i.exec(attributes)?.[1]?.toLowerCase() ?? "";
    const data = /json/.test(type) ? !/ld\+json/.test(type) : STATE_ASSIGNMENT.test(body);
    if (data) parts.push(body.trim());
  }
  return parts.length > 0 ? sha256Hex(parts.join("\u0000")) : undefined;
}
