/**
 * OPML 2.0, how feed readers move subscriptions: the sources as an outline list (export), and
 * a reader's list turned into sources (import), through `feedsmith`. Palimpsest's own settings
 * travel as extra outline attributes (`palimpsestKind`, `linkPattern`, `pollEveryMinutes`), which
 * other readers ignore, so an export imports back as it was.
 *
 * An import does not fetch each URL while the request waits (a list of a hundred feeds would
 * outlast any HTTP timeout): every URL passes the URL guard, is stored as a source and gets its
 * first poll queued; a URL that turns out not to be a feed says so in its `lastError`.
 */
import { generateOpml, parseOpml } from "feedsmith";
import { InvalidRequestError } from "../../errors.ts";
import { parseRecapturePolicy } from "../recapture.ts";
import { checkSubmittedUrl, normaliseUrl } from "../url.ts";
import {
  FIRST_POLL_LEASE_MS,
  type FollowSourceDeps,
  newSourceId,
  parsePollEveryMinutes,
  SourceExistsError,
  storeAndPoll,
} from "./follow-source.ts";
import { compileLinkPattern } from "./link-pattern.ts";
import type { SourceKind, SourceRecord } from "./model.ts";

const EXTRA = ["palimpsestKind", "linkPattern", "pollEveryMinutes"] as const;

/** Outlines one import takes; a longer list is refused whole, so none is half-imported. */
export const MAX_OPML_OUTLINES = 500;

export function renderSourcesOpml(sources: readonly SourceRecord[], now: Date): string {
  return generateOpml(
    {
      head: { title: "Palimpsest sources", dateCreated: now },
      body: {
        outlines: sources.map((source) => ({
          text: source.title ?? source.url,
          ...(source.title ? { title: source.title } : {}),
          type: source.kind === "feed" ? "rss" : "link",
          xmlUrl: source.url,
          ...(source.discoveredFrom ? { htmlUrl: source.discoveredFrom } : {}),
          palimpsestKind: source.kind,
          ...(source.linkPattern !== undefined ? { linkPattern: source.linkPattern } : {}),
          pollEveryMinutes: String(source.pollEveryMinutes),
        })),
      },
    },
    { extraOutlineAttributes: EXTRA },
  );
}

interface ImportedOutline {
  url: string;
  title?: string;
  kind?: string;
  linkPattern?: string;
  pollEveryMinutes?: string;
}

/** Every outline with a URL to poll (`xmlUrl`, else `url`), nested folders flattened. */
export function parseOpmlOutlines(text: string): ImportedOutline[] {
  let opml: ReturnType<typeof parseOpml<typeof EXTRA>>;
  try {
    opml = parseOpml(text, { extraOutlineAttributes: EXTRA });
  } catch (cause) {
    throw new InvalidRequestError("invalid_opml", "The body is not an OPML document.", { cause });
  }
  const found: ImportedOutline[] = [];
  const visit = (outlines: NonNullable<NonNullable<typeof opml.body>["outlines"]>) => {
    for (const outline of outlines) {
      const url = outline.xmlUrl ?? outline.url;
      if (url) {
        found.push({
          url,
          ...(outline.title || outline.text ? { title: String(outline.title || outline.text) } : {}),
          ...(outline.palimpsestKind ? { kind: String(outline.palimpsestKind) } : {}),
          ...(outline.linkPattern ? { linkPattern: String(outline.linkPattern) } : {}),
          ...(outline.pollEveryMinutes ? { pollEveryMinutes: String(outline.pollEveryMinutes) } : {}),
        });
      }
      if (outline.outlines) visit(outline.outlines);
    }
  };
  visit(opml.body?.outlines ?? []);
  return found;
}

export interface OpmlImport {
  imported: Array<{ sourceId: string; url: string }>;
  skipped: Array<{ url: string; code: string; message: string; sourceId?: string }>;
}

/** Imports an OPML list; every outline is either imported or skipped with the reason. */
export async function importOpml(
  deps: FollowSourceDeps,
  text: string,
  options: { recapture?: unknown } = {},
): Promise<OpmlImport> {
  const outlines = parseOpmlOutlines(text);
  if (outlines.length > MAX_OPML_OUTLINES) {
    throw new InvalidRequestError(
      "too_many_outlines",
      `The list has ${outlines.length} feeds; import at most ${MAX_OPML_OUTLINES} at a time.`,
    );
  }
  const recapture = parseRecapturePolicy(options.recapture);
  const result: OpmlImport = { imported: [], skipped: [] };
  for (const outline of outlines) {
    try {
      const url = normaliseUrl(
        await checkSubmittedUrl(outline.url, {
          resolveHost: deps.resolveHost,
          allowedPrivateHosts: deps.allowedPrivateHosts,
        }),
      );
      const kind: SourceKind = outline.kind === "sitemap" || outline.kind === "page" ? outline.kind : "feed";
      if (outline.linkPattern !== undefined) compileLinkPattern(outline.linkPattern);
      if (kind === "page" && outline.linkPattern === undefined) {
        throw new InvalidRequestError(
          "missing_link_pattern",
          'A source of kind "page" needs a "linkPattern".',
        );
      }
      const every = outline.pollEveryMinutes === undefined ? undefined : Number(outline.pollEveryMinutes);
      const now = (deps.now ?? (() => new Date()))();
      const source = await storeAndPoll(deps, {
        sourceId: newSourceId(now),
        url,
        kind,
        title: outline.title?.trim() || null,
        ...(outline.linkPattern !== undefined ? { linkPattern: outline.linkPattern } : {}),
        pollEveryMinutes: parsePollEveryMinutes(every),
        recapture,
        paused: false,
        createdAt: now.toISOString(),
        articleCount: 0,
        nextPollAt: new Date(now.getTime() + FIRST_POLL_LEASE_MS).toISOString(),
      });
      result.imported.push({ sourceId: source.sourceId, url });
    } catch (err) {
      if (!(err instanceof InvalidRequestError)) throw err;
      result.skipped.push({
        url: outline.url,
        code: err.code,
        message: err.message,
        ...(err instanceof SourceExistsError ? { sourceId: err.sourceId } : {}),
      });
    }
  }
  return result;
}
