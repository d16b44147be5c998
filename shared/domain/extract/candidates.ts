import { isElement, signatureOf } from "./dom.ts";
import { linkDensity, type NodeStats, type StatsMap } from "./measure.ts";
import { CONTENT_SIGNATURE, NEGATIVE_HINT, POSITIVE_HINT } from "./patterns.ts";

/**
 * Readability-style candidate scoring: every paragraph-like element gives points (for its
 * length and commas) to its parent and, decaying, to its ancestors; the best-scoring element
 * after a link-density penalty holds the article. Class/id words and main-content container
 * names tilt the scores.
 */

const UNIT_TAGS: ReadonlySet<string> = new Set(["p", "pre", "td", "blockquote"]);
const MIN_UNIT_TEXT = 25;
const ANCESTOR_LEVELS = 5;

export interface SelectOptions {
  weightClasses: boolean;
}

export interface Selection {
  /** The elements that make up the article, in document order (a container and its kin). */
  roots: Element[];
  /** Every scored element's content score, after the link-density penalty. */
  scores: Map<Element, number>;
}

/**
 * Scores the measured tree and picks the article's container: the best candidate, promoted to a
 * shared ancestor or a parent that scores better or holds markedly more prose, plus siblings that
 * look like more of the same article.
 */
export function selectContent(body: Element, stats: StatsMap, options: SelectOptions): Selection {
  const scores = new Map<Element, number>();
  const initial = (el: Element): number => {
    let score = scores.get(el);
    if (score === undefined) {
      score = tagWeight(el.localName) + (options.weightClasses ? classWeight(el) : 0);
      scores.set(el, score);
    }
    return score;
  };

  const prose = new Map<Element, number>();
  for (const [el, s] of stats) {
    const proseText = proseTextOf(el, s);
    if (proseText > 0) {
      for (let node: Node | null = el; isElement(node); node = node.parentNode) {
        prose.set(node, (prose.get(node) ?? 0) + proseText);
      }
    }
    const unitText = unitTextOf(el, s);
    if (unitText < MIN_UNIT_TEXT) continue;
    const points = 1 + s.commas + Math.min(Math.floor(unitText / 100), 3);
    let ancestor: Node | null = el.parentNode;
    for (let level = 0; level < ANCESTOR_LEVELS && isElement(ancestor); level++) {
      if (ancestor.localName === "html") break;
      const divider = level === 0 ? 1 : level === 1 ? 2 : level * 3;
      scores.set(ancestor, initial(ancestor) + points / divider);
      ancestor = ancestor.parentNode;
    }
  }

  const ranked: Array<{ el: Element; score: number }> = [];
  for (const [el, score] of scores) {
    ranked.push({ el, score: score * (1 - linkDensity(stats.get(el))) });
  }
  ranked.sort((a, b) => b.score - a.score);
  const finalScore = new Map(ranked.map((r) => [r.el, r.score]));
  const best = ranked[0];
  if (best === undefined) return { roots: [body], scores: finalScore };

  let top = promoteCommonAncestor(best.el, best.score, ranked);
  top = climbWhileParentScoresBetter(top, body, finalScore);
  top = climbWhileProseGrows(top, body, stats, prose);
  // A container that is its parent's only child says nothing the parent doesn't.
  while (
    top !== body &&
    isElement(top.parentNode) &&
    top.parentNode !== body &&
    top.parentNode.children.length === 1
  ) {
    top = top.parentNode;
  }
  return { roots: withSiblings(top, body, stats, finalScore), scores: finalScore };
}

function unitTextOf(el: Element, s: NodeStats): number {
  if (UNIT_TAGS.has(el.localName)) return s.text;
  // Text that sits directly in a div/section (between <br>s, say) counts as a paragraph too.
  if (s.inline >= MIN_UNIT_TEXT && el.localName !== "a" && el.localName !== "li") {
    return s.hasBlockChild || !isInlineTag(el.localName) ? s.inline : 0;
  }
  return 0;
}

/** Text that reads as running prose: paragraph-like units and list items, not link lists. */
function proseTextOf(el: Element, s: NodeStats): number {
  if (linkDensity(s) >= 0.3) return 0;
  if (el.localName === "li" && !s.hasBlockChild) return s.text;
  const unit = unitTextOf(el, s);
  return unit >= MIN_UNIT_TEXT ? unit : 0;
}

const INLINE_TAGS: ReadonlySet<string> = new Set([
  "a",
  "abbr",
  "b",
  "bdi",
  "bdo",
  "cite",
  "code",
  "del",
  "dfn",
  "em",
  "font",
  "i",
  "ins",
  "kbd",
  "mark",
  "q",
  "s",
  "samp",
  "small",
  "span",
  "strong",
  "sub",
  "sup",
  "time",
  "u",
  "var",
]);

function isInlineTag(tag: string): boolean {
  return INLINE_TAGS.has(tag);
}

