import { parseHTML } from "linkedom";
import { collapseWhitespace } from "./dom.ts";
import { serialiseParagraphs } from "./serialise.ts";
import { tokenOverlap, wordTokens } from "./tokens.ts";

/** Too short to judge against (a teaser, a summary). */
const MIN_BODY_TOKENS = 50;

/**
 * Reconciles the DOM text with the JSON-LD `articleBody` the publisher declares:
 * - when the body is (nearly) all in the DOM text but the DOM text has more, the extras are
 *   chrome the DOM passes missed: paragraphs that share little with the body are dropped;
 * - when the DOM text is (nearly) all in the body but the body has much more, the DOM passes
 *   picked too small a part of the page: the body, split into its own paragraphs, is used;
 * - when they disagree (the body belongs to another story, or is a paywall teaser), the DOM
 *   text stands.
 */
export function reconcileWithArticleBody(
  paragraphs: readonly string[],
  articleBody: string | null,
): string[] {
  if (articleBody === null) return [...paragraphs];
  const bodyParagraphs = articleBodyParagraphs(articleBody);
  const bodyTokens = wordTokens(bodyParagraphs.join(" "));
  if (bodyTokens.length < MIN_BODY_TOKENS) return [...paragraphs];
  const textTokens = wordTokens(paragraphs.join(" "));
  if (textTokens.length === 0) return bodyParagraphs;

  const overlap = tokenOverlap(textTokens, bodyTokens);
  const bodyInText = overlap / bodyTokens.length;
  const textInBody = overlap / textTokens.length;

  if (bodyInText >= 0.9 && textInBody < 0.95 && bodyTokens.length >= textTokens.length * 0.5) {
    const vocabulary = new Set(bodyTokens);
    return paragraphs.filter((p) => {
      const tokens = wordTokens(p);
      if (tokens.length === 0) return false;
      return tokens.filter((t) => vocabulary.has(t)).length / tokens.length >= 0.5;
    });
  }
  if (textInBody >= 0.8 && bodyInText < 0.7) return bodyParagraphs;
  return [...paragraphs];
}

/** The body's paragraphs: its own line breaks, or its HTML when it carries markup. */
function articleBodyParagraphs(articleBody: string): string[] {
  if (/<(?:p|div|br|h[1-6]|li)\b/i.test(articleBody)) {
    const body = parseHTML(`<!doctype html><html><body>${articleBody}</body></html>`).document.querySelector(
      "body",
    );
    return body === null ? [] : serialiseParagraphs([body]).map((p) => p.text);
  }
  const decoded = articleBody.includes("&")
    ? (parseHTML(
        `<!doctype html><html><body><p>${escapeTags(articleBody)}</p></body></html>`,
      ).document.querySelector("body")?.textContent ?? articleBody)
    : articleBody;
  return decoded
    .split(/\n\s*\n|\r?\n/)
    .map(collapseWhitespace)
    .filter((p) => p !== "");
}

function escapeTags(text: string): string {
  return text.replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
