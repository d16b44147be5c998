/**
 * The public shapes of an article diff (PRODUCT.md, HTTP API v1). The edit a diff flags is a record
 * the archive keeps, so `Edit` and its parts belong to model.ts.
 */
import type { Article, Edit, EditKind } from "../model.ts";

/** The parts of an extracted article that a diff compares. `text` is paragraphs separated by "\n\n". */
export type ArticleForDiff = Pick<Article, "title" | "byline" | "text" | "modifiedTime">;

/** Kinds in the order they are reported. */
export const EDIT_KINDS: readonly EditKind[] = [
  "headline",
  "byline",
  "added",
  "removed",
  "changed",
  "number",
  "quote",
  "correction",
  "moved",
  "removed_article",
  "restored_article",
  "redirected",
];

/** One run of a word-level diff inside a changed sentence; `text` keeps its leading space. */
export interface WordOp {
  op: "equal" | "insert" | "delete";
  text: string;
}

/**
 * One change, in document order. `replace` is a sentence (or the title/byline) that was reworded,
 * with its word-level diff in `words`; `insert`/`delete` are whole sentences, merged into runs.
 */
export interface Change {
  op: "insert" | "delete" | "replace";
  before?: string;
  after?: string;
  /** Absent for the body text. */
  field?: "title" | "byline";
  /** This insert/delete is one end of a sentence that moved; `moveId` links the two ends. */
  moved?: boolean;
  moveId?: number;
  words?: WordOp[];
}

/** How much work the diff did and whether a cap made part of it coarser than optimal. */
export interface DiffBounds {
  /** Counted inner-loop steps across alignment, pairing and word diffs. */
  work: number;
  /** True when a work cap was reached and some region fell back to delete-all/insert-all. */
  coarse: boolean;
}

export interface ArticleDiff {
  /** null when nothing meaningful changed (typography, whitespace and page noise never count). */
  edit: Edit | null;
  changes: Change[];
  /** The after-version rendered as an HTML fragment with `<ins>`/`<del>` marks. */
  html: string;
  bounds: DiffBounds;
}

/**
 * Work caps. Every phase that is worse than linear is counted against one of these, so the diff
 * finishes in bounded time on any input; the defaults keep a 100 KB complete rewrite well under 1 s.
 */
export interface DiffLimits {
  /** Sentences longer than this many tokens are cut into content-defined chunks. */
  maxSentenceTokens: number;
  /** Steps for aligning the sentence sequences (Myers), and again for the anchored fallback. */
  maxAlignSteps: number;
  /** Steps spent scoring candidate sentence pairs for similarity. */
  maxPairSteps: number;
  /** In a large hunk, how far from its expected position a sentence looks for its counterpart. */
  pairWindow: number;
  /** Steps for all word-level diffs inside changed sentences together. */
  maxWordSteps: number;
  /**
   * Sentence-path work, estimated as words plus five per sentence over both versions together,
   * that the diff spends splitting text into sentences. A larger input is aligned paragraph by
   * paragraph first; its changed regions are split into sentences while they fit in this
   * allowance, and the rest are compared as whole paragraphs (see `paragraph-units.ts`).
   */
  maxFineWork: number;
}

export const DEFAULT_DIFF_LIMITS: Readonly<DiffLimits> = Object.freeze({
  maxSentenceTokens: 160,
  maxAlignSteps: 2_000_000,
  maxPairSteps: 1_500_000,
  pairWindow: 12,
  maxWordSteps: 2_000_000,
  maxFineWork: 150_000,
});

export interface DiffOptions {
  limits?: Partial<DiffLimits>;
  /**
   * Drop paragraphs that are page furniture rather than article text ("Updated 5 minutes ago",
   * "1,234 views", "Read more: …", "Advertisement") before comparing.
   * @default true
   */
  ignoreVolatileParagraphs?: boolean;
}
