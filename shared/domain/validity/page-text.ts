/**
 * What the classifier reads of a rendered page besides its extracted article: the visible text,
 * the title and headings, the markup's class and id names, and JSON-LD's `isAccessibleForFree`.
 *
 * Regular expressions rather than a DOM parser, on purpose: a wall page is small, but an article
 * page can be megabytes, and the classifier runs on every capture after extraction has already
 * parsed the page once. Nothing here needs a tree: only text, names and one JSON-LD property.
 */

/** Cap on the markup read (characters): walls say what they are near the top of their page. */
const MAX_SCAN_CHARS = 2_000_000;

/** Elements whose content a reader never sees as text. */
const INVISIBLE_OPEN = /<(script|style|noscript|template|svg|head)\b/gi;
const CLOSING: Record<string, RegExp> = Object.fromEntries(
  ["script", "style", "noscript", "template", "svg", "head"].map((name) => [
    name,
    new RegExp(`</${name}\\s*>`, "gi"),
  ]),
);
const COMMENT = /<!--[\s\S]*?-->/g;
const TAG = /<[^>]+>/g;
const TAG_OR_SPACE = /(?:<[^>]+>|\s)+/g;
const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  hellip: "…",
  rsquo: "'",
  lsquo: "'",
  ldquo: '"',
  rdquo: '"',
  ndash: "–",
  mdash: "—",
};

/** Decodes the few entities that matter to matching words; numeric ones in full. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === "#") {
      const code =
        name[1] === "x" || name[1] === "X" ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
      return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** The text a reader sees (roughly): scripts, styles and the head dropped, tags to spaces. */
export function visibleText(html: string): string {
  const body = dropInvisible(html.slice(0, MAX_SCAN_CHARS).replace(COMMENT, " "));
  // Tags and whitespace runs in one pass: two passes over a megabyte of markup cost several times more.
  return decodeEntities(body.replace(TAG_OR_SPACE, " ")).trim();
}

/**
 * Drops invisible elements with their content. A scan from each opening tag to its closing tag,
 * not one regular expression with a back-reference, which backtracks badly on megabyte pages.
 */
function dropInvisible(html: string): string {
  const parts: string[] = [];
  let from = 0;
  INVISIBLE_OPEN.lastIndex = 0;
  for (let open = INVISIBLE_OPEN.exec(html); open; open = INVISIBLE_OPEN.exec(html)) {
    const closing = CLOSING[(open[1] ?? "").toLowerCase()] as RegExp;
    closing.lastIndex = open.index + open[0].length;
    const close = closing.exec(html);
    parts.push(html.slice(from, open.index), " ");
    from = close ? close.index + close[0].length : html.length;
    if (!close) break;
    INVISIBLE_OPEN.lastIndex = from;
  }
  parts.push(html.slice(from));
  return parts.join("");
}

/**
 * The document's first `<title>`, whitespace collapsed, or null: the validity classifier's and the
 * capture's (the title of a page with no article). Entities are decoded unless `entities: "kept"`.
 * The capture keeps them: its fallback titles have always been stored as the markup has them
 * (Chromium writes `&` as `&amp;`), and a version's text hash covers its title, so decoding there
 * would make each such page's next capture a new version with a "title edit" nobody made.
 */
export function documentTitle(html: string, options: { entities?: "decoded" | "kept" } = {}): string | null {
  const match = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html.slice(0, MAX_SCAN_CHARS));
  const text = match?.[1] ?? "";
  const title = (options.entities === "kept" ? text : decodeEntities(text)).replace(/\s+/g, " ").trim();
  return title || null;
}

/** The text of the page's `<h1>` elements (the headline a wall or an error page shows). */
export function headings(html: string): string[] {
  const found: string[] = [];
  for (const match of html.slice(0, MAX_SCAN_CHARS).matchAll(/<h1\b[^>]*>([\s\S]*?)<\/h1\s*>/gi)) {
    const text = decodeEntities((match[1] ?? "").replace(TAG, " "))
      .replace(/\s+/g, " ")
      .trim();
    if (text) found.push(text);
    if (found.length >= 5) break;
  }
  return found;
}

/**
 * Every class name, id and `data-*` attribute name in the markup, lower-cased, plus the URLs of
 * scripts and frames: vendor and CMP markers are names like these.
 */
