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
  placeStreamedSegments(root);
  const protectedEls = options.stripChrome ? findProtected(root) : new Set<Element>();
  const anchors = new Set<string>();
  if (options.stripChrome) {
    for (const a of root.querySelectorAll('a[href^="#"]'))
      anchors.add((a.getAttribute("href") ?? "").slice(1));
  }
  const context: PruneContext = { options, protectedEls, pageText: (root.textContent ?? "").length, anchors };
  prune(root, context);
}

interface PruneContext {
  options: PrepareOptions;
  protectedEls: Set<Element>;
  /** Characters of text on the whole page, before anything is removed. */
  pageText: number;
  /**
   * Ids that links on the page point at (`href="#…"`): sections a table of contents jumps to.
   * Such an id is a heading's slug (`toc_how-it-works`, `related-research`), so its words say
   * what the section is about, not that it is chrome; the element's class still counts.
   */
  anchors: Set<string>;
}

function prune(el: Element, context: PruneContext): void {
  for (const child of childElements(el)) {
    if (shouldRemove(child, context)) child.remove();
    else prune(child, context);
  }
}

function shouldRemove(el: Element, { options, protectedEls, pageText, anchors }: PruneContext): boolean {
  const tag = el.localName;
  if (JUNK_TAGS.has(tag)) return true;
  if (el.hasAttribute("hidden") && !isStreamedSegment(el)) return true;
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
  const signature =
    el.id !== "" && anchors.has(el.id) ? (el.getAttribute("class") ?? "").toLowerCase() : signatureOf(el);
  if (signature === "") return false;
  if (!CHROME_SIGNATURE.test(signature) || CONTENT_SIGNATURE.test(signature)) return false;
  return (el.textContent ?? "").length <= pageText * MOST_OF_THE_PAGE;
}

/**
 * A class word names what an element is for, but layouts name wrappers after what they hold
 * beside the article (`sidebar-container`, `has-comments`): an element that holds more than this
 * share of the page's text is the page, not a sidebar, and is looked into rather than dropped.
 */
const MOST_OF_THE_PAGE = 0.5;

/**
 * React's streaming server rendering sends a late part of the page as `<div hidden id="S:n">`
 * after the rest, and a script moves it into place at once (into `<template id="B:n">` for a
 * Suspense boundary, `P:n` for a plain segment): a browser shows it where the template was. The
 * raw HTML (a plain-HTTP recapture, a saved page) is put in the same order here; a segment whose
 * place cannot be found stays where it is, shown.
 */
function placeStreamedSegments(root: Element): void {
  const segments = root.querySelectorAll("div[hidden][id^='S:']");
  if (segments.length === 0) return;
  const templates = new Map<string, Element>();
  for (const template of root.querySelectorAll("template[id]")) templates.set(template.id, template);
  for (const segment of segments) {
    const n = segment.id.slice(2);
    const place = templates.get(`B:${n}`) ?? templates.get(`P:${n}`);
    if (place === undefined || segment.contains(place)) continue;
    place.replaceWith(...segment.childNodes);
    segment.remove();
  }
}

function isStreamedSegment(el: Element): boolean {
  return el.localName === "div" && /^S:[0-9a-f]+$/.test(el.id);
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
