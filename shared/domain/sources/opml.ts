/**
 * OPML 2.0, how feed readers move subscriptions: the sources as an outline list (export), and
 * a reader's list turned into sources (import). Palimpsest's own settings travel as extra outline
 * attributes (`palimpsestKind`, `linkPattern`, `pollEveryMinutes`), which other readers ignore, so
 * an export imports back as it was. Read with htmlparser2's lenient XML mode (already in the API
 * function for pages; an OPML library would bring its own XML parser and builder, past the bundle's
 * 500 KB budget); written as the flat list of outlines it is, every value escaped.
 *
 * An import does not fetch each URL while the request waits (a list of a hundred feeds would
 * outlast any HTTP timeout): every URL passes the URL guard, is stored as a source and gets its
 * first poll queued; a URL that turns out not to be a feed says so in its `lastError`.
 */
import { Parser } from "htmlparser2";
import { InvalidRequestError } from "../../errors.ts";
import { escapeXml } from "../atom-feed.ts";
import { parseRecapturePolicy } from "../recapture.ts";
import { checkSubmittedUrl, normaliseUrl } from "../url.ts";
import { checkLinkPattern } from "./check-link-pattern.ts";
import {
  FIRST_POLL_LEASE_MS,
  type FollowSourceDeps,
  newSourceId,
  parsePollEveryMinutes,
  SourceExistsError,
  storeAndPoll,
} from "./follow-source.ts";
import type { SourceKind, SourceRecord } from "./model.ts";
import { rootElementName } from "./root-element.ts";

/** Outlines one import takes; a longer list is refused whole, so none is half-imported. */
export const MAX_OPML_OUTLINES = 500;

export function renderSourcesOpml(sources: readonly SourceRecord[], now: Date): string {
  const attributes = (source: SourceRecord): Array<[string, string | undefined]> => [
    ["text", source.title ?? source.url],
    ["title", source.title ?? undefined],
    ["type", source.kind === "feed" ? "rss" : "link"],
    ["xmlUrl", source.url],
    ["htmlUrl", source.discoveredFrom],
    ["palimpsestKind", source.kind],
    ["linkPattern", source.linkPattern],
    ["pollEveryMinutes", String(source.pollEveryMinutes)],
  ];
  const outline = (source: SourceRecord) =>
    `    <outline ${attributes(source)
      .filter((pair): pair is [string, string] => pair[1] !== undefined)
      .map(([name, value]) => `${name}="${escapeXml(value)}"`)
      .join(" ")}/>`;
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<opml version="2.0">',
    "  <head>",
    "    <title>Palimpsest sources</title>",
    `    <dateCreated>${now.toUTCString()}</dateCreated>`,
    "  </head>",
    "  <body>",
    ...sources.map(outline),
    "  </body>",
    "</opml>",
    "",
  ].join("\n");
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
  if (rootElementName(text.trimStart()) !== "opml") {
    throw new InvalidRequestError("invalid_opml", "The body is not an OPML document.");
  }
  const found: ImportedOutline[] = [];
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (name !== "outline") return;
        const url = attributes.xmlUrl ?? attributes.url;
        if (!url) return;
        const title = (attributes.title || attributes.text)?.trim();
        found.push({
          url,
          ...(title ? { title } : {}),
          ...(attributes.palimpsestKind ? { kind: attributes.palimpsestKind } : {}),
          ...(attributes.linkPattern ? { linkPattern: attributes.linkPattern } : {}),
          ...(attributes.pollEveryMinutes ? { pollEveryMinutes: attributes.pollEveryMinutes } : {}),
        });
      },
    },
    { xmlMode: true, decodeEntities: true },
  );
  parser.end(text);
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
      if (outline.linkPattern !== undefined) checkLinkPattern(outline.linkPattern);
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