export function markupNames(html: string): string {
  const scan = html.slice(0, MAX_SCAN_CHARS);
  const names: string[] = [];
  for (const match of scan.matchAll(/\s(?:class|id)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)) {
    names.push(match[1] ?? match[2] ?? match[3] ?? "");
  }
  for (const match of scan.matchAll(/\s(?:src|action|data-sitekey|name)\s*=\s*(?:"([^"]*)"|'([^']*)')/gi)) {
    names.push(match[1] ?? match[2] ?? "");
  }
  return names.join(" ").toLowerCase();
}

/** The inline scripts' source (vendor challenge pages configure themselves there). */
export function inlineScripts(html: string): string {
  const parts: string[] = [];
  let total = 0;
  for (const match of html.slice(0, MAX_SCAN_CHARS).matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi)) {
    const attributes = match[1] ?? "";
    if (/application\/ld\+json/i.test(attributes)) continue;
    const body = match[2] ?? "";
    parts.push(body.slice(0, 20_000));
    total += body.length;
    if (total > 200_000) break;
  }
  return parts.join("\n");
}

/**
 * What the page's JSON-LD says of access: false when any node declares `isAccessibleForFree`
 * false (schema.org's paywall markup, which outlets publish so that search engines tell a
 * paywall from cloaking), true when one declares it true, null when none says.
 */
export function accessibleForFree(html: string): boolean | null {
  let verdict: boolean | null = null;
  for (const match of html
    .slice(0, MAX_SCAN_CHARS)
    .matchAll(/<script\b[^>]*application\/ld\+json[^>]*>([\s\S]*?)<\/script\s*>/gi)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse((match[1] ?? "").trim());
    } catch {
      continue; // outlets publish broken JSON-LD often enough; it is only one signal
    }
    const found = findAccess(parsed, 0);
    if (found === false) return false;
    if (found === true) verdict = true;
  }
  return verdict;
}

function findAccess(node: unknown, depth: number): boolean | null {
  if (depth > 8 || node === null || typeof node !== "object") return null;
  if (Array.isArray(node)) {
    let verdict: boolean | null = null;
    for (const item of node) {
      const found = findAccess(item, depth + 1);
      if (found === false) return false;
      if (found === true) verdict = true;
    }
    return verdict;
  }
  const record = node as Record<string, unknown>;
  const own = asBoolean(record.isAccessibleForFree);
  if (own === false) return false;
  let verdict = own;
  for (const key of ["@graph", "mainEntity", "mainEntityOfPage", "hasPart"]) {
    const found = findAccess(record[key], depth + 1);
    if (found === false) return false;
    if (found === true) verdict = true;
  }
  return verdict;
}

function asBoolean(value: unknown): boolean | null {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") {
    const lower = value.trim().toLowerCase();
    if (lower === "false" || lower === "no") return false;
    if (lower === "true" || lower === "yes") return true;
  }
  return null;
}

/** Lower-case words (letters and digits of any script), for counting and overlap. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Lower case, plain apostrophes and single spaces: the form vocabulary is matched in. */
export function forMatching(text: string): string {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[\u2018\u2019\u00b4`]/g, "'")
    .replace(/\u2026/g, "...")
    .replace(/\s+/g, " ");
}

/**
 * Whether the page still presents itself as an article: an `<article>` element, or JSON-LD of an
 * Article type whose headline is the page's `title` (an interstitial keeps neither, as a rule).
 */
export function presentsAsArticle(html: string, title: string | null): boolean {
  const head = html.slice(0, MAX_SCAN_CHARS);
  if (/<article\b/i.test(head)) return true;
  const wanted = forMatching(title ?? "").trim();
  if (wanted === "") return false;
  for (const match of head.matchAll(/<script\b[^>]*application\/ld\+json[^>]*>([\s\S]*?)<\/script\s*>/gi)) {
    const json = match[1] ?? "";
    if (!/"@type"\s*:\s*\[?\s*"(?:News|Reportage|Analysis|Opinion)?Article"/.test(json)) continue;
    for (const headline of json.matchAll(/"headline"\s*:\s*"((?:[^"\\]|\\.)*)"/g)) {
      const said = forMatching(headline[1] ?? "").trim();
      if (said !== "" && (wanted.includes(said) || said.includes(wanted))) return true;
    }
  }
  return false;
}
