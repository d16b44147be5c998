import { BLOCK_TAGS, ELEMENT_NODE, TEXT_NODE } from "./dom.ts";

/** Text statistics of one element's subtree, computed once bottom-up. */
export interface NodeStats {
  /** Non-whitespace characters of text. */
  text: number;
  /** Non-whitespace characters inside links. */
  link: number;
  /** Commas (in the scripts Readability counts). */
  commas: number;
  /** Characters of text that belong to this element's own inline run (not inside a block child). */
  inline: number;
  /** Whether a direct child is a block-level element. */
  hasBlockChild: boolean;
}

const COMMAS = /[\u002c\u060c\ufe50\ufe10\ufe11\u2e41\u2e34\u2e32\uff0c]/g;
const WHITESPACE = /[\s\u00a0]+/g;

export type StatsMap = Map<Element, NodeStats>;

/** Measures every element under (and including) `root`. */
export function measureTree(root: Element): StatsMap {
  const stats: StatsMap = new Map();
  measure(root, false, stats);
  return stats;
}

function measure(el: Element, inLink: boolean, stats: StatsMap): NodeStats {
  const s: NodeStats = { text: 0, link: 0, commas: 0, inline: 0, hasBlockChild: false };
  const linked = inLink || el.localName === "a";
  for (let node = el.firstChild; node !== null; node = node.nextSibling) {
    if (node.nodeType === TEXT_NODE) {
      const data = (node as Text).data;
      const len = data.replace(WHITESPACE, "").length;
      if (len === 0) continue;
      s.text += len;
      s.inline += len;
      if (linked) s.link += len;
      s.commas += data.match(COMMAS)?.length ?? 0;
    } else if (node.nodeType === ELEMENT_NODE) {
      const child = node as Element;
      const c = measure(child, linked, stats);
      s.text += c.text;
      s.link += c.link;
      s.commas += c.commas;
      if (BLOCK_TAGS.has(child.localName)) s.hasBlockChild = true;
      else s.inline += c.text;
    }
  }
  stats.set(el, s);
  return s;
}

export function linkDensity(s: NodeStats | undefined): number {
  if (s === undefined || s.text === 0) return 0;
  return s.link / s.text;
}
