import { normaliseDate } from "./dates.ts";
import { BLOCK_TAGS, collapseWhitespace, ELEMENT_NODE, TEXT_NODE, textOf } from "./dom.ts";
import type { JsonLdArticle } from "./json-ld.ts";

/** The article's metadata as the page declares it. */
export interface ArticleMetadata {
  title: string | null;
  byline: string | null;
  publishedTime: string | null;
  modifiedTime: string | null;
  lang: string | null;
}

type MetaTags = Map<string, string>;

/** `<meta>` values keyed by lower-case property / name / itemprop / http-equiv (first wins). */
function readMetaTags(document: Document): MetaTags {
  const out: MetaTags = new Map();
  for (const meta of document.querySelectorAll("meta")) {
    const content = meta.getAttribute("content");
    if (content === null || content.trim() === "") continue;
    for (const attr of ["property", "name", "itemprop", "http-equiv"]) {
      const key = meta.getAttribute(attr);
      if (key !== null && key !== "") {
        const k = key.trim().toLowerCase();
        if (!out.has(k)) out.set(k, content.trim());
      }
    }
  }
  return out;
}

function firstMeta(meta: MetaTags, keys: readonly string[]): string | null {
  for (const key of keys) {
    const value = meta.get(key);
    if (value !== undefined) return value;
  }
  return null;
}

const PUBLISHED_KEYS = [
  "article:published_time",
  "og:published_time",
  "og:article:published_time",
  "datepublished",
  "publishdate",
  "publish-date",
  "publish_date",
  "pubdate",
  "parsely-pub-date",
  "sailthru.date",
  "dc.date.issued",
  "dcterms.issued",
  "dc.date.created",
  "dcterms.created",
  "dc.date",
  "dcterms.date",
  "date",
  "citation_publication_date",
  "citation_date",
  "article.published",
  "published_time",
];

const MODIFIED_KEYS = [
  "article:modified_time",
  "og:article:modified_time",
  "datemodified",
  "og:updated_time",
  "dc.date.modified",
  "dcterms.modified",
  "last-modified",
  "lastmod",
  "article.updated",
  "modified_time",
  "updated_time",
];

/** Reads title, byline, dates and language from meta tags, JSON-LD and the DOM (read-only). */
export function readMetadata(document: Document, jsonLd: JsonLdArticle | null): ArticleMetadata {
  const meta = readMetaTags(document);
  return {
    title: readTitle(document, meta, jsonLd),
    byline: readByline(document, meta, jsonLd),
    publishedTime: normaliseDate(
      firstMeta(meta, PUBLISHED_KEYS.slice(0, 2)) ??
        jsonLd?.datePublished ??
        firstMeta(meta, PUBLISHED_KEYS.slice(2)) ??
        timeAttribute(document, '[itemprop="datePublished"]') ??
        timeAttribute(document, "time[pubdate]") ??
        firstArticleTime(document),
    ),
    modifiedTime: normaliseDate(
      firstMeta(meta, MODIFIED_KEYS.slice(0, 2)) ??
        jsonLd?.dateModified ??
        firstMeta(meta, MODIFIED_KEYS.slice(2)) ??
        timeAttribute(document, '[itemprop="dateModified"]') ??
        timeAttribute(
          document,
          "time.updated, time.modified, time[class*='updated'], time[class*='modified']",
        ),
    ),
    lang: normaliseLang(
      document.documentElement?.getAttribute("lang") ??
        document.documentElement?.getAttribute("xml:lang") ??
        firstMeta(meta, ["content-language", "og:locale", "dc.language", "language"]) ??
        jsonLd?.inLanguage ??
        null,
    ),
  };
}

function timeAttribute(document: Document, selector: string): string | null {
  const el = document.querySelector(selector);
  if (el === null) return null;
  const value = el.getAttribute("datetime") ?? el.getAttribute("content") ?? textOf(el);
  return value === "" ? null : value;
}

/** The first `<time datetime>` of the article (never one from a sidebar of other stories). */
function firstArticleTime(document: Document): string | null {
  const scope = document.querySelector("article") ?? document.querySelector("main");
  const time = scope?.querySelector("time[datetime]") ?? null;
  return time?.getAttribute("datetime") ?? null;
}

const TITLE_SEPARATORS = /\s+[|\-–—·•:»]\s+/;

function readTitle(document: Document, meta: MetaTags, jsonLd: JsonLdArticle | null): string | null {
  const declared = [
    jsonLd?.headline ?? null,
    firstMeta(meta, ["og:title"]),
    firstMeta(meta, ["twitter:title"]),
    firstMeta(meta, ["title", "dc.title", "headline", "sailthru.title", "parsely-title"]),
  ]
    .filter((t): t is string => t !== null)
    .map(cleanText)
    .filter((t) => t !== "");
  const docTitle = cleanText(document.querySelector("title")?.textContent ?? "");
  const headlines = [...document.querySelectorAll("h1")]
    .filter((h1) => h1.closest("header nav, nav, footer, aside") === null)
    .map(headlineText)
    .filter((text) => text.length >= 3 && text.length <= 300);
  // The visible headline wins when it agrees with what the page declares, or when it is the
  // page's only one (readers see it; social titles are often rewritten for sharing).
  const agreed = headlines.find((text) => [...declared, docTitle].some((t) => similarTitles(t, text)));
  if (agreed !== undefined) return agreed;
  if (headlines.length === 1 && headlines[0] !== undefined && headlines[0].split(/\s+/).length >= 2) {
    return headlines[0];
  }
  if (declared[0] !== undefined) return stripSiteName(declared[0]);
  if (docTitle !== "") return stripSiteName(docTitle);
  const h1 = document.querySelector("h1");
  return h1 === null ? null : textOf(h1) || null;
}

