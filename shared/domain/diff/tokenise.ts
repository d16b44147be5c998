/**
 * Tokens for comparing article text. Each token keeps its text as displayed and a comparison key
 * with the semantics of `normaliseForComparison` (NFKC, one apostrophe, one double quote, one dash,
 * "…" as "..."), so typography never makes two tokens differ. Whitespace is not a token: it only
 * sets `space` on the token that follows, and comparisons ignore it.
 *
 * Character classes are decided on the NFKC form of each character, so that every typographic
 * variant the normaliser folds together (’ and ', “ and ", — and -, NBSP and space) lands in the
 * same class and tokenises the same way.
 */

export interface Token {
  /** As it appears in the page (invisible characters removed, whitespace collapsed). */
  readonly text: string;
  /** Comparison form. */
  readonly key: string;
  /** Letters, digits and marks (with in-word apostrophes and digit separators); else one punctuation mark. */
  readonly word: boolean;
  /** Whitespace preceded this token in its paragraph. */
  readonly space: boolean;
  /** Inside a quotation (the quotation marks themselves are not). */
  quoted: boolean;
  /** The first word of its sentence (set by the sentence splitter). */
  initial: boolean;
}

/**
 * Invisible characters dropped before anything else: the normaliser's set (soft hyphen, zero-width
 * space/joiners, word joiner, BOM) plus bidirectional marks, which are just as invisible.
 */
const INVISIBLE = /[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]/g;

/** Paragraph separator, as in `normaliseForComparison`. */
const PARAGRAPH_BREAK = /\n\s*\n/;

const SKIP = 0;
const SPACE = 1;
const WORD = 2;
const PUNCT = 3;

const LETTERLIKE = /^[\p{L}\p{N}\p{M}]/u;
const WHITESPACE = /^\s$/u;
const DIGIT = /^\p{Nd}$/u;

/** Characters that join two word parts ("don't", "O’Brien"): every variant the normaliser maps to "'". */
const APOSTROPHES: ReadonlySet<number> = new Set([0x27, 0x2018, 0x2019, 0x201a, 0x201b, 0x2032, 0xb4, 0x60]);

const classCache = new Map<number, number>();

function classOf(cp: number): number {
  let cls = classCache.get(cp);
  if (cls !== undefined) return cls;
  const char = String.fromCodePoint(cp);
  if (WHITESPACE.test(char)) cls = SPACE;
  else {
    const folded = char.normalize("NFKC");
    if (folded === "") cls = SKIP;
    else if (LETTERLIKE.test(folded)) cls = WORD;
    else cls = PUNCT;
  }
  classCache.set(cp, cls);
  return cls;
}

const ASCII_CLASS = new Uint8Array(128);
for (let cp = 0; cp < 128; cp++)
  ASCII_CLASS[cp] = cp < 32 && !WHITESPACE.test(String.fromCharCode(cp)) ? SKIP : classOf(cp);

function charClass(cp: number): number {
  return cp < 128 ? (ASCII_CLASS[cp] ?? SKIP) : classOf(cp);
}

function isDigit(cp: number): boolean {
  if (cp < 128) return cp >= 48 && cp <= 57;
  return DIGIT.test(String.fromCodePoint(cp));
}

/** Printable ASCII other than the backtick: already in comparison form. */
const PLAIN_ASCII = /^[\x21-\x5f\x61-\x7e]*$/;

