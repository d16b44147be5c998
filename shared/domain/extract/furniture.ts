import { BLOCK_TAGS, collapseWhitespace, HEADING_TAGS, isElement } from "./dom.ts";
import { linkDensity, type NodeStats, type StatsMap } from "./measure.ts";
import { isChromeLine, isChromeParagraph } from "./paragraphs.ts";

/**
 * Page furniture that moves between captures, removed before content scoring in every pass:
 * - link boxes and cross-links: "Most read", "Related", "More from this section" lists of other
 *   stories, and "Read more: <headline>" lines between paragraphs. They sit inside the article
 *   element as often as beside it and are often named nothing a class filter would catch. Judged
 *   by shape (links, item count, item length, a short label); a box goes as a unit, with its
 *   label and the wrappers that hold nothing else;
 * - metadata lines: timestamps, counters, ad labels, share prompts (the paragraph filter's
 *   tests, applied to small blocks).
 * Left in place until the paragraph filter, they would still tilt content scoring (their
 * points and links differ from one capture to the next) and so flip which container wins.
 */

const LIST_TAGS: ReadonlySet<string> = new Set(["ul", "ol"]);
const CONTAINER_TAGS: ReadonlySet<string> = new Set(["div", "section", "aside", "nav", "header", "footer"]);
const CROSS_LINK_TAGS: ReadonlySet<string> = new Set(["p", "div", "li"]);
const LINE_TAGS: ReadonlySet<string> = new Set(["p", "div", "li"]);
/** Non-whitespace characters: a metadata line longer than this is not judged (the filter's own bound). */
const MAX_LINE_TEXT = 200;
/** Items a box needs when no label names it as one; a box whose label does needs one. */
const MIN_ITEMS = 3;
/** Share of the items' text inside links, for the box and for each item of a container. */
const MIN_LINK_DENSITY = 0.8;
/** Teaser headlines are short; items longer than this (characters) on average are prose. */
const MAX_ITEM_TEXT = 160;
/** A label is a few words; a longer line before a list is the article introducing it. */
const MAX_LABEL_TEXT = 60;
/** How far up a wrapper that holds only the box (and its label) goes with it. */
const MAX_WRAPPER_LEVELS = 3;
/** "Read more:" and friends: a short label, a colon, then only a link that reads as a headline. */
const CROSS_LINK = /^([^:]{2,30}):\s*\S/;
const MAX_CROSS_LINK_TEXT = 250;
const MAX_LABEL_WORDS = 4;
const MIN_HEADLINE_WORDS = 4;

/**
 * Removes link boxes, cross-link lines and metadata lines under `root` (never `root` itself). `stats` must be
 * `root`'s measured tree and is kept true: removed elements leave it and their ancestors' counts
 * drop, so content scoring afterwards sees the page as if the furniture had never been there.
 */
export function removeFurniture(root: Element, stats: StatsMap): void {
  const sweep = (judge: (el: Element) => Element[] | null): void => {
    const visit = (el: Element): void => {
      for (let child = el.firstElementChild; child !== null; ) {
        const next = child.nextElementSibling;
        const doomed = judge(child);
        if (doomed === null) visit(child);
        else for (const gone of doomed) removeMeasured(gone, stats);
        child = next;
      }
    };
    visit(root);
  };
  // Boxes first, so that a box's label ("More stories") still stands beside it when it is judged.
  sweep((el) => crossLink(el, stats) ?? linkBox(el, root, stats));
  sweep((el) => metadataLine(el, stats));
}

/** Removes `el`, taking its subtree out of `stats` and its text out of its ancestors' counts. */
function removeMeasured(el: Element, stats: StatsMap): void {
  const s = stats.get(el);
  if (s !== undefined) {
    const parent = el.parentNode;
    for (let node: Node | null = parent; isElement(node); node = node.parentNode) {
      const a = stats.get(node);
      if (a === undefined) continue;
      a.text -= s.text;
      a.link -= s.link;
      a.commas -= s.commas;
      if (node === parent && !BLOCK_TAGS.has(el.localName)) a.inline -= s.text;
    }
    const forget = (node: Element): void => {
      stats.delete(node);
      for (let child = node.firstElementChild; child !== null; child = child.nextElementSibling)
        forget(child);
    };
    forget(el);
  }
  el.remove();
}

/** A small block whose whole text is a timestamp, a counter or another chrome line. */
function metadataLine(el: Element, stats: StatsMap): Element[] | null {
  if (!LINE_TAGS.has(el.localName)) return null;
  const s = stats.get(el);
  if (s === undefined || s.text === 0 || s.text > MAX_LINE_TEXT || s.hasBlockChild) return null;
  const text = textOf(el);
  return /[\p{L}\p{N}]/u.test(text) && isChromeLine(text) ? [el] : null;
}