/**
 * A heading's own text: its inline content, without block elements nested inside it. Broken
 * markup (an `<h1>` closed by `</h2>`, which a browser repairs but linkedom does not) or a
 * widget placed inside the heading would otherwise pull datelines, counters and teaser links
 * into the title. Falls back to the whole text when the heading wraps its words in a block.
 */
function headlineText(heading: Element): string {
  const parts: string[] = [];
  const visit = (el: Element): void => {
    for (let node = el.firstChild; node !== null; node = node.nextSibling) {
      if (node.nodeType === TEXT_NODE) parts.push((node as Text).data);
      else if (node.nodeType === ELEMENT_NODE) {
        const child = node as Element;
        const tag = child.localName;
        if (tag === "br") parts.push(" ");
        else if (!BLOCK_TAGS.has(tag) && !HEADLINE_SKIP_TAGS.has(tag)) visit(child);
      }
    }
  };
  visit(heading);
  const own = collapseWhitespace(parts.join(""));
  return own.length >= 3 ? own : textOf(heading);
}

/** Inline elements that never belong to a headline's words. */
const HEADLINE_SKIP_TAGS: ReadonlySet<string> = new Set(["time", "script", "style", "noscript", "button"]);

/** "Headline | Site name" → "Headline", when what remains is still a headline. */
function stripSiteName(title: string): string {
  const parts = title.split(TITLE_SEPARATORS);
  if (parts.length < 2) return title;
  const first = parts[0] ?? "";
  const last = parts[parts.length - 1] ?? "";
  // Keep the longest side: site names are short.
  const candidate = first.length >= last.length ? first : last;
  return candidate.split(/\s+/).length >= 3 ? candidate : title;
}

/** Two titles are the same headline when one contains the other or most words agree. */
export function similarTitles(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x === y || (y.length >= 15 && x.includes(y)) || (x.length >= 15 && y.includes(x))) return true;
  const wx = new Set(x.match(/[\p{L}\p{N}]+/gu) ?? []);
  const wy = y.match(/[\p{L}\p{N}]+/gu) ?? [];
  if (wx.size === 0 || wy.length === 0) return false;
  const shared = wy.filter((w) => wx.has(w)).length;
  return shared / Math.max(wx.size, wy.length) >= 0.75;
}

const BYLINE_KEYS = [
  "author",
  "article:author",
  "dc.creator",
  "dcterms.creator",
  "parsely-author",
  "sailthru.author",
  "byl",
  "citation_author",
];

function readByline(document: Document, meta: MetaTags, jsonLd: JsonLdArticle | null): string | null {
  if (jsonLd !== null && jsonLd.authors.length > 0) return cleanByline(jsonLd.authors.join(", "));
  for (const key of BYLINE_KEYS) {
    const declared = meta.get(key);
    // article:author is often a profile URL, which names no one.
    if (declared !== undefined && !/^https?:\/\//i.test(declared)) return cleanByline(declared);
  }
  for (const selector of BYLINE_SELECTORS) {
    const el = document.querySelector(selector);
    if (el === null) continue;
    const byline = cleanByline(textOf(el));
    // A visible byline is a name or two, not a sentence.
    if (byline !== null && byline.length <= 100) return byline;
  }
  return null;
}

const BYLINE_SELECTORS = [
  '[itemprop="author"] [itemprop="name"]',
  '[itemprop="author"]',
  '[rel="author"]',
  '[class*="byline"] a[href]',
  ".byline, .byline-name, .author-name, .author",
  '[class*="author-name"], [class*="author__name"], [class*="authorName"], [class*="author_name"]',
];

function cleanByline(value: string): string | null {
  const text = cleanText(value)
    .replace(/^(?:by|from|written by|posted by|author:?)\s+/i, "")
    .trim();
  if (text === "" || text.length > 200) return null;
  return text;
}

function cleanText(value: string): string {
  return collapseWhitespace(decodeEntities(value));
}

/** JSON-LD and meta values sometimes carry HTML entities a second time. */
function decodeEntities(value: string): string {
  if (!value.includes("&")) return value;
  return value.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos|nbsp|#039);/gi, (_, entity: string) => {
    const e = entity.toLowerCase();
    if (e.startsWith("#")) {
      const code = e.startsWith("#x") ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : _;
    }
    return { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " }[e] ?? _;
  });
}

/** BCP 47-ish: "en_us" → "en-US"; the first of a list; null when it doesn't look like a tag. */
export function normaliseLang(raw: string | null): string | null {
  if (raw === null) return null;
  const first = (raw.split(/[,;\s]/)[0] ?? "").trim().replace(/_/g, "-");
  if (!/^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$/i.test(first)) return null;
  const [language = "", ...rest] = first.split("-");
  const subtags = rest.map((s) =>
    s.length === 2
      ? s.toUpperCase()
      : s.length === 4
        ? s[0]?.toUpperCase() + s.slice(1).toLowerCase()
        : s.toLowerCase(),
  );
  return [language.toLowerCase(), ...subtags].join("-");
}
