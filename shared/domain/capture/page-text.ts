/**
 * The page's main text, for a page whose article the extractor could not find (too short, or not
 * shaped like an article): the body's text without the page's navigation, header, footer, asides,
 * forms and anything hidden. Such a capture is still compared by its text, so an edit to a short
 * page is found, and the capture says that its text is this fallback (`extraction: "fallback"`),
 * never an empty article compared as "unchanged" in silence.
 *
 * Non-goals: telling boilerplate from content inside the remaining markup (that is the extractor's
 * job; a page that reaches here has no article it could find).
 */
import { parseHTML } from "linkedom";
import {
  BLOCK_TAGS,
  collapseWhitespace,
  ELEMENT_NODE,
  flattenDeepSubtrees,
  TEXT_NODE,
} from "../extract/dom.ts";

/** Page furniture and what never shows as text. */
const SKIPPED_TAGS: ReadonlySet<string> = new Set([
  "nav",
  "header",
  "footer",
  "aside",
  "form",
  "menu",
  "dialog",
  "script",
  "style",
  "noscript",
  "template",
  "svg",
  "iframe",
  "object",
  "canvas",
  "select",
  "button",
  // Where there is no <body> to start from, the document's head is walked too.
  "head",
  "title",
]);
/** ARIA landmarks that are furniture, when a `div` plays them. */
const SKIPPED_ROLES: ReadonlySet<string> = new Set([
  "navigation",
  "banner",
  "contentinfo",
  "complementary",
  "search",
  "dialog",
  "alertdialog",
]);
/** Deeper markup than this is flattened to its text first (hostile nesting). */
const MAX_DEPTH = 200;

function skipped(el: Element): boolean {
  if (SKIPPED_TAGS.has(el.localName)) return true;
  if (el.hasAttribute("hidden") || el.getAttribute("aria-hidden") === "true") return true;
  const role = el.getAttribute("role")?.trim().toLowerCase();
  return role !== undefined && SKIPPED_ROLES.has(role);
}

/**
 * The main text of `html` (see the module's summary): paragraphs, one per block element, separated
 * by blank lines, whitespace collapsed. Empty when the page shows no text at all. Pure.
 */
export function pageMainText(html: string): string {
  const { document } = parseHTML(html);
  // Not `document.body`: linkedom's getter fails or makes an empty one where the markup has none
  // (a fragment); the whole document is walked then, its head skipped.
  const root: Node = document.querySelector("body") ?? document;
  for (const child of Array.from(root.childNodes)) {
    if (child.nodeType === ELEMENT_NODE) flattenDeepSubtrees(child as Element, MAX_DEPTH);
  }
  const paragraphs: string[] = [];
  let current = "";
  const breakParagraph = () => {
    const text = collapseWhitespace(current);
    if (text !== "") paragraphs.push(text);
    current = "";
  };
  // Iterative depth-first walk; a block element breaks the paragraph on the way in and out.
  const stack: Array<{ node: Node; leaving: boolean }> = Array.from(root.childNodes)
    .reverse()
    .map((node) => ({ node, leaving: false }));
  while (stack.length > 0) {
    const { node, leaving } = stack.pop() as { node: Node; leaving: boolean };
    if (node.nodeType === TEXT_NODE) {
      current += node.textContent ?? "";
      continue;
    }
    if (node.nodeType !== ELEMENT_NODE) continue;
    const el = node as Element;
    const block = BLOCK_TAGS.has(el.localName);
    if (leaving) {
      if (block) breakParagraph();
      continue;
    }
    if (skipped(el)) continue;
    if (el.localName === "br") {
      current += " ";
      continue;
    }
    if (block) breakParagraph();
    stack.push({ node: el, leaving: true });
    const children = Array.from(el.childNodes);
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i] as Node, leaving: false });
  }
  breakParagraph();
  return paragraphs.join("\n\n");
}
