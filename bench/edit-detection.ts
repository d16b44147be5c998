/**
 * Edit-detection benchmark on the shared corpus (wcxb-dev-articles).
 *
 * Noise pairs must flag nothing:
 * - text noise: each ground-truth article against a copy with whitespace, quote, dash, ellipsis,
 *   ligature, soft-hyphen, zero-width and no-break-space variations;
 * - page noise (when the extractor exists): each page with two different sets of injected
 *   furniture — relative timestamps, view/comment/share counters, rotated "Read more:" and
 *   "Most read" boxes, ad slots, a cookie banner, a share bar — both extracted, then diffed.
 * Substantive pairs must flag the right significance and kinds: sentence added, removed,
 * changed; number, quote and headline changed; typo fixed (minor); plus correction notices,
 * moved paragraphs and byline changes.
 *
 * Edits are made with an independent regex sentence picker, not the diff's own splitter.
 * Run directly (`node bench/edit-detection.ts`) or through bench/run.ts.
 */

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gunzipSync } from "node:zlib";
import {
  type ArticleForDiff,
  diffArticles,
  isOneEditApart,
  summariseEdit,
} from "../shared/domain/diff/index.ts";
import type { Article, EditKind } from "../shared/domain/model.ts";
import { type CorpusArticle, corpusDir, loadCorpusArticles, seededRandom } from "./diff.ts";
import type { BenchReport } from "./extraction.ts";

type Random = () => number;

function pickOne<T>(items: readonly T[], random: Random): T {
  return items[Math.floor(random() * items.length)] as T;
}

// ---------------------------------------------------------------------------------------------
// Text noise

