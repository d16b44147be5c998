/** Small DOM helpers over the standard DOM interfaces (linkedom implements them). */

export const ELEMENT_NODE = 1;
export const TEXT_NODE = 3;

/** Elements that start a new paragraph in the extracted text. */
export const BLOCK_TAGS: ReadonlySet<string> = new Set([
  "address",
  "article",
  "aside",
  "blockquote",
  "body",
  "center",
  "dd",
  "details",
  "dialog",
  "div",
  "dl",
  "dt",
  "fieldset",
  "figcaption",
  "figure",
  "footer",
  "form",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "header",
  "hgroup",
  "hr",
  "li",
  "main",
  "nav",
  "ol",
  "p",
  "pre",
  "section",
  "summary",
  "table",
  "tbody",
  "tfoot",
  "thead",
  "tr",
  "ul",
]);

export const HEADING_TAGS: ReadonlySet<string> = new Set(["h1", "h2", "h3", "h4", "h5", "h6"]);

export function isElement(node: Node | null): node is Element {
  return node !== null && node.nodeType === ELEMENT_NODE;
}

/** Element children as an array (safe to mutate the tree while iterating it). */
export function childElements(el: Element): Element[] {
  const out: Element[] = [];
  for (let child = el.firstElementChild; child !== null; child = child.nextElementSibling) out.push(child);
  return out;
}

/** Collapses runs of whitespace (including no-break spaces) to one space and trims. */
export function collapseWhitespace(text: string): string {
  return text.replace(/[\s\u00a0\u200b\u2028\u2029\ufeff]+/g, " ").trim();
}

/** The element's visible-ish text with whitespace collapsed. */
export function textOf(el: Element): string {
  return collapseWhitespace(el.textContent ?? "");
}

/** `id` and `class` as one lower-case string, the usual place for boilerplate hints. */
export function signatureOf(el: Element): string {
  const id = el.getAttribute("id") ?? "";
  const cls = el.getAttribute("class") ?? "";
  if (id === "" && cls === "") return "";
  return `${id} ${cls}`.toLowerCase();
}

/**
 * Caps the tree's depth: below `maxDepth` levels, an element's subtree is replaced by its text.
 * Real pages nest a few dozen levels; broken or hostile markup (thousands of unclosed tags)
 * would otherwise overflow the stack of the recursive passes. Iterative, O(nodes).
 */
export function flattenDeepSubtrees(root: Element, maxDepth: number): void {
  const tooDeep: Element[] = [];
  let depth = 0;
  let el: Element | null = root;
  while (el !== null) {
    const first: Element | null = depth < maxDepth ? el.firstElementChild : null;
    if (depth === maxDepth && el.firstElementChild !== null) tooDeep.push(el);
    if (first !== null) {
      el = first;
      depth++;
      continue;
    }
    while (el !== null && el !== root && el.nextElementSibling === null) {
      el = el.parentElement;
      depth--;
    }
    el = el === null || el === root ? null : el.nextElementSibling;
  }
  for (const deep of tooDeep) deep.textContent = deep.textContent ?? "";
}
