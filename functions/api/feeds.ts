/**
 * Atom feeds of flagged edits: the archive's (`/v1/edits.atom`), one URL's
 * (`/v1/urls/{urlId}/edits.atom`) and one source's (`/v1/sources/{sourceId}/edits.atom`, the edits
 * of the articles it found most recently: see source-articles.ts). Each holds the newest {@link FEED_ENTRIES} edits; older ones
 * stay in the paginated JSON lists, which is what a feed reader polling for news needs.
 */
import type { APIGatewayProxyResult } from "aws-lambda";
import { type FeedEdit, renderEditFeed } from "../../shared/domain/atom-feed.ts";
import { formatMementoTimestamp } from "../../shared/domain/memento.ts";
import type { EditEntry, UrlRecord, VersionRecord } from "../../shared/domain/model.ts";
import { listSourceEdits } from "../../shared/domain/sources/source-articles.ts";
import { NotFoundError } from "../../shared/errors.ts";
import { SHORT } from "../../shared/http/cache-control.ts";
import { publicBaseUrl } from "./public-url.ts";
import type { Route } from "./route-types.ts";
import { followingOf, loadSource } from "./sources.ts";

/** Entries per feed. */
export const FEED_ENTRIES = 100;

const ID = "([A-Za-z0-9_-]{1,64})";

function atom(body: string): APIGatewayProxyResult {
  return {
    statusCode: 200,
    // Feed readers poll; a minute's delay on news of an edit spares the archive most of the polls.
    headers: { "content-type": "application/atom+xml; charset=utf-8", "cache-control": SHORT },
    body,
  };
}

/** An Atom id must be absolute; when the request gave no usable host, fall back to a URN. */
function feedId(base: string, path: string, urn: string): string {
  return base === "" ? urn : `${base}${path}`;
}

function feedEdit(base: string, entry: EditEntry, hasSnapshot: boolean): FeedEdit {
  const query = new URLSearchParams({
    ...(entry.previousVersionId ? { from: entry.previousVersionId } : {}),
    to: entry.versionId,
  });
  return {
    ...entry,
    diffPageUrl: `${base}/ui/urls/${entry.urlId}/diff?${query}`,
    diffUrl: `${base}/v1/urls/${entry.urlId}/diff?${query}`,
    ...(hasSnapshot
      ? { mementoUrl: `${base}/memento/${formatMementoTimestamp(new Date(entry.capturedAt))}/${entry.url}` }
      : {}),
  };
}

function urlFeed(base: string, url: UrlRecord, versions: readonly VersionRecord[]): string {
  const entries = versions
    .filter((v) => v.edit !== undefined)
    .toReversed()
    .slice(0, FEED_ENTRIES)
    .map((v) =>
      feedEdit(
        base,
        {
          urlId: url.urlId,
          url: url.url,
          versionId: v.versionId,
          capturedAt: v.capturedAt,
          edit: v.edit as NonNullable<typeof v.edit>,
          ...(v.previousVersionId ? { previousVersionId: v.previousVersionId } : {}),
          ...(v.title ? { title: v.title } : {}),
          ...(v.summary ? { summary: v.summary } : {}),
          ...(v.revertOf ? { revertOf: v.revertOf } : {}),
        },
        v.artifacts.snapshot !== undefined,
      ),
    );
  const path = `/v1/urls/${url.urlId}/edits.atom`;
  return renderEditFeed({
    id: feedId(base, path, `urn:palimpsest:feed:${url.urlId}`),
    title: `Palimpsest: edits to ${url.title ?? url.url}`,
    selfUrl: `${base}${path}`,
    pageUrl: `${base}/ui/urls/${url.urlId}`,
    jsonUrl: `${base}/v1/urls/${url.urlId}`,
    emptyUpdated: new Date(url.createdAt),
    entries,
  });
}

export const FEED_ROUTES: readonly Route[] = [
  {
    method: "GET",
    pattern: /^\/v1\/edits\.atom$/,
    public: true,
    handle: async (deps, event) => {
      const base = publicBaseUrl(deps, event);
      const page = await deps.repository.listEdits({ limit: FEED_ENTRIES });
      return atom(
        renderEditFeed({
          id: feedId(base, "/v1/edits.atom", "urn:palimpsest:feed:edits"),
          title: "Palimpsest: flagged edits",
          selfUrl: `${base}/v1/edits.atom`,
          pageUrl: `${base}/`,
          jsonUrl: `${base}/v1/edits`,
          emptyUpdated: new Date(),
          // Removals have no snapshot; every other edit came from a capture that stored one.
          entries: page.items.map((e) => feedEdit(base, e, !e.edit.kinds.includes("removed_article"))),
        }),
      );
    },
  },
  {
    method: "GET",
    pattern: new RegExp(`^/v1/urls/${ID}/edits\\.atom$`),
    public: true,
    handle: async (deps, event, { id = "" }) => {
      const url = await deps.repository.getUrl(id);
      if (!url) throw new NotFoundError("url_not_found", `No archived URL has the id ${id}.`);
      return atom(urlFeed(publicBaseUrl(deps, event), url, await deps.repository.listVersions(id)));
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/sources\/(src_[A-Za-z0-9]{1,60})\/edits\.atom$/,
    public: true,
    handle: async (deps, event, { id = "" }) => {
      const source = await loadSource(deps, id);
      const base = publicBaseUrl(deps, event);
      const edits = await listSourceEdits(
        { sources: followingOf(deps).sources, repository: deps.repository },
        id,
        FEED_ENTRIES,
      );
      const path = `/v1/sources/${id}/edits.atom`;
      return atom(
        renderEditFeed({
          id: feedId(base, path, `urn:palimpsest:feed:${id}`),
          title: `Palimpsest: edits to articles from ${source.title ?? source.url}`,
          selfUrl: `${base}${path}`,
          pageUrl: `${base}/ui/sources/${id}`,
          jsonUrl: `${base}/v1/sources/${id}/urls`,
          emptyUpdated: new Date(source.createdAt),
          entries: edits.map((e) => feedEdit(base, e, !e.edit.kinds.includes("removed_article"))),
        }),
      );
    },
  },
];
