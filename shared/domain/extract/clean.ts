import { classWeight } from "./candidates.ts";
import { childElements, ELEMENT_NODE, HEADING_TAGS, TEXT_NODE } from "./dom.ts";

/**
 * Precision pass over the chosen content (after Readability's "clean conditionally"): blocks
 * that look like link lists, image galleries, forms or widgets are removed bottom-up, judged by
 * their own figures once their children have been cleaned.
 */

interface Counts {
  text: number;
  link: number;
  commas: number;
  p: number;
  img: number;
  li: number;
  input: number;
  heading: number;
  embed: number;
}

const CONDITIONAL_TAGS: ReadonlySet<string> = new Set([
  "form",
  "fieldset",
  "table",
  "ul",
  "ol",
  "dl",
  "div",
  "section",
  "aside",
  "header",
  "footer",
  "figure",
  "details",
  "center",
]);

const COMMAS = /[\u002c\u060c\ufe50\ufe10\ufe11\u2e41\u2e34\u2e32\uff0c]/g;
const WHITESPACE = /[\s\u00a0]+/g;

export interface CleanOptions {
  cleanConditionally: boolean;
  weightClasses: boolean;
  /** Content scores from candidate selection: a block that earned points is not judged by its name alone. */
  scores: ReadonlyMap<Element, number>;
}

/** Cleans `root`'s descendants in place (never removes `root` itself). */
export function cleanContent(root: Element, options: CleanOptions): void {
  for (const child of childElements(root)) visit(child, options, false);
}

function emptyCounts(): Counts {
  return { text: 0, link: 0, commas: 0, p: 0, img: 0, li: 0, input: 0, heading: 0, embed: 0 };
}

function add(into: Counts, c: Counts): void {
  into.text += c.text;
  into.link += c.link;
  into.commas += c.commas;
  into.p += c.p;
  into.img += c.img;
  into.li += c.li;
  into.input += c.input;
  into.heading += c.heading;
  into.embed += c.embed;
}

/** Cleans `el`'s subtree; returns its counts, or null when `el` itself was removed. */
function visit(el: Element, options: CleanOptions, inLink: boolean): Counts | null {
  const tag = el.localName;
  const counts = emptyCounts();
  const linked = inLink || tag === "a";
  for (let node = el.firstChild; node !== null; ) {
    const next = node.nextSibling;
    if (node.nodeType === TEXT_NODE) {
      const data = (node as Text).data;
      const len = data.replace(WHITESPACE, "").length;
      if (len > 0) {
        counts.text += len;
        if (linked) counts.link += len;
        counts.commas += data.match(COMMAS)?.length ?? 0;
      }
    } else if (node.nodeType === ELEMENT_NODE) {
      const c = visit(node as Element, options, linked);
      if (c !== null) add(counts, c);
    }
    node = next;
  }
  if (tag === "p") counts.p++;
  else if (tag === "img" || tag === "picture") counts.img++;
  else if (tag === "li") counts.li++;
  else if (tag === "input") counts.input++;
  else if (tag === "embed" || tag === "object" || tag === "iframe" || tag === "video") counts.embed++;
  if (HEADING_TAGS.has(tag)) counts.heading += counts.text;

  if (shouldRemove(el, tag, counts, options)) {
    el.remove();
    return null;
  }
  return counts;
}

function shouldRemove(el: Element, tag: string, c: Counts, options: CleanOptions): boolean {
  // A block that is (nearly) all link text and short is a teaser or a navigation crumb.
  if ((tag === "p" || HEADING_TAGS.has(tag)) && c.text > 0 && c.link / c.text > 0.8 && c.text < 200)
    return true;
  if (!options.cleanConditionally || !CONDITIONAL_TAGS.has(tag)) return false;
  if (tag === "table" && isDataTable(el)) return false;

  const weight = options.weightClasses ? classWeight(el) : 0;
  const linkDensity = c.text === 0 ? 0 : c.link / c.text;
  // A long run of prose outweighs an unlucky class name (page builders put "newsletter" or
  // "hero" on the section that holds the whole article).
  const prose = c.p >= 3 && c.commas >= 10 && linkDensity < 0.2;
  if (!prose && weight + (options.scores.get(el) ?? 0) < 0) return true;
  if (c.commas >= 10) return false;

  const isList = tag === "ul" || tag === "ol" || tag === "dl";
  const headingDensity = c.text === 0 ? 0 : c.heading / c.text;
  const li = c.li - 100;
  const inFigure = el.closest("figure") !== null;
  if (c.img > 1 && c.p / c.img < 0.5 && !inFigure) return true;
  if (!isList && li > c.p) return true;
  if (c.input > Math.floor(c.p / 3)) return true;
  if (!isList && headingDensity < 0.9 && c.text < 25 && (c.img === 0 || c.img > 2) && !inFigure) return true;
  if (!isList && weight < 25 && linkDensity > 0.2) return true;
  if (isList && linkDensity > 0.5) return true;
  if (weight >= 25 && linkDensity > 0.5) return true;
  if ((c.embed === 1 && c.text < 75) || c.embed > 1) return true;
  return false;
}

/** Tables with headers, captions or more than a handful of cells hold data, not layout. */
function isDataTable(table: Element): boolean {
  if (table.getAttribute("role") === "presentation") return false;
  if ((table.getAttribute("datatable") ?? "") === "0") return false;
  if (table.getAttribute("summary")) return true;
  if (table.querySelector("caption, th, thead, tfoot, colgroup, col") !== null) return true;
  if (table.querySelector("table") !== null) return false;
  const rows = table.querySelectorAll("tr").length;
  const firstRow = table.querySelector("tr");
  const columns = firstRow === null ? 0 : firstRow.querySelectorAll("td, th").length;
  return rows >= 10 || columns > 4 || rows * columns > 10;
}
