/**
 * What a source's pages and feed show: the URLs it found with their archive records, and the
 * flagged edits among them.
 *
 * Edits are read from the source's most recently found articles (the newest
 * {@link EDIT_SCAN_ARTICLES}): news articles are edited mostly in their first days, and reading
 * each article's versions is one query per article, so the scan is bounded rather than complete.
 * An older article's edits stay on its own page and feed and in the archive-wide feed.
 */
import type { ArchiveRepository, Page, SourceRepository } from "../../ports.ts";
import type { EditEntry, UrlRecord } from "../model.ts";
import { runLimited } from "../sweep.ts";
import type { SourceLink } from "./model.ts";

/** Articles whose versions the source's edits are read from. */
export const EDIT_SCAN_ARTICLES = 100;

export interface SourceArticle extends SourceLink {
  /** The URL's archive record; null while its first capture has not been recorded yet. */
  record: UrlRecord | null;
}

/** One page of the source's URLs, newest first, each with its archive record. */
export async function listSourceArticles(
  deps: { sources: SourceRepository; repository: ArchiveRepository },
  sourceId: string,
  page: { limit: number; cursor?: string },
): Promise<Page<SourceArticle>> {
  const links = await deps.sources.listSourceUrls(sourceId, page);
  const items: SourceArticle[] = links.items.map((link) => ({ ...link, record: null }));
  await runLimited(items, 16, async (item) => {
    item.record = await deps.repository.getUrl(item.urlId);
  });
  return { items, ...(links.cursor ? { cursor: links.cursor } : {}) };
}

/** The flagged edits of the source's recent articles, newest first, at most `limit`. */
export async function listSourceEdits(
  deps: { sources: SourceRepository; repository: ArchiveRepository },
  sourceId: string,
  limit: number,
): Promise<EditEntry[]> {
  const recent = await listSourceArticles(deps, sourceId, { limit: EDIT_SCAN_ARTICLES });
  const edited = recent.items.filter((a) => a.record && a.record.versionCount >= 2);
  const edits: EditEntry[] = [];
  await runLimited(edited, 8, async (article) => {
    const url = article.record as UrlRecord;
    for (const v of await deps.repository.listVersions(url.urlId)) {
      if (!v.edit) continue;
      edits.push({
        urlId: url.urlId,
        url: url.url,
        versionId: v.versionId,
        capturedAt: v.capturedAt,
        edit: v.edit,
        ...(v.previousVersionId ? { previousVersionId: v.previousVersionId } : {}),
        ...(v.title ? { title: v.title } : {}),
        ...(v.summary ? { summary: v.summary } : {}),
        ...(v.revertOf ? { revertOf: v.revertOf } : {}),
      });
    }
  });
  return edits
    .sort((a, b) => (a.capturedAt < b.capturedAt ? 1 : a.capturedAt > b.capturedAt ? -1 : 0))
    .slice(0, limit);
}
