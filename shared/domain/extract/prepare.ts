import { childElements, isElement, signatureOf } from "./dom.ts";
import { CHROME_ROLES, CHROME_SIGNATURE, CONTENT_SIGNATURE } from "./patterns.ts";

/** Elements whose content is never article text. */
const JUNK_TAGS: ReadonlySet<string> = new Set([
  "script",
  "style",
  "noscript",
  "template",
  "svg",
  "canvas",
  "iframe",
  "frame",
  "frameset",
  "object",
  "embed",
  "applet",
  "audio",
  "video",
  "source",
  "track",
  "map",
  "area",
  "button",
  "input",
  "select",
  "option",
  "optgroup",
  "textarea",
  "datalist",
  "output",
  "progress",
  "meter",
  "dialog",
  "link",
  "meta",
  "base",
  "math",
  "nav",
  "menu",
  "menuitem",
  "label",
  "head",
  "title",
  "figcaption",
]);

const ARIA_HIDDEN_MAX_TEXT = 200;

const HIDDEN_STYLE = /(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)/i;

export interface PrepareOptions {
  /** Remove elements whose class/id/role says chrome (share bars, related boxes, ads...). */
  stripChrome: boolean;
}

/**
 * Removes what can never be article text, in place: scripts and embeds, form controls,
 * navigation, hidden elements and (optionally) elements whose class/id/role names them as
 * chrome. Elements that hold a main-content container are kept whatever their class says.
 */
export function prepareDocument(root: Element, options: PrepareOptions): void {
  const protectedEls = options.stripChrome ? findProtected(root) : new Set<Element>();
  prune(root, options, protectedEls);
}

function prune(el: Element, options: PrepareOptions, protectedEls: Set<Element>): void {
  for (const child of childElements(el)) {
    if (shouldRemove(child, options, protectedEls)) child.remove();
    else prune(child, options, protectedEls);
  }
}

function shouldRemove(el: Element, options: PrepareOptions, protectedEls: Set<Element>): boolean {
  const tag = el.localName;
  if (JUNK_TAGS.has(tag)) return true;
  if (el.hasAttribute("hidden")) return true;
  // aria-hidden marks decoration (icons, duplicated labels); a page behind an open dialog can
  // carry it on the whole article, so only small subtrees go.
  if (el.getAttribute("aria-hidden") === "true" && (el.textContent ?? "").length < ARIA_HIDDEN_MAX_TEXT)
    return true;
  const style = el.getAttribute("style");
  if (style !== null && HIDDEN_STYLE.test(style)) return true;
  if (!options.stripChrome || protectedEls.has(el)) return false;
  if (tag === "body" || tag === "html" || tag === "main") return false;
  const role = el.getAttribute("role");
  if (role !== null && CHROME_ROLES.has(role.toLowerCase())) return true;
  if (tag === "aside" || tag === "footer") return true;
  const signature = signatureOf(el);
  if (signature === "") return false;
  return CHROME_SIGNATURE.test(signature) && !CONTENT_SIGNATURE.test(signature);
}

/**
 * Main-content containers, and the ancestors of those that hold a real amount of text (so a
 * wrapper named `has-sidebar` or `with-comments` around the article is not thrown away).
 */
function findProtected(root: Element): Set<Element> {
  const out = new Set<Element>();
  const markAncestors = (el: Element): void => {
    for (let node: Node | null = el.parentNode; isElement(node) && !out.has(node); node = node.parentNode)
      out.add(node);
  };
  const walk = (el: Element): void => {
    for (let child = el.firstElementChild; child !== null; child = child.nextElementSibling) {
      if (child.getAttribute("itemprop") === "articleBody" || CONTENT_SIGNATURE.test(signatureOf(child))) {
        out.add(child);
        if ((child.textContent ?? "").length >= PROTECT_ANCESTORS_MIN_TEXT) markAncestors(child);
      }
      walk(child);
    }
  };
  walk(root);
  return out;
}

const PROTECT_ANCESTORS_MIN_TEXT = 500;