function tagWeight(tag: string): number {
  switch (tag) {
    case "div":
    case "article":
    case "section":
    case "main":
      return 5;
    case "pre":
    case "td":
    case "blockquote":
      return 3;
    case "address":
    case "ol":
    case "ul":
    case "dl":
    case "dd":
    case "dt":
    case "li":
    case "form":
      return -3;
    case "h1":
    case "h2":
    case "h3":
    case "h4":
    case "h5":
    case "h6":
    case "th":
      return -5;
    default:
      return 0;
  }
}

/** Class/id words: ±25 each for class and id (as Readability), more for named content containers. */
export function classWeight(el: Element): number {
  let weight = 0;
  for (const value of [el.getAttribute("class"), el.getAttribute("id")]) {
    if (value === null || value === "") continue;
    const v = value.toLowerCase();
    if (NEGATIVE_HINT.test(v)) weight -= 25;
    if (POSITIVE_HINT.test(v)) weight += 25;
  }
  if (el.getAttribute("itemprop") === "articleBody" || CONTENT_SIGNATURE.test(signatureOf(el))) weight += 25;
  return weight;
}

/** When several strong candidates share an ancestor, the article is that ancestor. */
function promoteCommonAncestor(
  top: Element,
  topScore: number,
  ranked: ReadonlyArray<{ el: Element; score: number }>,
): Element {
  const rivals = ranked.slice(1, 5).filter((r) => r.score / topScore >= 0.75);
  if (rivals.length < 3) return top;
  const rivalAncestors = rivals.map((r) => ancestorsOf(r.el));
  for (let node: Node | null = top.parentNode; isElement(node); node = node.parentNode) {
    if (node.localName === "body") break;
    const shared = rivalAncestors.filter((set) => set.has(node as Element)).length;
    if (shared >= 3) return node;
  }
  return top;
}

function ancestorsOf(el: Element): Set<Element> {
  const out = new Set<Element>();
  for (let node: Node | null = el.parentNode; isElement(node); node = node.parentNode) out.add(node);
  return out;
}

function climbWhileParentScoresBetter(
  top: Element,
  body: Element,
  finalScore: Map<Element, number>,
): Element {
  let lastScore = finalScore.get(top) ?? 0;
  const threshold = lastScore / 3;
  for (
    let parent: Node | null = top.parentNode;
    isElement(parent) && parent !== body;
    parent = parent.parentNode
  ) {
    const score = finalScore.get(parent);
    if (score === undefined) continue;
    if (score < threshold) break;
    if (score > lastScore) return parent;
    lastScore = score;
  }
  return top;
}

/**
 * Deeply nested layouts (page builders, one wrapper per section) keep each section's points
 * from reaching the common container. Climb while the parent holds markedly more prose and
 * is still mostly prose rather than links.
 */
function climbWhileProseGrows(
  top: Element,
  body: Element,
  stats: StatsMap,
  prose: Map<Element, number>,
): Element {
  // A container the page names as its content is trusted as it is.
  if (isNamedContent(top)) return top;
  let best = top;
  for (
    let parent: Node | null = top.parentNode;
    isElement(parent) && parent !== body;
    parent = parent.parentNode
  ) {
    const s = stats.get(parent);
    const theirs = prose.get(parent) ?? 0;
    if (s === undefined || linkDensity(s) > 0.25 || theirs < s.text * PROSE_SHARE) break;
    if (theirs >= (prose.get(best) ?? 0) * PROSE_GROWTH) best = parent;
    if (isNamedContent(parent)) break;
  }
  return best;
}

function isNamedContent(el: Element): boolean {
  return el.getAttribute("itemprop") === "articleBody" || CONTENT_SIGNATURE.test(signatureOf(el));
}

const PROSE_GROWTH = 1.5;
const PROSE_SHARE = 0.6;

/** The container plus those siblings that look like more of the same article. */
function withSiblings(
  top: Element,
  body: Element,
  stats: StatsMap,
  finalScore: Map<Element, number>,
): Element[] {
  const parent = top.parentNode;
  if (top === body || !isElement(parent)) return [top];
  const topScore = finalScore.get(top) ?? 0;
  const threshold = Math.max(10, topScore * 0.2);
  const topClass = top.getAttribute("class") ?? "";
  const out: Element[] = [];
  for (let sibling = parent.firstElementChild; sibling !== null; sibling = sibling.nextElementSibling) {
    if (sibling === top) {
      out.push(sibling);
      continue;
    }
    let bonus = 0;
    if (topClass !== "" && sibling.getAttribute("class") === topClass) bonus += topScore * 0.2;
    const score = finalScore.get(sibling);
    if (score !== undefined && score + bonus >= threshold) {
      out.push(sibling);
      continue;
    }
    if (sibling.localName === "p") {
      const s = stats.get(sibling);
      if (s === undefined) continue;
      const density = linkDensity(s);
      if (s.text > 80 && density < 0.25) out.push(sibling);
      else if (s.text > 0 && s.text <= 80 && density === 0 && /\.( |$)/.test(sibling.textContent ?? "")) {
        out.push(sibling);
      }
    }
  }
  return out;
}
