/**
 * Reading schema.org JSON-LD: every `<script type="application/ld+json">` block, top-level
 * arrays and `@graph`s flattened, the article node chosen, `@id` references resolved.
 */

type JsonObject = Record<string, unknown>;

/** What the page's JSON-LD says about its article. */
export interface JsonLdArticle {
  headline: string | null;
  authors: string[];
  datePublished: string | null;
  dateModified: string | null;
  articleBody: string | null;
  inLanguage: string | null;
  /** Whether the node is of an article type (NewsArticle, BlogPosting…), not a mere web page. */
  isArticle: boolean;
}

const ARTICLE_TYPES: ReadonlySet<string> = new Set([
  "article",
  "newsarticle",
  "blogposting",
  "reportagenewsarticle",
  "analysisnewsarticle",
  "opinionnewsarticle",
  "reviewnewsarticle",
  "backgroundnewsarticle",
  "askpublicnewsarticle",
  "liveblogposting",
  "techarticle",
  "scholarlyarticle",
  "socialmediaposting",
  "report",
  "satiricalarticle",
  "advertisercontentarticle",
  "medicalscholarlyarticle",
  "posting",
]);

const PAGE_TYPES: ReadonlySet<string> = new Set(["webpage", "itempage", "aboutpage", "medicalwebpage"]);

/** Parses the page's JSON-LD blocks; malformed blocks are skipped. */
export function readJsonLd(document: Document, url?: string): JsonLdArticle | null {
  const nodes: JsonObject[] = [];
  for (const script of document.querySelectorAll("script")) {
    const type = (script.getAttribute("type") ?? "").toLowerCase();
    if (!type.includes("ld+json")) continue;
    const parsed = parseLoosely(script.textContent ?? "");
    if (parsed !== undefined) collectNodes(parsed, nodes, 0);
  }
  if (nodes.length === 0) return null;

  const byId = new Map<string, JsonObject>();
  for (const node of nodes) {
    const id = node["@id"];
    if (typeof id === "string" && !byId.has(id)) byId.set(id, node);
  }
  const articles = nodes.filter((n) => hasType(n, ARTICLE_TYPES));
  const article =
    (url === undefined
      ? undefined
      : articles.find((n) => sameUrl(n.url, url) || sameUrl(n.mainEntityOfPage, url))) ??
    articles.find((n) => typeof n.articleBody === "string" && n.articleBody.trim() !== "") ??
    articles.find((n) => typeof n.headline === "string") ??
    articles[0] ??
    nodes.find(
      (n) => hasType(n, PAGE_TYPES) && (n.datePublished !== undefined || n.dateModified !== undefined),
    );
  if (article === undefined) return null;

  return {
    headline:
      firstString(article.headline) ?? (hasType(article, ARTICLE_TYPES) ? firstString(article.name) : null),
    authors: readAuthors(article.author, byId),
    datePublished: firstString(article.datePublished) ?? firstString(article.dateCreated),
    dateModified: firstString(article.dateModified),
    articleBody: firstString(article.articleBody),
    inLanguage: readLanguage(article.inLanguage),
    isArticle: hasType(article, ARTICLE_TYPES),
  };
}

function parseLoosely(text: string): unknown {
  const cleaned = text
    .replace(/^\s*(?:<!--|<!\[CDATA\[)/, "")
    .replace(/(?:-->|\]\]>)\s*$/, "")
    // Raw control characters inside strings are a common CMS mistake JSON.parse rejects.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
    .replace(/[\u0000-\u001f]+/g, " ");
  try {
    return JSON.parse(cleaned);
  } catch {
    return undefined;
  }
}

function collectNodes(value: unknown, out: JsonObject[], depth: number): void {
  if (depth > 6 || value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    for (const item of value) collectNodes(item, out, depth + 1);
    return;
  }
  const node = value as JsonObject;
  out.push(node);
  if (node["@graph"] !== undefined) collectNodes(node["@graph"], out, depth + 1);
  for (const key of ["mainEntity", "mainEntityOfPage"]) {
    const child = node[key];
    if (child !== null && typeof child === "object") collectNodes(child, out, depth + 1);
  }
}

function hasType(node: JsonObject, types: ReadonlySet<string>): boolean {
  const type = node["@type"];
  const list = Array.isArray(type) ? type : [type];
  return list.some((t) => typeof t === "string" && types.has(t.replace(/^.*[/#:]/, "").toLowerCase()));
}

function firstString(value: unknown): string | null {
  if (typeof value === "string") return value.trim() === "" ? null : value.trim();
  if (typeof value === "number") return String(value);
  if (Array.isArray(value)) {
    for (const item of value) {
      const s = firstString(item);
      if (s !== null) return s;
    }
  }
  if (value !== null && typeof value === "object" && "@value" in value) return firstString(value["@value"]);
  return null;
}

function readAuthors(value: unknown, byId: Map<string, JsonObject>): string[] {
  const out: string[] = [];
  const visit = (v: unknown, depth: number): void => {
    if (depth > 3 || v === null || v === undefined) return;
    if (typeof v === "string") {
      if (v.trim() !== "" && !/^https?:\/\//i.test(v.trim())) out.push(v.trim());
      return;
    }
    if (Array.isArray(v)) {
      for (const item of v) visit(item, depth + 1);
      return;
    }
    if (typeof v !== "object") return;
    let node = v as JsonObject;
    const id = node["@id"];
    if (node.name === undefined && typeof id === "string") node = byId.get(id) ?? node;
    const name = firstString(node.name);
    if (name !== null) out.push(name);
  };
  visit(value, 0);
  return [...new Set(out)];
}

function readLanguage(value: unknown): string | null {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const node = value as JsonObject;
    return firstString(node.alternateName) ?? firstString(node.name);
  }
  return firstString(value);
}

function sameUrl(value: unknown, url: string): boolean {
  const candidate =
    typeof value === "string"
      ? value
      : value !== null && typeof value === "object" && "@id" in value
        ? firstString(value["@id"])
        : null;
  if (candidate === null) return false;
  const strip = (u: string): string =>
    u
      .replace(/^https?:\/\/(?:www\.)?/i, "")
      .replace(/[?#].*$/, "")
      .replace(/\/$/, "");
  return strip(candidate) === strip(url);
}