/** The normaliser's character folding, for one token (no whitespace inside). */
function foldToken(text: string): string {
  return text
    .normalize("NFKC")
    .replace(/[\u2018\u2019\u201a\u201b\u2032\u00b4`]/g, "'")
    .replace(/[\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb]/g, '"')
    .replace(/[\u2010-\u2015\u2212\u2e3a\u2e3b]/g, "-")
    .replace(/\u2026/g, "...");
}

/**
 * A whole paragraph's comparison form, for checking that two paragraphs which hash alike are
 * alike: the token folding applied to the whole string, whitespace kept only between two word
 * characters (where it separates tokens) and dropped elsewhere (where tokens ignore it).
 */
export function foldParagraph(paragraph: string): string {
  return foldToken(paragraph)
    .replace(/\s+/g, " ")
    .replace(/ (?![\p{L}\p{N}\p{M}])|(?<![\p{L}\p{N}\p{M}]) /gu, "");
}

/** Memoises keys within one diff; a per-call cache keeps the domain free of global state growth. */
export class KeyCache {
  readonly #keys = new Map<string, string>();
  key(text: string): string {
    if (PLAIN_ASCII.test(text)) return text;
    let key = this.#keys.get(text);
    if (key === undefined) {
      key = foldToken(text);
      this.#keys.set(text, key);
    }
    return key;
  }
}

/** Removes invisible characters and splits into non-empty paragraphs (display text, not yet folded). */
export function splitParagraphs(text: string): string[] {
  return removeInvisible(text)
    .split(PARAGRAPH_BREAK)
    .filter((para) => /\S/.test(para));
}

/** Drops characters that readers cannot see (soft hyphens, zero-width spaces, bidi marks). */
export function removeInvisible(text: string): string {
  return text.replace(INVISIBLE, "");
}

/** Tokenises one paragraph in a single linear pass, then marks quotations. */
export function tokeniseParagraph(paragraph: string, keys: KeyCache): Token[] {
  const tokens: Token[] = [];
  const n = paragraph.length;
  let i = 0;
  let space = false;
  while (i < n) {
    const cp = paragraph.codePointAt(i) ?? 0;
    const width = cp > 0xffff ? 2 : 1;
    const cls = charClass(cp);
    if (cls === SPACE || cls === SKIP) {
      if (cls === SPACE) space = true;
      i += width;
      continue;
    }
    let j = i + width;
    if (cls === WORD) {
      let last = cp;
      while (j < n) {
        const next = paragraph.codePointAt(j) ?? 0;
        const nextWidth = next > 0xffff ? 2 : 1;
        const nextCls = charClass(next);
        if (nextCls === WORD) {
          last = next;
          j += nextWidth;
          continue;
        }
        if (nextCls !== PUNCT || j + nextWidth >= n) break;
        const after = paragraph.codePointAt(j + nextWidth) ?? 0;
        if (charClass(after) !== WORD) break;
        const joins =
          APOSTROPHES.has(next) ||
          ((next === 0x2e || next === 0x2c || next === 0x3a) && isDigit(last) && isDigit(after));
        if (!joins) break;
        j += nextWidth;
      }
    } else if (cp === 0x2e || cp === 0x2026) {
      // A run of dots and ellipses is one token, so "…" and "..." (and "…." and "....") compare equal.
      while (j < n && (paragraph.charCodeAt(j) === 0x2e || paragraph.charCodeAt(j) === 0x2026)) j++;
    }
    const text = paragraph.slice(i, j);
    tokens.push({
      text,
      key: keys.key(text),
      word: cls === WORD,
      space,
      quoted: false,
      initial: false,
    });
    space = false;
    i = j;
  }
  markQuotations(tokens);
  return tokens;
}

/** Curly and angle quotes say which way they face; straight ones only toggle. („…“ is German.) */
const DIRECTED_OPENERS: ReadonlySet<string> = new Set(["\u201c", "\u201e", "\u00ab", "\u201f"]);
const DIRECTED_CLOSERS: ReadonlySet<string> = new Set(["\u201d", "\u00bb"]);

const OPENING_CONTEXT: ReadonlySet<string> = new Set(["(", "[", '"', "-", ":"]);

/**
 * Marks tokens inside quotations. Curly double quotes open and close by their direction (an
 * unclosed “ simply stays open through the next “), straight ones toggle; a single quote opens only when it starts a word after a space or opening punctuation, and closes only when it
 * is attached to the word before it, so possessives ("the Joneses' house") don't open quotes.
 * A quotation left open runs to the end of the paragraph, as in multi-paragraph quotes.
 */
function markQuotations(tokens: Token[]): void {
  let inDouble = false;
  let opener = "";
  let inSingle = false;
  for (let k = 0; k < tokens.length; k++) {
    const token = tokens[k] as Token;
    if (!token.word) {
      if (token.key === '"') {
        const mark = token.text;
        if (!DIRECTED_OPENERS.has(mark) && !DIRECTED_CLOSERS.has(mark)) inDouble = !inDouble;
        else if (inDouble && (DIRECTED_CLOSERS.has(mark) || (mark === "\u201c" && opener === "\u201e")))
          inDouble = false;
        else if (DIRECTED_OPENERS.has(mark)) {
          inDouble = true;
          opener = mark;
        } else inDouble = false;
        continue;
      }
      if (token.key === "'") {
        const prev = tokens[k - 1];
        const next = tokens[k + 1];
        if (!inSingle) {
          const opens =
            next?.word === true &&
            !next.space &&
            (prev === undefined || token.space || OPENING_CONTEXT.has(prev.key));
          if (opens) {
            inSingle = true;
            continue;
          }
        } else if (prev !== undefined && !token.space) {
          inSingle = false;
          continue;
        }
      }
    }
    token.quoted = inDouble || inSingle;
  }
}

/** Display text of a run of tokens, keeping the whitespace that preceded each but the first. */
export function joinTokens(tokens: readonly Token[], from = 0, to = tokens.length): string {
  let out = "";
  for (let k = from; k < to; k++) {
    const token = tokens[k] as Token;
    out += k > from && token.space ? ` ${token.text}` : token.text;
  }
  return out;
}

/** Display text of a run, keeping the first token's leading space too (for word-op runs). */
export function joinTokensWithLeadingSpace(tokens: readonly Token[]): string {
  let out = "";
  for (const token of tokens) out += token.space ? ` ${token.text}` : token.text;
  return out;
}

/** The comparison form of a run: keys joined with the original spacing, for pattern matching. */
export function foldedText(tokens: readonly Token[]): string {
  let out = "";
  for (let k = 0; k < tokens.length; k++) {
    const token = tokens[k] as Token;
    out += k > 0 && token.space ? ` ${token.key}` : token.key;
  }
  return out;
}