function toCurly(text: string): string {
  return text
    .replace(/(^|[\s([{])"/g, "$1\u201c")
    .replace(/"/g, "\u201d")
    .replace(/(^|[\s([{])'/g, "$1\u2018")
    .replace(/'/g, "\u2019");
}

function toStraight(text: string): string {
  return text.replace(/[\u201c\u201d\u201e\u00ab\u00bb]/g, '"').replace(/[\u2018\u2019\u201a]/g, "'");
}

/** Typography and whitespace only: every change here folds away under `normaliseForComparison`. */
export function perturbText(text: string, random: Random): string {
  let out = random() < 0.5 ? toCurly(text) : toStraight(text);
  out = out.replace(/ [-\u2013\u2014] /g, () =>
    pickOne([" - ", " \u2013 ", " \u2014 ", "\u00a0\u2014 ", " \u2212 "], random),
  );
  out = out.replace(
    /(\p{L})-(\p{L})/gu,
    (_, a: string, b: string) => `${a}${pickOne(["-", "\u2010", "\u2011"], random)}${b}`,
  );
  out = out.replace(/\.\.\.|\u2026/g, () => pickOne(["...", "\u2026"], random));
  out = out.replace(/\b(\p{L}{4})(\p{L}{4,})/gu, (match, a: string, b: string) =>
    random() < 0.08 ? `${a}\u00ad${b}` : random() < 0.02 ? `${a}\u200b${b}` : match,
  );
  out = out.replace(/fi/g, (match) => (random() < 0.1 ? "\ufb01" : match));
  out = out.replace(/(\d) (?=\p{L})/gu, (match, digit: string) =>
    random() < 0.5 ? `${digit}\u00a0` : match,
  );
  out = out.replace(/(?<=\S) (?=\S)/g, () =>
    random() < 0.06 ? pickOne(["  ", "\t", "\n", "\u00a0", "\u2009", " \u200b"], random) : " ",
  );
  out = out
    .split(/\n\s*\n/)
    .map((para) => (random() < 0.2 ? `  ${para}\u00a0 ` : para))
    .join(pickOne(["\n\n", "\n \n", "\n\n\n", "\r\n\r\n", "\n\t\n"], random));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Page noise

export type Extract = (html: string, options: { url?: string }) => Article | null;

export async function loadExtractor(): Promise<Extract | null> {
  const path = new URL("../shared/domain/extract/index.ts", import.meta.url);
  if (!existsSync(path)) return null;
  const module = (await import(pathToFileURL(path.pathname).href)) as { extractArticle?: Extract };
  return module.extractArticle ?? null;
}

function escapeText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export interface Furniture {
  header: string;
  inline: string;
  box: string;
  footer: string;
  banner: string;
}

/**
 * Variants of each piece of furniture as newsrooms ship them. Class names range from the
 * conventional ("most-read", "share-bar") to neutral ones a class filter cannot know ("module",
 * "c-list", none), and labels include some the extractor has no phrase for, so that only the
 * furniture's shape can give it away.
 */
const TIME_UNITS = ["minutes", "hours", "mins", "hrs", "seconds"];
const SHORT_UNITS = ["m", "h", "min", "hr"];
const META_CLASSES = ["article-meta", "meta", "story-info", "c-meta__row", ""];
const SEPARATORS = [" · ", " | ", " • ", " "];
const INLINE_LABELS = [
  "Read more:",
  "READ MORE:",
  "Related:",
  "Also read:",
  "See also:",
  "Read next:",
  "Related coverage:",
  "More on this story:",
];
const BOX_LABELS = [
  "Most read",
  "Most popular",
  "Trending now",
  "Popular now",
  "More stories",
  "Recommended",
  "Latest news",
  "Top stories",
  "You may also like",
  "Editor's picks",
  "What others are reading",
  "Elsewhere on the site",
  "Popular this week",
];
const BOX_CONTAINERS = ["aside", "div", "section"];
const BOX_CLASSES = ["most-read", "popular", "widget", "module", "c-list", "rail-box", ""];
const AD_LABELS = [
  "Advertisement",
  "ADVERTISEMENT",
  "Sponsored",
  "Story continues below advertisement",
  "Advertisement - scroll to continue",
];
const COOKIE_TEXTS = [
  "We use cookies to personalise content and ads and to analyse our traffic.",
  "This site uses cookies. By continuing to browse the site you are agreeing to our use of cookies.",
  "We use cookies and similar technologies to improve your experience and to show you relevant advertising.",
];

function classAttribute(name: string): string {
  return name === "" ? "" : ` class="${name}"`;
}

/** One set of page furniture; two calls with different randomness give two captures of a page. */
export function furniture(random: Random, titles: readonly string[], withBanner: boolean): Furniture {
  const n = () => 1 + Math.floor(random() * 58);
  const count = () => Math.floor(random() * 20_000).toLocaleString("en");
  const headline = () => escapeText(pickOne(titles, random));
  const hh = String(Math.floor(random() * 24)).padStart(2, "0");
  const mm = String(Math.floor(random() * 60)).padStart(2, "0");
  const day = 1 + Math.floor(random() * 28);
  const stamp = pickOne(
    [
      () => `Updated ${n()} ${pickOne(TIME_UNITS, random)} ago`,
      () => `${n()}${pickOne(SHORT_UNITS, random)} ago`,
      () => `Published ${n()} hours ago`,
      () => `Last updated: ${hh}:${mm} GMT, ${day} March 2025`,
      () => `${day} Mar 2025, ${hh}:${mm}`,
    ],
    random,
  )();
  const counters = [
    pickOne([`${count()} views`, `${count()} reads`, `${(random() * 20).toFixed(1)}k views`], random),
    pickOne([`${n()} comments`, `Comments (${n()})`, `${count()} shares`], random),
  ];
  const separator = pickOne(SEPARATORS, random);
  const metaClass = classAttribute(pickOne(META_CLASSES, random));
  const header = pickOne(
    [
      () =>
        `<div${metaClass}><span class="timestamp">${stamp}</span>${separator}<span>${counters[0]}</span>${separator}<a href="#comments">${counters[1]}</a></div>`,
      () => `<ul${metaClass}><li>${stamp}</li><li>${counters[0]}</li><li>${counters[1]}</li></ul>`,
      () =>
        `<p${metaClass}>${stamp}${separator}${counters[0]}</p><p><a href="#comments">${counters[1]}</a></p>`,
    ],
    random,
  )();
  const dateline = `<p class="dateline"><time class="updated" datetime="2025-03-${String(day).padStart(2, "0")}T${hh}:${mm}:00Z">Updated ${hh}:${mm} GMT, ${day} March 2025</time></p>`;

  const label = pickOne(INLINE_LABELS, random);
  const link = `<a href="/story/${n()}">${headline()}</a>`;
  const inline = pickOne(
    [
      () => `<p class="read-more"><strong>${label}</strong> ${link}</p>`,
      () => `<p>${label} ${link}</p>`,
      () => `<p><a href="/story/${n()}">${label} ${headline()}</a></p>`,
      () => `<div class="inline-link"><span>${label}</span> ${link}</div>`,
    ],
    random,
  )();

  const items = Array.from({ length: 3 + Math.floor(random() * 4) }, (_, k) => {
    const a = `<a href="/s/${n()}">${headline()}</a>`;
    return pickOne(
      [
        () => `<li>${a}</li>`,
        () => `<li><span class="rank">${k + 1}</span> ${a}</li>`,
        () => `<li>${a} <span class="age">${n()}h</span></li>`,
      ],
      random,
    )();
  });
  const boxLabel = pickOne(BOX_LABELS, random);
  const heading = pickOne(
    [
      `<h2>${boxLabel}</h2>`,
      `<h3>${boxLabel}</h3>`,
      `<div class="title">${boxLabel}</div>`,
      `<p><strong>${boxLabel}</strong></p>`,
    ],
    random,
  );
  const list = pickOne(
    [
      () => `<ol>${items.join("")}</ol>`,
      () => `<ul>${items.join("")}</ul>`,
      () =>
        items
          .map((item) => item.replace(/^<li>/, '<div class="item">').replace(/<\/li>$/, "</div>"))
          .join(""),
      () => items.map((item) => item.replace(/^<li>/, "<h3>").replace(/<\/li>$/, "</h3>")).join(""),
    ],
    random,
  )();
  const container = pickOne(BOX_CONTAINERS, random);
  const box =
    `<div class="ad-slot" id="ad-${count()}" data-slot="${n()}"><span>${pickOne(AD_LABELS, random)}</span></div>` +
    `<${container}${classAttribute(pickOne(BOX_CLASSES, random))}>${heading}${list}</${container}>`;

  const footer = pickOne(
    [
      () =>
        `<div class="share-bar"><a href="https://www.facebook.com/sharer?u=${n()}">Share on Facebook</a> ` +
        `<a href="https://x.com/intent/tweet?u=${n()}">Share on X</a> <span class="share-count">${count()} shares</span></div>`,
      () =>
        `<div class="tools"><span>Share</span> <a href="#">Facebook</a> <a href="#">X</a> <a href="#">Email</a> <span>${count()}</span></div>`,
      () =>
        `<ul class="social"><li><a href="#">Share</a></li><li><a href="#">Tweet</a></li><li>${count()} shares</li></ul>`,
    ],
    random,
  )();
  const comments = `<p class="comments-link"><a href="#comments">${pickOne([`${n()} comments`, `View comments (${n()})`, `Comments (${n()})`], random)}</a></p>`;
  return {
    header: `${header}${dateline}`,
    inline,
    box,
    footer: `${footer}${comments}`,
    banner: withBanner
      ? `<div id="cookie-banner" class="${pickOne(["cookie-consent", "consent", "notice"], random)}" role="dialog"><p>${pickOne(COOKIE_TEXTS, random)} <a href="/privacy">Privacy policy</a> <button>Accept all</button> <button>Manage choices</button></p></div>`
      : "",
  };
}

/** Where a run of four plain words from a paragraph of the article appears in the raw HTML. */
function findInHtml(html: string, paragraph: string): number {
  const words = paragraph.match(/\b[A-Za-z]{3,}(?: [A-Za-z]{3,}){3}\b/);
  if (!words) return -1;
  return html.indexOf(words[0]);
}

const BLOCK_OPEN = /<(?:p|div|h[1-6]|li|blockquote|section|article|figure|table|ul|ol|dl|pre)\b/gi;
const BLOCK_CLOSE = /<\/(p|div|h[1-6]|blockquote|section|article|figure|ul|ol|dl|table|pre)\s*>/gi;

/** Where the block holding offset `at` starts: furniture goes between blocks, never inside a heading or paragraph. */
function blockStartBefore(html: string, at: number): number {
  let start = -1;
  BLOCK_OPEN.lastIndex = Math.max(0, at - 20_000);
  for (let m = BLOCK_OPEN.exec(html); m !== null && m.index < at; m = BLOCK_OPEN.exec(html)) start = m.index;
  if (start < 0) return -1;
  // Open list items and table cells are not blocks to insert before: step out to their list or table.
  const tag = /^<(\w+)/.exec(html.slice(start))?.[1]?.toLowerCase();
  if (tag === "li") {
    const list = Math.max(html.lastIndexOf("<ul", start), html.lastIndexOf("<ol", start));
    return list >= 0 ? list : start;
  }
  return start;
}

/** Just past the end of the block that holds offset `at` (a list or table as a whole). */
function blockEndAfter(html: string, at: number): number {
  BLOCK_CLOSE.lastIndex = at;
  const m = BLOCK_CLOSE.exec(html);
  return m === null ? -1 : m.index + m[0].length;
}

/**
 * The page with furniture injected at the start and end of the body and, when the article's
 * paragraphs can be found in the HTML, inside the content (before the first paragraph's block,
 * after it, and after a middle one). `inArticle` says whether the latter happened.
 */
export function injectNoise(
  html: string,
  text: string,
  noise: Furniture,
): { html: string; inArticle: boolean } {
  const paragraphs = text.split(/\n\s*\n/).filter((p) => p.length > 60);
  let first = -1;
  for (const para of paragraphs.slice(0, 5)) {
    first = findInHtml(html, para);
    if (first >= 0) break;
  }
  let middle = -1;
  for (const para of paragraphs.slice(Math.floor(paragraphs.length / 2))) {
    middle = findInHtml(html, para);
    if (middle > first) break;
  }
  let out = html;
  const bodyOpen = /<body[^>]*>/i.exec(out);
  const insertAt = (at: number, snippet: string) => {
    out = `${out.slice(0, at)}${snippet}${out.slice(at)}`;
  };
  // Inject from the end of the document backwards so earlier offsets stay valid.
  const bodyClose = out.search(/<\/body>/i);
  if (bodyClose >= 0) insertAt(bodyClose, noise.box);
  if (middle > first && first >= 0) {
    const after = blockEndAfter(out, middle);
    if (after > 0) insertAt(after, `${noise.inline}${noise.box}${noise.footer}`);
  }
  if (first >= 0) {
    const after = blockEndAfter(out, first);
    if (after > 0) insertAt(after, noise.inline);
    const before = blockStartBefore(out, first);
    if (before >= 0) insertAt(before, noise.header);
  }
  if (bodyOpen) insertAt(bodyOpen.index + bodyOpen[0].length, `${noise.banner}${noise.header}`);
  return { html: out, inArticle: first >= 0 };
}

/**
 * Two captures of one page: the page with one set of furniture and with another (the second also
 * shows a cookie banner), both extracted.
 */
export function capturePair(
  extract: Extract,
  html: string,
  source: CorpusArticle,
  titles: readonly string[],
): { first: Article | null; second: Article | null; inArticle: boolean } {
  const random = pageRandom(source.id);
  const options = { url: source.url };
  const one = injectNoise(html, source.text, furniture(random, titles, false));
  const two = injectNoise(html, source.text, furniture(random, titles, true));
  return { first: extract(one.html, options), second: extract(two.html, options), inArticle: one.inArticle };
}

/** A page's own noise stream, so a flagged page can be replayed alone (`--page <id>`). */
export function pageRandom(id: string): Random {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return seededRandom(hash >>> 0);
}

// ---------------------------------------------------------------------------------------------
// Substantive edits

interface Expectation {
  significance: "minor" | "major";
  required: EditKind[];
  forbidden: EditKind[];
  /** kinds must equal `required` exactly */
  exact?: boolean;
}

interface Pair {
  before: ArticleForDiff;
  after: ArticleForDiff;
}

type Generator = (source: CorpusArticle, random: Random, donors: Donors) => Pair | null;

interface Donors {
  sentences: string[];
  words: string[];
  titles: string[];
  authors: string[];
}

const STRUCTURAL: EditKind[] = ["added", "removed", "changed", "moved", "headline", "byline"];
const except = (...kinds: EditKind[]) => STRUCTURAL.filter((kind) => !kinds.includes(kind));

const PARAGRAPH_BREAK = /\n\s*\n/;
const SENTENCE_BREAK = /(?<=[.!?])\s+(?=[A-Z])/;
/** A sentence that plainly ends a sentence (no "Mr." or "U.S." before the break). */
const CLEAN_END = /\p{Ll}{3,}[.!?]$/u;
const CLEAN_START = /^\p{Lu}/u;
/** Short words whose one-letter changes are not typo fixes; the typo generator avoids them. */
const AVOID_FOR_TYPOS = new Set([
  "before",
  "after",
  "without",
  "always",
  "guilty",
  "should",
  "would",
  "could",
]);

function articleOf(source: CorpusArticle, text: string, title = source.title): ArticleForDiff {
  return { title, byline: source.author, text, modifiedTime: null };
}

function wordCount(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/** Clean sentences of the text, located as [paragraph, index within paragraph]. */
function cleanSentences(paragraphs: readonly string[], minWords: number): Array<[number, number, string[]]> {
  const out: Array<[number, number, string[]]> = [];
  paragraphs.forEach((para, p) => {
    const pieces = para.trim().split(SENTENCE_BREAK);
    pieces.forEach((piece, s) => {
      const prev = pieces[s - 1];
      if (wordCount(piece) < minWords || !CLEAN_START.test(piece) || !CLEAN_END.test(piece)) return;
      if (prev !== undefined && !CLEAN_END.test(prev)) return;
      out.push([p, s, pieces]);
    });
  });
  return out;
}

function donorWord(random: Random, donors: Donors, not: string): string {
  for (let tries = 0; tries < 50; tries++) {
    const word = pickOne(donors.words, random);
    if (word !== not.toLowerCase() && !isOneEditApart(word, not.toLowerCase())) return word;
  }
  return "substituted";
}

export const generators: Record<string, [Expectation, Generator]> = {
  "sentence added": [
    { significance: "major", required: ["added"], forbidden: except("added") },
    (source, random, donors) => {
      const paragraphs = source.text.split(PARAGRAPH_BREAK);
      const candidates = paragraphs
        .map((_, p) => p)
        .filter((p) => CLEAN_END.test((paragraphs[p] as string).trim()));
      if (candidates.length === 0) return null;
      const p = pickOne(candidates, random);
      const edited = [...paragraphs];
      edited[p] = `${(paragraphs[p] as string).trim()} ${pickOne(donors.sentences, random)}`;
      return { before: articleOf(source, source.text), after: articleOf(source, edited.join("\n\n")) };
    },
  ],
  "sentence removed": [
    { significance: "major", required: ["removed"], forbidden: except("removed") },
    (source, random) => {
      const paragraphs = source.text.split(PARAGRAPH_BREAK);
      const candidates = cleanSentences(paragraphs, 6).filter(([, s, pieces]) => {
        const next = pieces[s + 1];
        return pieces.length > 1 && (next === undefined || CLEAN_START.test(next));
      });
      if (candidates.length === 0) return null;
      const [p, s, pieces] = pickOne(candidates, random);
      const edited = [...paragraphs];
      edited[p] = pieces.filter((_, k) => k !== s).join(" ");
      return { before: articleOf(source, source.text), after: articleOf(source, edited.join("\n\n")) };
    },
  ],
  "sentence changed": [
    { significance: "major", required: ["changed"], forbidden: except("changed") },
    (source, random, donors) => {
      const paragraphs = source.text.split(PARAGRAPH_BREAK);
      const candidates = cleanSentences(paragraphs, 10);
      if (candidates.length === 0) return null;
      const [p, s, pieces] = pickOne(candidates, random);
      const words = (pieces[s] as string).split(" ");
      const positions = words.map((_, k) => k).filter((k) => k > 0 && /^[a-z]{5,}$/.test(words[k] as string));
      if (positions.length < 2) return null;
      const first = pickOne(positions, random);
      const second = pickOne(
        positions.filter((k) => Math.abs(k - first) > 1),
        random,
      );
      for (const k of [first, second])
        if (k !== undefined) words[k] = donorWord(random, donors, words[k] as string);
      const edited = [...paragraphs];
      const newPieces = [...pieces];
      newPieces[s] = words.join(" ");
      edited[p] = newPieces.join(" ");
      return { before: articleOf(source, source.text), after: articleOf(source, edited.join("\n\n")) };
    },
  ],
  "number changed": [
    { significance: "major", required: ["changed", "number"], forbidden: except("changed") },
    (source, random) => {
      const paragraphs = source.text.split(PARAGRAPH_BREAK);
      const candidates = paragraphs.map((_, p) => p).filter((p) => /\b\d+\b/.test(paragraphs[p] as string));
      if (candidates.length === 0) return null;
      const p = pickOne(candidates, random);
      const para = paragraphs[p] as string;
      const numbers = [...para.matchAll(/\b\d+\b/g)];
      const target = pickOne(numbers, random);
      const value = Number(target[0]);
      const replacement = String(value + 1 + Math.floor(random() * 9));
      const at = target.index;
      const edited = [...paragraphs];
      edited[p] = `${para.slice(0, at)}${replacement}${para.slice(at + target[0].length)}`;
      return { before: articleOf(source, source.text), after: articleOf(source, edited.join("\n\n")) };
    },
  ],
  "quote changed": [
    { significance: "major", required: ["changed", "quote"], forbidden: except("changed") },
    (source, random, donors) => {
      const paragraphs = source.text.split(PARAGRAPH_BREAK);
      const spans: Array<[number, number, string]> = [];
      paragraphs.forEach((para, p) => {
        for (const [start, inner] of quotations(para)) if (inner.length >= 20) spans.push([p, start, inner]);
      });
      const usable = spans.filter(([, , inner]) => /\b[a-z]{4,}\b/.test(inner));
      if (usable.length === 0) return null;
      const [p, start, inner] = pickOne(usable, random);
      const words = [...inner.matchAll(/\b[a-z]{4,}\b/g)];
      const word = pickOne(words, random);
      const newInner = `${inner.slice(0, word.index)}${donorWord(random, donors, word[0])}${inner.slice(word.index + word[0].length)}`;
      const para = paragraphs[p] as string;
      const edited = [...paragraphs];
      edited[p] = `${para.slice(0, start)}${newInner}${para.slice(start + inner.length)}`;
      return { before: articleOf(source, source.text), after: articleOf(source, edited.join("\n\n")) };
    },
  ],
  "headline changed": [
    { significance: "major", required: ["headline"], forbidden: except("headline") },
    (source, random, donors) => {
      const words = source.title.split(" ");
      const positions = words.map((_, k) => k).filter((k) => /^\p{L}{4,}$/u.test(words[k] as string));
      if (positions.length === 0) return null;
      const k = pickOne(positions, random);
      const old = words[k] as string;
      const replacement = donorWord(random, donors, old);
      words[k] = /^\p{Lu}/u.test(old)
        ? `${replacement[0]?.toUpperCase()}${replacement.slice(1)}`
        : replacement;
      return {
        before: articleOf(source, source.text),
        after: articleOf(source, source.text, words.join(" ")),
      };
    },
  ],
  "typo fixed": [
    { significance: "minor", required: ["changed"], forbidden: except("changed"), exact: true },
    (source, random) => {
      const paragraphs = source.text.split(PARAGRAPH_BREAK);
      const candidates = cleanSentences(paragraphs, 6);
      if (candidates.length === 0) return null;
      const [p, s, pieces] = pickOne(candidates, random);
      const words = (pieces[s] as string).split(" ");
      const positions = words
        .map((_, k) => k)
        .filter(
          (k) => k > 0 && /^[a-z]{6,}$/.test(words[k] as string) && !AVOID_FOR_TYPOS.has(words[k] as string),
        );
      if (positions.length === 0) return null;
      const k = pickOne(positions, random);
      const word = words[k] as string;
      words[k] = misspell(word, random);
      const edited = [...paragraphs];
      const newPieces = [...pieces];
      newPieces[s] = words.join(" ");
      edited[p] = newPieces.join(" ");
      // The page had the typo; the new capture has it fixed.
      return { before: articleOf(source, edited.join("\n\n")), after: articleOf(source, source.text) };
    },
  ],
  "correction notice": [
    { significance: "major", required: ["added", "correction"], forbidden: except("added") },
    (source, random) => {
      const notice = pickOne(
        [
          "Correction: An earlier version of this article misstated the date of the meeting.",
          "This article was amended on 3 March 2025 to correct the spelling of a name.",
          "Clarification: This story has been updated to reflect the company's response.",
          "An earlier version of this story incorrectly described the role of the council.",
          "Editor's note: This article has been updated with additional reporting.",
        ],
        random,
      );
      return {
        before: articleOf(source, source.text),
        after: articleOf(source, `${source.text}\n\n${notice}`),
      };
    },
  ],
  "paragraph moved": [
    { significance: "major", required: ["moved"], forbidden: except("moved") },
    (source, random) => {
      const paragraphs = source.text.split(PARAGRAPH_BREAK);
      if (paragraphs.length < 4) return null;
      const candidates = paragraphs
        .map((_, p) => p)
        .filter((p) => CLEAN_END.test((paragraphs[p] as string).trim()));
      if (candidates.length === 0) return null;
      const from = pickOne(candidates, random);
      const edited = [...paragraphs];
      const [moved] = edited.splice(from, 1);
      let to = Math.floor(random() * edited.length);
      if (Math.abs(to - from) < 2) to = (from + Math.floor(edited.length / 2)) % edited.length;
      edited.splice(to, 0, moved as string);
      return { before: articleOf(source, source.text), after: articleOf(source, edited.join("\n\n")) };
    },
  ],
  "byline changed": [
    { significance: "major", required: ["byline"], forbidden: except("byline") },
    (source, random, donors) => {
      if (!source.author) return null;
      const other = donors.authors.filter((author) => author.toLowerCase() !== source.author?.toLowerCase());
      if (other.length === 0) return null;
      return {
        before: articleOf(source, source.text),
        after: { ...articleOf(source, source.text), byline: pickOne(other, random) },
      };
    },
  ],
};

/**
 * Quotations in a paragraph as [start of inner text, inner text]: “…” pairs, and straight
 * double quotes paired in order. Paragraphs with unbalanced straight quotes yield none.
 */
function quotations(para: string): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (const match of para.matchAll(/\u201c([^\u201c\u201d]*)\u201d/g))
    out.push([match.index + 1, match[1] as string]);
  const straight = [...para.matchAll(/"/g)].map((match) => match.index);
  if (straight.length % 2 === 0) {
    for (let k = 0; k + 1 < straight.length; k += 2) {
      const open = straight[k] as number;
      out.push([open + 1, para.slice(open + 1, straight[k + 1])]);
    }
  }
  return out;
}

function misspell(word: string, random: Random): string {
  const i = 1 + Math.floor(random() * (word.length - 3));
  const variant = Math.floor(random() * 3);
  if (variant === 0 && word[i] !== word[i + 1])
    return `${word.slice(0, i)}${word[i + 1]}${word[i]}${word.slice(i + 2)}`;
  if (variant === 1) return `${word.slice(0, i)}${word.slice(i + 1)}`;
  return `${word.slice(0, i)}${word[i]}${word.slice(i)}`;
}

function meets(expectation: Expectation, kinds: readonly EditKind[], significance: string | undefined) {
  const flagged = significance !== undefined;
  const rightSignificance = significance === expectation.significance;
  const hasRequired = expectation.required.every((kind) => kinds.includes(kind));
  const noForbidden = !expectation.forbidden.some((kind) => kinds.includes(kind));
  const exact = !expectation.exact || kinds.length === expectation.required.length;
  return { flagged, rightSignificance, rightKinds: hasRequired && noForbidden && exact };
}

export function buildDonors(articles: readonly CorpusArticle[]): Donors {
  const sentences: string[] = [];
  const words = new Set<string>();
  for (const article of articles) {
    const paragraphs = article.text.split(PARAGRAPH_BREAK);
    for (const [p, s, pieces] of cleanSentences(paragraphs, 8)) {
      const sentence = pieces[s] as string;
      if (p % 3 === 0 && wordCount(sentence) <= 40) sentences.push(sentence);
    }
    for (const word of article.text.match(/\b[a-z]{6,12}\b/g) ?? []) words.add(word);
  }
  return {
    sentences,
    words: [...words],
    titles: articles.map((a) => a.title).filter(Boolean),
    authors: [...new Set(articles.map((a) => a.author).filter((a): a is string => a !== null))],
  };
}

// ---------------------------------------------------------------------------------------------

function pct(n: number, total: number): string {
  return total === 0 ? "–" : `${((100 * n) / total).toFixed(1)} %`;
}

/** The edit-detection section of BENCHMARKS.md; null (with a message) when the corpus is absent. */
export async function runEditDetectionBench(
  options: { pageLimit?: number } = {},
): Promise<BenchReport | null> {
  const articles = loadCorpusArticles();
  if (articles.length === 0) {
    console.log(`edit-detection: corpus not found at ${corpusDir()} (set CORPUS_DIR); skipping.`);
    return null;
  }
  const random = seededRandom(7);
  const figures: Record<string, number> = {};
  const lines: string[] = [
    "## Edit detection",
    "",
    "Whether a change between two captures is flagged, and flagged right: pairs built from the corpus,",
    "run through the same path as the archive (extract, then `diffArticles`). Noise pairs must flag",
    "nothing; substantive pairs must be flagged with the right significance and kinds. Edits are made",
    "with an independent regex sentence picker, not the diff's own splitter. Targets (issue 3):",
    "0 noise pairs flagged out of at least 500; at least 99 % of substantive pairs right.",
    "",
  ];

  // Text noise
  let textFlagged = 0;
  const textExamples: string[] = [];
  for (const source of articles) {
    const before = articleOf(source, source.text);
    const after = {
      ...before,
      title: perturbText(source.title, random),
      text: perturbText(source.text, random),
    };
    const { edit, changes } = diffArticles(before, after);
    if (edit) {
      textFlagged++;
      if (textExamples.length < 3) textExamples.push(`${source.id}: ${summariseEdit(edit, changes)}`);
    }
  }

  // Page noise
  const extract = await loadExtractor();
  let pageTotal = 0;
  let pageFlagged = 0;
  let pageFlaggedUnfiltered = 0;
  let pageSkipped = 0;
  let pageInArticle = 0;
  const pageExamples: string[] = [];
  if (extract) {
    const titles = articles.map((a) => a.title).filter(Boolean);
    const limit = options.pageLimit ?? articles.length;
    for (const source of articles.slice(0, limit)) {
      const file = join(corpusDir(), "html", `${source.id}.html.gz`);
      if (!existsSync(file)) continue;
      const html = gunzipSync(readFileSync(file)).toString("utf8");
      const { first, second, inArticle } = capturePair(extract, html, source, titles);
      if (!first || !second) {
        pageSkipped++;
        continue;
      }
      pageTotal++;
      if (inArticle) pageInArticle++;
      const { edit, changes } = diffArticles(first, second);
      if (edit) {
        pageFlagged++;
        if (pageExamples.length < 10) pageExamples.push(`${source.id}: ${summariseEdit(edit, changes)}`);
      }
      if (diffArticles(first, second, { ignoreVolatileParagraphs: false }).edit) pageFlaggedUnfiltered++;
    }
  }
  const noiseTotal = articles.length + pageTotal;
  figures.edit_noise_text_pairs = articles.length;
  figures.edit_noise_text_flagged = textFlagged;
  figures.edit_noise_page_pairs = pageTotal;
  figures.edit_noise_page_flagged = pageFlagged;
  figures.edit_noise_pairs = noiseTotal;
  figures.edit_noise_flagged = textFlagged + pageFlagged;
  lines.push(
    `### Noise pairs: ${textFlagged + pageFlagged} of ${noiseTotal} flagged (target: 0 of ≥ 500)`,
    "",
    "| noise | pairs | flagged |",
    "| --- | ---: | ---: |",
    `| text: whitespace, quotes, dashes, ellipses, ligatures, soft hyphens, zero-width and no-break spaces | ${articles.length} | ${textFlagged} |`,
    extract
      ? `| page: timestamps, counters, rotated "Read more:" lines and "Most read" boxes, ad slots, cookie banner, share bar, in varied markup; extracted then diffed | ${pageTotal} | ${pageFlagged} |`
      : "| page: extractor (shared/domain/extract/index.ts) not found, skipped | 0 | – |",
    `| **total** | **${noiseTotal}** | **${textFlagged + pageFlagged}** |`,
    "",
  );
  if (extract) {
    lines.push(
      `Each page pair is the corpus page captured twice with different furniture (each page has its own seeded noise, replayable with \`node bench/edit-detection.ts --page <id>\`): at the body's start and end on every page, and also inside the article, around its first and a middle paragraph, on ${pageInArticle} of ${pageTotal}. Labels, markup and class names vary, from conventional ("most-read") to neutral ("module", none). Pairs where the extractor returned no article: ${pageSkipped} (not counted). With the diff's own volatile-paragraph filter off, ${pageFlaggedUnfiltered} of ${pageTotal} page pairs would be flagged: what the extractor alone lets through.`,
      "",
    );
  }
  for (const example of [...textExamples, ...pageExamples]) lines.push(`- flagged: ${example}`);
  if (textExamples.length + pageExamples.length > 0) lines.push("");

  // Substantive pairs
  const donors = buildDonors(articles);
  lines.push(
    "### Substantive pairs (target: ≥ 99 % right in every category)",
    "",
    "| edit | pairs | flagged | right significance | right kinds | all right |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
  );
  let worstAccuracy = 1;
  let substantiveTotal = 0;
  let substantiveRight = 0;
  const failures: string[] = [];
  for (const [name, [expectation, generate]] of Object.entries(generators)) {
    let total = 0;
    let flagged = 0;
    let rightSignificance = 0;
    let rightKinds = 0;
    let right = 0;
    for (const source of articles) {
      const pair = generate(source, random, donors);
      if (!pair) continue;
      const { edit, changes } = diffArticles(pair.before, pair.after);
      const result = meets(expectation, edit?.kinds ?? [], edit?.significance);
      total++;
      if (result.flagged) flagged++;
      if (result.rightSignificance) rightSignificance++;
      if (result.rightKinds) rightKinds++;
      if (result.rightSignificance && result.rightKinds) right++;
      else if (failures.length < 12) {
        failures.push(
          `${name}, ${source.id}: ${edit ? `${edit.significance} [${edit.kinds.join(", ")}]` : "not flagged"} — ${summariseEdit(edit, changes)}`,
        );
      }
    }
    const accuracy = total === 0 ? 0 : right / total;
    worstAccuracy = Math.min(worstAccuracy, accuracy);
    substantiveTotal += total;
    substantiveRight += right;
    const slug = name.replace(/\W+/g, "_");
    figures[`edit_substantive_${slug}_pairs`] = total;
    figures[`edit_substantive_${slug}_accuracy`] = Math.round(accuracy * 10_000) / 10_000;
    lines.push(
      `| ${name} (expect ${expectation.significance}; ${expectation.required.join(" + ")}${expectation.exact ? " only" : ""}) | ${total} | ${pct(flagged, total)} | ${pct(rightSignificance, total)} | ${pct(rightKinds, total)} | ${pct(right, total)} |`,
    );
  }
  figures.edit_substantive_pairs = substantiveTotal;
  figures.edit_substantive_accuracy =
    Math.round((substantiveRight / Math.max(1, substantiveTotal)) * 10_000) / 10_000;
  figures.edit_substantive_accuracy_min = Math.round(worstAccuracy * 10_000) / 10_000;
  lines.push(
    "",
    `"Right kinds": the expected kinds present and no other structural kind (added, removed, changed, moved, headline, byline); number and quote may accompany an edit whose text holds them. ${substantiveRight} of ${substantiveTotal} right overall; worst category ${pct(Math.round(worstAccuracy * 10_000), 10_000)}.`,
    "",
  );
  for (const failure of failures) lines.push(`- miss: ${failure}`);
  return { markdown: lines.join("\n").trimEnd(), figures };
}

/** `--page <id>`: one page's noise pair, both extracted texts and the diff between them. */
async function showPage(id: string): Promise<void> {
  const source = loadCorpusArticles().find((a) => a.id === id);
  const extract = await loadExtractor();
  if (source === undefined || extract === null) throw new Error(`no corpus page ${id} or no extractor`);
  const html = gunzipSync(readFileSync(join(corpusDir(), "html", `${id}.html.gz`))).toString("utf8");
  const titles = loadCorpusArticles()
    .map((a) => a.title)
    .filter(Boolean);
  const { first, second } = capturePair(extract, html, source, titles);
  for (const [name, article] of [
    ["first", first],
    ["second", second],
  ] as const)
    console.log(`--- ${name} capture: ${article?.title}\n${article?.text}\n`);
  if (first && second) {
    const { edit, changes } = diffArticles(first, second);
    console.log(summariseEdit(edit, changes));
    console.log(JSON.stringify(changes, null, 2));
  }
}

if (import.meta.main && process.argv[2] === "--page") {
  await showPage(process.argv[3] ?? "");
} else if (import.meta.main) {
  const report = await runEditDetectionBench();
  if (report !== null) {
    console.log(report.markdown);
    console.log(JSON.stringify(report.figures, null, 2));
  }
}