/** "Read more: <a>Another story</a>": a short label and a colon, then nothing but one headline link. */
function crossLink(el: Element, stats: StatsMap): Element[] | null {
  if (!CROSS_LINK_TAGS.has(el.localName)) return null;
  const s = stats.get(el);
  if (s === undefined || s.link === 0 || s.text > MAX_CROSS_LINK_TEXT) return null;
  const match = CROSS_LINK.exec(collapseWhitespace(el.textContent ?? ""));
  if (match === null) return null;
  // Everything but the label (and its colon) is link text, and the link reads as a headline
  // ("Where to watch: Hulu" or "Website: example.com" is the article's own information).
  const label = match[1] ?? "";
  if (s.text - s.link > label.replace(/\s+/g, "").length + 1 || wordCount(label) > MAX_LABEL_WORDS)
    return null;
  const links = el.querySelectorAll("a");
  if (links.length !== 1 || wordCount(links[0]?.textContent ?? "") < MIN_HEADLINE_WORDS) return null;
  return [el];
}

/** The elements that make up a link box starting at `el` (its wrapper, or it and its label). */
function linkBox(el: Element, root: Element, stats: StatsMap): Element[] | null {
  const list = linkList(el, stats);
  if (list === null) return null;
  const label = list.label ?? labelBefore(el, stats);
  // A label that names a link box settles it; otherwise the shape must. An unlabelled list that
  // the article introduces ("…are still worth a look:") is the article's own.
  if (label === null || !isChromeParagraph(textOf(label))) {
    if (list.items < MIN_ITEMS || (label === null && isIntroduced(el))) return null;
  }
  const own = stats.get(el) as NodeStats;
  const outsideLabel = label !== null && label !== list.label ? label : null;
  let boxText = own.text + (outsideLabel === null ? 0 : (stats.get(outsideLabel)?.text ?? 0));
  // Climb through wrappers that hold nothing but this box and, if it has none yet, one label's
  // worth of text (an article heading next to a labelled box is not the box's).
  let spare = label === null ? MAX_LABEL_TEXT : 0;
  let box: Element = el;
  for (let level = 0; level < MAX_WRAPPER_LEVELS; level++) {
    const parent = box.parentNode;
    if (!isElement(parent) || parent === root || parent.localName === "body") break;
    const p = stats.get(parent);
    if (p === undefined || p.text - boxText > spare || p.link > own.link) break;
    spare -= p.text - boxText;
    boxText = p.text;
    box = parent;
  }
  return box === el && outsideLabel !== null ? [outsideLabel, el] : [box];
}

interface LinkList {
  items: number;
  /** A container's leading child that labels it ("Most read" above the items), if any. */
  label: Element | null;
}

/**
 * `el` as a list of links: a ul/ol of items, or a container of items (each mostly one short
 * link) after an optional short label; null when it is anything else.
 */
function linkList(el: Element, stats: StatsMap): LinkList | null {
  const tag = el.localName;
  const isList = LIST_TAGS.has(tag);
  if (!isList && !CONTAINER_TAGS.has(tag)) return null;
  const s = stats.get(el);
  if (s === undefined || s.link === 0) return null;
  let items = 0;
  let text = 0;
  let link = 0;
  let label: Element | null = null;
  for (let child = el.firstElementChild; child !== null; child = child.nextElementSibling) {
    const c = stats.get(child);
    if (c === undefined || c.text === 0) continue;
    if (isList) {
      if (child.localName !== "li") return null;
    } else if (LIST_TAGS.has(child.localName)) {
      // A container around a list ("<section><h3>Most read</h3><ol>…</ol></section>"): its items count.
      const inner = linkList(child, stats);
      if (inner === null) return null;
      items += inner.items;
      text += c.text;
      link += c.link;
      continue;
    } else if (linkDensity(c) < MIN_LINK_DENSITY) {
      if (items > 0 || label !== null || !isLabel(c)) return null;
      label = child;
      continue;
    }
    items++;
    text += c.text;
    link += c.link;
  }
  // Text outside the children (a bare label, separators) counts against the box.
  const loose = s.text - text - (label === null ? 0 : (stats.get(label)?.text ?? 0));
  if (items === 0 || text / items > MAX_ITEM_TEXT || loose > MAX_LABEL_TEXT) return null;
  return link / (text + Math.max(0, loose)) >= MIN_LINK_DENSITY ? { items, label } : null;
}

function isLabel(s: NodeStats): boolean {
  return s.text > 0 && s.text <= MAX_LABEL_TEXT && s.link === 0;
}

/** The element just before `el` when it reads as the list's label: a heading or a short unlinked line. */
function labelBefore(el: Element, stats: StatsMap): Element | null {
  const prev = el.previousElementSibling;
  if (prev === null) return null;
  const s = stats.get(prev);
  if (s === undefined || !isLabel(s)) return null;
  if (HEADING_TAGS.has(prev.localName)) return prev;
  return isChromeParagraph(textOf(prev)) ? prev : null;
}

/** The text just before the list ends with a colon: the article is introducing its own list. */
function isIntroduced(el: Element): boolean {
  const prev = el.previousElementSibling;
  return prev !== null && /:\s*$/.test(prev.textContent ?? "");
}

function wordCount(text: string): number {
  return text.match(/[\p{L}\p{N}]+/gu)?.length ?? 0;
}

function textOf(el: Element): string {
  return collapseWhitespace(el.textContent ?? "");
}
