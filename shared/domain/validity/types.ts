/**
 * The shapes the validity classifier works with. Apart from the detectors so that each can name
 * them without importing another.
 */
import type { Validity } from "../model.ts";

/** What a capture hands the classifier: the answer, the rendered page and what was extracted. */
export interface CaptureSignals {
  /** The main document's HTTP status. */
  httpStatus: number;
  /** The main document's response headers, names in lower case. */
  headers: Readonly<Record<string, string>>;
  /** The rendered DOM as HTML (the extractor's input). */
  html: string;
  /** The extracted article's title, or the document's title when there was no article. */
  title: string | null;
  /** The extracted article text ("" when the extractor found none). */
  text: string;
  /**
   * The main document as the server sent it, before scripts ran and before the capturer dismissed
   * banners: a consent wall taken away in the browser still shows there what stood in the way.
   */
  rawHtml?: string;
  /** Where the text came from: the extracted article, or the page's main text when none was found. */
  extraction?: "article" | "fallback";
}

/** The URL's last text the classifier compares with: its latest full (not teaser) version. */
export interface PreviousText {
  title: string | null;
  text: string;
}

/** A class, and why, in a sentence a person can read. */
export interface ValidityVerdict {
  validity: Validity;
  validityReason: string;
  /**
   * Set on an `empty` verdict made by the history alone (much shorter, almost nothing shared) on a
   * page that still presents itself as the article and shows no wall's words: a withdrawal note or
   * a shorter rewrite would look so. A second capture in a row with the same text confirms it as
   * the article's new text (decide-version.ts).
   */
  maybeNewText?: true;
}

/** The page as the detectors read it, computed once. */
export interface PageView {
  httpStatus: number;
  headers: Readonly<Record<string, string>>;
  /** Class names, ids, and script/frame URLs, lower case. */
  names: string;
  /** Inline scripts' source. */
  scripts: string;
  /** Title, headings, article and visible text, lower case, for vocabulary. */
  matchText: string;
  /** The page's text right after the article's last words (matching form): where a wall says why it stops. */
  afterText: string;
  /** The title and `<h1>`s, lower case: where a page says what it is. */
  headline: string;
  /** The extracted article text, lower case. */
  articleText: string;
  /** Words in the extracted article. */
  articleWords: number;
  /** Words in the whole visible page. */
  pageWords: number;
  /** JSON-LD `isAccessibleForFree` (false: a declared paywall). */
  accessibleForFree: boolean | null;
  /** The served document (see `CaptureSignals.rawHtml`), read only when needed. */
  rawHtml: string;
}
