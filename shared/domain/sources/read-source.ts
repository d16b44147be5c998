/**
 * Reading a source once: the conditional fetch of its URL, the document it holds, and for a
 * sitemap index the newest of its child sitemaps. Every fetch goes through the guarded fetcher.
 * Outcomes a poll records are values; only misuse throws.
 */
import { FetchError } from "../../errors.ts";
import type { HttpFetcher } from "../../ports.ts";
import { sha256Hex } from "../ids.ts";
import type { SourceDocument, SourceEntry, SourceError, SourceRecord } from "./model.ts";
import { readSourceDocument } from "./read-document.ts";

export interface ReadLimits {
  /** Largest a gzipped document may inflate to. */
  maxInflatedBytes: number;
  /** Child sitemaps of an index read per poll, newest first. */
  maxSitemapChildren: number;
}

export const DEFAULT_READ_LIMITS: ReadLimits = {
  maxInflatedBytes: 50 * 1024 * 1024,
  maxSitemapChildren: 5,
};

/** What one read of a source found. */
export type SourceRead =
  /** The server answered 304, or the same bytes as last time: nothing to do. */
  | { kind: "unchanged"; etag?: string; lastModified?: string }
  | { kind: "failed"; error: Omit<SourceError, "at"> }
  | {
      kind: "read";
      document: SourceDocument;
      /** The article links, from the document or its child sitemaps, in document order. */
      entries: SourceEntry[];
      finalUrl: string;
      etag?: string;
      lastModified?: string;
      bodySha256: string;
      /** Something the poll did not read in full (children over the cap, a child that failed). */
      notice?: Omit<SourceError, "at">;
    };

function failure(err: unknown): Omit<SourceError, "at"> {
  if (err instanceof FetchError) return { code: err.code, message: err.message };
  throw err;
}

/** Newest first by date; undated ones after, in document order. */
export function newestFirst<T extends SourceEntry>(entries: readonly T[]): T[] {
  return entries
    .map((entry, index) => ({
      entry,
      index,
      time: entry.publishedAt ? Date.parse(entry.publishedAt) : Number.NaN,
    }))
    .sort((a, b) => {
      const aDated = !Number.isNaN(a.time);
      const bDated = !Number.isNaN(b.time);
      if (aDated && bDated && a.time !== b.time) return b.time - a.time;
      if (aDated !== bDated) return aDated ? -1 : 1;
      return a.index - b.index;
    })
    .map(({ entry }) => entry);
}

/** Reads the source; conditional on its last validators and digest when `conditional`. */
export async function readSource(
  fetcher: HttpFetcher,
  source: Pick<SourceRecord, "url" | "etag" | "lastModified" | "bodySha256">,
  limits: ReadLimits,
  conditional = true,
): Promise<SourceRead> {
  let result: Awaited<ReturnType<HttpFetcher["fetch"]>>;
  try {
    result = await fetcher.fetch(
      source.url,
      conditional ? { etag: source.etag, lastModified: source.lastModified } : {},
    );
  } catch (err) {
    return { kind: "failed", error: failure(err) };
  }
  const validators = {
    ...(result.etag ? { etag: result.etag } : {}),
    ...(result.lastModified ? { lastModified: result.lastModified } : {}),
  };
  if (result.notModified) return { kind: "unchanged", ...validators };
  const bodySha256 = sha256Hex(result.body);
  if (conditional && source.bodySha256 === bodySha256) return { kind: "unchanged", ...validators };
  let document: SourceDocument | null;
  try {
    document = readSourceDocument(result.body, result.finalUrl, {
      contentType: result.contentType,
      maxInflatedBytes: limits.maxInflatedBytes,
    });
  } catch (err) {
    return { kind: "failed", error: failure(err) };
  }
  if (document === null) {
    return {
      kind: "failed",
      error: { code: "not_a_feed", message: "The document is not a feed, a sitemap or an HTML page." },
    };
  }
  const base = { kind: "read" as const, document, finalUrl: result.finalUrl, bodySha256, ...validators };
  if (document.kind === "feed" || (document.kind === "sitemap" && document.format === "urlset")) {
    return { ...base, entries: document.entries };
  }
  if (document.kind === "page") return { ...base, entries: document.links };
  return { ...base, ...(await readChildren(fetcher, document.children, limits)) };
}

/** The newest child sitemaps of an index, up to the cap; each is fetched and read like the index. */
async function readChildren(
  fetcher: HttpFetcher,
  children: readonly SourceEntry[],
  limits: ReadLimits,
): Promise<{ entries: SourceEntry[]; notice?: Omit<SourceError, "at"> }> {
  const chosen = newestFirst(children).slice(0, limits.maxSitemapChildren);
  const entries: SourceEntry[] = [];
  const problems: string[] = [];
  for (const child of chosen) {
    const read = await readSource(fetcher, { url: child.url }, limits, false);
    if (read.kind === "failed") {
      problems.push(`${child.url}: ${read.error.message}`);
    } else if (
      read.kind === "read" &&
      read.document.kind === "sitemap" &&
      read.document.format === "urlset"
    ) {
      entries.push(...read.entries);
    } else if (read.kind === "read") {
      problems.push(`${child.url}: not a sitemap of URLs (indexes are followed one level deep).`);
    }
  }
  if (problems.length > 0) {
    return {
      entries,
      notice: {
        code: "child_sitemap_failed",
        message: `${problems.length} of ${chosen.length} child sitemaps could not be read: ${problems.slice(0, 3).join(" ")}`,
      },
    };
  }
  if (children.length > chosen.length) {
    return {
      entries,
      notice: {
        code: "too_many_children",
        message: `The index lists ${children.length} sitemaps; each poll reads the newest ${chosen.length}.`,
      },
    };
  }
  return { entries };
}
