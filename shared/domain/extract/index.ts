import { parseHTML } from "linkedom";
import type { Article } from "../model.ts";
import { selectContent } from "./candidates.ts";
import { cleanContent } from "./clean.ts";
import { flattenDeepSubtrees } from "./dom.ts";
import { removeFurniture } from "./furniture.ts";
import { type JsonLdArticle, readJsonLd } from "./json-ld.ts";
import { measureTree } from "./measure.ts";
import { readMetadata } from "./metadata.ts";
import { dropMatching } from "./noise-rules.ts";
import { filterParagraphs } from "./paragraphs.ts";
import { prepareDocument } from "./prepare.ts";
import { reconcileWithArticleBody } from "./reconcile.ts";
import { type Paragraph, serialiseParagraphs } from "./serialise.ts";

export interface ExtractOptions {
  /** The page's URL, when known; helps pick the page's own JSON-LD node. */
  url?: string;
  /** CSS selectors of elements to drop before anything is read (a person's noise rules). */
  dropSelectors?: readonly string[];
}

/** Extraction passes, strictest first (as Readability's flags): later ones trade precision for recall. */
const PASSES = [
  { stripChrome: true, weightClasses: true, cleanConditionally: true },
  { stripChrome: false, weightClasses: true, cleanConditionally: true },
  { stripChrome: false, weightClasses: false, cleanConditionally: false },
] as const;

/**
 * Browsers put whatever follows `</body>` or `</html>` into the body; linkedom drops it. Without
 * the closing tags both agree (they are optional in HTML anyway).
 */
const CLOSING_BODY_OR_HTML = /<\/(?:body|html)\s*>/gi;

/** Deeper markup than this is flattened to text (see flattenDeepSubtrees). */
const MAX_DEPTH = 200;

/** A pass whose text is shorter than this (characters) hands over to the next one. */
const MIN_PASS_TEXT = 500;
/** Below this many words there is no article to speak of… */
const MIN_ARTICLE_WORDS = 25;
/**
 * …unless the page declares itself an article (JSON-LD of an article type, or `og:type` article):
 * a breaking-news stub of a sentence or two is an article too, and its edits are news.
 */
const DECLARED_ARTICLE_MIN_WORDS = 5;

/**
 * Extracts the article from a page's HTML: main text (paragraphs separated by blank lines,
 * headings as their own paragraphs, page chrome removed), title, byline, published/modified
 * times (ISO 8601 when readable) and language. Pure: no I/O, no clock.
 *
 * @returns the article, or null when the page has no article text.
 * @throws TypeError when `html` is not a string.
 */
export function extractArticle(html: string, options: ExtractOptions = {}): Article | null {
  if (typeof html !== "string") throw new TypeError("extractArticle: html must be a string");
  if (options === null || typeof options !== "object")
    throw new TypeError("extractArticle: options must be an object");

  const source = html.replace(CLOSING_BODY_OR_HTML, "");
  const dropSelectors = options.dropSelectors ?? [];
  let { document } = parseHTML(source);
  // A person's noise rules go first: what they name is not the page's, title and dates included.
  if (dropSelectors.length > 0) dropMatching(document.documentElement, dropSelectors);
  const jsonLd = readJsonLd(document, options.url);
  const metadata = readMetadata(document, jsonLd);
  const context = { title: metadata.title, byline: metadata.byline };

  const minWords = declaresArticle(document, jsonLd) ? DECLARED_ARTICLE_MIN_WORDS : MIN_ARTICLE_WORDS;

  const results: Paragraph[][] = [];
  for (const [index, pass] of PASSES.entries()) {
    // Each pass mutates the DOM, so later passes start from a fresh parse.
    if (index > 0) {
      document = parseHTML(source).document;
      if (dropSelectors.length > 0) dropMatching(document.documentElement, dropSelectors);
    }
    const body = contentRoot(document);
    if (body === null) break;
    flattenDeepSubtrees(body, MAX_DEPTH);
    prepareDocument(body, pass);
    const stats = measureTree(body);
    removeFurniture(body, stats);
    const { roots, scores } = selectContent(body, stats, pass);
    for (const root of roots) cleanContent(root, { ...pass, scores });
    const paragraphs = filterParagraphs(serialiseParagraphs(roots), context);
    results.push(paragraphs);
    if (textLength(paragraphs) >= MIN_PASS_TEXT) break;
  }
  const best = chooseResult(results);

  // Link lists (a section front, a sitemap) are not an article however long they are.
  const prose = best.filter((p) => p.linkDensity < 0.5);
  const articleBody = jsonLd?.articleBody ?? null;
  if (articleBody === null && countWords(prose.map((p) => p.text).join(" ")) < minWords) return null;
  const text = reconcileWithArticleBody(
    best.map((p) => p.text),
    articleBody,
  ).join("\n\n");
  if (countWords(text) < minWords) return null;
  return { ...metadata, text };
}

/** Whether the page says it is an article: JSON-LD of an article type, or Open Graph's `og:type`. */
function declaresArticle(document: Document, jsonLd: JsonLdArticle | null): boolean {
  if (jsonLd?.isArticle) return true;
  const ogType = document.querySelector('meta[property="og:type"]')?.getAttribute("content");
  return ogType?.trim().toLowerCase() === "article";
}

/**
 * The page's body: the `<body>` with the most text (broken markup can leave more than one), or
 * the root element when there is none.
 */
function contentRoot(document: Document): Element | null {
  // (Not `document.body`: linkedom's getter creates an empty body when the real one is not
  // where it looks.)
  const bodies = document.querySelectorAll("body");
  let best: Element | null = document.documentElement;
  let bestLength = -1;
  for (const body of bodies) {
    const length = body.textContent?.length ?? 0;
    if (length > bestLength) {
      best = body;
      bestLength = length;
    }
  }
  return best;
}

function textLength(paragraphs: readonly Paragraph[]): number {
  return paragraphs.reduce((n, p) => n + p.text.length, 0);
}

/**
 * The strictest pass's text, unless a laxer pass found several times more: a short article
 * must not pick up the chrome that the strict pass removed.
 */
function chooseResult(results: readonly Paragraph[][]): Paragraph[] {
  let best = results[0] ?? [];
  for (const result of results.slice(1)) {
    if (textLength(result) >= textLength(best) * LAX_PASS_GAIN) best = result;
  }
  return best;
}

const LAX_PASS_GAIN = 2;

function countWords(text: string): number {
  return text.match(/[\p{L}\p{N}]+/gu)?.length ?? 0;
}
