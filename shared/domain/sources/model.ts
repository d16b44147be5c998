/**
 * Sources: URLs Palimpsest polls for article links (feeds, sitemaps, section pages). Pure data.
 */
import type { RecapturePolicy } from "../model.ts";

/** What a source is polled as. */
export type SourceKind = "feed" | "sitemap" | "page";

/** The document format a poll last read (finer than the kind). */
export type SourceFormat = "rss" | "atom" | "rdf" | "json" | "urlset" | "sitemapindex" | "html";

/** Why the last poll did not go as planned; cleared by the next poll that does. */
export interface SourceError {
  code: string;
  message: string;
  /** When the poll that recorded it ran. */
  at: string;
}

export interface SourceRecord {
  sourceId: string;
  /** What is polled: normalised, and the feed itself when a page named one. */
  url: string;
  kind: SourceKind;
  format?: SourceFormat;
  title: string | null;
  /** The URL the source was asked for, when it differs from `url` (a page that named its feed). */
  discoveredFrom?: string;
  /** For `page` sources: which links are articles (RE2 syntax, matched against absolute URLs). */
  linkPattern?: string;
  pollEveryMinutes: number;
  /** The recapture policy of the articles it finds. */
  recapture: RecapturePolicy;
  paused: boolean;
  createdAt: string;
  lastPolledAt?: string;
  /** When the source is next due; absent while paused. */
  nextPollAt?: string;
  lastError?: SourceError;
  /** URLs linked to the source so far (new articles and ones already archived). */
  articleCount: number;
  /** When a poll last found a URL new to the source. */
  lastFoundAt?: string;
  /** Validators of the last full answer, sent back as `If-None-Match` / `If-Modified-Since`. */
  etag?: string;
  lastModified?: string;
  /** SHA-256 of the last body read: an unchanged body is not parsed again. */
  bodySha256?: string;
  /**
   * Short keys of the entries the last poll read (see `entryKey`): an entry seen then costs no
   * write now. Bounded by the entries a poll takes.
   */
  seen?: string[];
}

/** A URL a source found: the link between the two, listed newest first. */
export interface SourceLink {
  sourceId: string;
  urlId: string;
  url: string;
  /** When this source first listed it. */
  foundAt: string;
  /** The entry's title in the source, if it gave one. */
  title?: string;
  /** The entry's own publication time, if it gave one. */
  publishedAt?: string;
  /** Whether the source's poll submitted its first capture (false: it was archived already). */
  submitted: boolean;
}

/** One article link a document lists. */
export interface SourceEntry {
  /** Absolute http(s) URL, resolved against the document, not yet normalised. */
  url: string;
  title?: string;
  /** ISO 8601, when the document dates the entry (publication, else last modification). */
  publishedAt?: string;
}

/** A `<link rel="alternate">` feed an HTML page names. */
export interface FeedAlternate {
  url: string;
  type: string;
  title?: string;
}

/** What a fetched document turned out to be. */
export type SourceDocument =
  | { kind: "feed"; format: "rss" | "atom" | "rdf" | "json"; title: string | null; entries: SourceEntry[] }
  | { kind: "sitemap"; format: "urlset"; title: null; entries: SourceEntry[] }
  | { kind: "sitemap"; format: "sitemapindex"; title: null; children: SourceEntry[] }
  | {
      kind: "page";
      format: "html";
      title: string | null;
      alternates: FeedAlternate[];
      /** Every http(s) link of the page, resolved, in document order (before any pattern). */
      links: SourceEntry[];
    };

/** Polling interval bounds, in minutes. */
export const MIN_POLL_MINUTES = 5;
export const MAX_POLL_MINUTES = 1440;
export const DEFAULT_POLL_MINUTES = 15;
