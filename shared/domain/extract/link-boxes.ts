import { HEADING_TAGS, isElement } from "./dom.ts";
import { linkDensity, type StatsMap } from "./measure.ts";
import { isChromeParagraph } from "./paragraphs.ts";

/**
 * Link boxes: "Most read", "Related", "More from this section" — a list of links to other stories,
 * usually under a short heading, often inside the article element and often named nothing a class
 * filter would catch. Their items rotate from one capture to the next, so a box that survives
 * extraction shows up as an edit. The box is removed as a unit: the list, the heading that labels
 * it, and the wrapper that holds nothing else. Judged by shape (links, item count, item length),
 * in every pass, so the laxer passes that keep chrome-named blocks still drop these.
 */

const LIST_TAGS: ReadonlySet<string> = new Set(["ul", "ol"]);
const CONTAINER_TAGS: ReadonlySet<string> = new Set(["div", "section", "aside", "nav", "header", "footer"]);
/** Items a box needs when nothing labels it; a labelled box needs one. */
const MIN_ITEMS = 3;
/** Share of the box's text inside links, and of each item's text in a container of items. */
const MIN_LINK_DENSITY = 0.8;
/** Teaser headlines are short; an item longer than this (characters) on average is prose. */
const MAX_ITEM_TEXT = 160;
/** A label is a few words; longer text before a list is the article introducing it. */
const MAX_LABEL_TEXT = 60;
/** How far up a wrapper that holds only the box (and its label) is removed with it. */
const MAX_WRAPPER_LEVELS = 3;

/** Removes link boxes under `root` (never `root` itself), using the stats measured before. */
export function removeLinkBoxes(root: Element, stats: StatsMap): void {
  const visit = (el: Element): void => {
    for (let child = el.firstElementChild; child !== null; ) {
      const next = child.nextElementSibling;
      if (!removeIfLinkBox(child, root, stats)) visit(child);
      child = next;
    }
  };
  visit(root);
}

function removeIfLinkBox(el: Element, root: Element, stats: StatsMap): boolean {
  const items = linkItems(el, stats);
  if (items === 0) return false;
  const label = labelOf(el, stats);
  // A label that names a link box settles it; otherwise the shape must, and a list the article
  // introduces ("…are still worth a look:") is the article's own.
  if (label === null || !isChromeParagraph(labelText(label))) {
    if (items < MIN_ITEMS || isIntroduced(el)) return false;
  }
  // Climb through wrappers that hold nothing but this box and its label.
  let box: Element = el;
  const boxText = (stats.get(el)?.text ?? 0) + (label === null ? 0 : (stats.get(label)?.text ?? 0));
  for (let level = 0; level < MAX_WRAPPER_LEVELS; level++) {
    const parent = box.parentNode;
    if (!isElement(parent) || parent === root || parent.localName === "body") break;
    if ((stats.get(parent)?.text ?? 0) > boxText) break;
    box = parent;
  }
  if (box === el && label !== null) label.remove();
  box.remove();
  return true;
}

/**
 * The number of link items when `el` is a list of links (each item mostly one short link), else 0.
 */
function linkItems(el: Element, stats: StatsMap): number {
  const tag = el.localName;
  const isList = LIST_TAGS.has(tag);
  if (!isList && !CONTAINER_TAGS.has(tag)) return 0;
  const s = stats.get(el);
  if (s === undefined || s.text === 0 || linkDensity(s) < MIN_LINK_DENSITY) return 0;
  let items = 0;
  let text = 0;
  for (let child = el.firstElementChild; child !== null; child = child.nextElementSibling) {
    const c = stats.get(child);
    if (c === undefined || c.text === 0) continue;
    if (isList ? child.localName !== "li" : linkDensity(c) < MIN_LINK_DENSITY) return 0;
    items++;
    text += c.text;
  }
  return items === 0 || text / items > MAX_ITEM_TEXT ? 0 : items;
}

/** The element just before `el` when it reads as the box's label: a heading or a short unlinked line. */
function labelOf(el: Element, stats: StatsMap): Element | null {
  const prev = el.previousElementSibling;
  if (prev === null) return null;
  const s = stats.get(prev);
  if (s === undefined || s.text === 0 || s.text > MAX_LABEL_TEXT || s.link > 0) return null;
  if (HEADING_TAGS.has(prev.localName)) return prev;
  return isChromeParagraph(labelText(prev)) ? prev : null;
}

/** The text just before the list ends with a colon: the article is introducing its own list. */
function isIntroduced(el: Element): boolean {
  const prev = el.previousElementSibling;
  return prev !== null && /:\s*$/.test(prev.textContent ?? "");
}

function labelText(el: Element): string {
  return (el.textContent ?? "").replace(/\s+/g, " ").trim();
}
