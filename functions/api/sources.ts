/**
 * The sources routes (`/v1/sources…`, PRODUCT.md "Following outlets"): follow, list, show, change,
 * remove, the URLs a source found, and OPML export and import. Each parses its input, calls the
 * domain and maps the result; the source's Atom feed of edits is with the other feeds (feeds.ts).
 */
import type { APIGatewayProxyEvent } from "aws-lambda";
import { followSource } from "../../shared/domain/sources/follow-source.ts";
import { changeSource, sourceView } from "../../shared/domain/sources/manage-source.ts";
import type { SourceRecord } from "../../shared/domain/sources/model.ts";
import { importOpml, renderSourcesOpml } from "../../shared/domain/sources/opml.ts";
import { listSourceArticles } from "../../shared/domain/sources/source-articles.ts";
import { InvalidRequestError, NotFoundError } from "../../shared/errors.ts";
import { HttpError, json, mediaType, parseJsonBody } from "../../shared/http/api-gateway.ts";
import type { SourceRepository } from "../../shared/ports.ts";
import type { ApiDeps, FollowingDeps, Route } from "./route-types.ts";

const ID = "(src_[A-Za-z0-9]{1,60})";

/** Largest OPML body an import reads (a list of a few thousand feeds). */
export const MAX_OPML_BYTES = 1024 * 1024;

/** Sources listed per page of `GET /v1/sources`, and read per query by the OPML export. */
const EXPORT_PAGE = 100;

export function followingOf(deps: ApiDeps): FollowingDeps {
  if (!deps.following)
    throw new HttpError(501, "not_configured", "Following sources is not configured here.");
  return deps.following;
}

export function followDeps(deps: ApiDeps) {
  const following = followingOf(deps);
  return {
    ...following,
    resolveHost: deps.resolveHost,
    allowedPrivateHosts: deps.allowedPrivateHosts,
    ...(deps.now ? { now: deps.now } : {}),
  };
}

export async function loadSource(deps: ApiDeps, sourceId: string): Promise<SourceRecord> {
  const source = await followingOf(deps).sources.getSource(sourceId);
  if (!source) throw new NotFoundError("source_not_found", `No source has the id ${sourceId}.`);
  return source;
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return 20;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new InvalidRequestError("invalid_limit", "limit must be a whole number from 1 to 100.");
  }
  return limit;
}

function pageOf(event: APIGatewayProxyEvent): { limit: number; cursor?: string } {
  const cursor = event.queryStringParameters?.cursor;
  return { limit: parseLimit(event.queryStringParameters?.limit), ...(cursor ? { cursor } : {}) };
}

/** Every source, for the export (a few thousand at most in practice). */
export async function allSources(sources: SourceRepository): Promise<SourceRecord[]> {
  const all: SourceRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await sources.listSources({ limit: EXPORT_PAGE, ...(cursor ? { cursor } : {}) });
    all.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return all;
}

/** The media types an OPML document is sent as. */
const OPML_TYPES = new Set(["text/x-opml", "application/x-opml", "application/xml", "text/xml"]);

/** The raw OPML text of an import: XML as sent, or `{"opml": "…"}` from scripts that speak JSON. */
function opmlBody(event: APIGatewayProxyEvent): { text: string; recapture?: unknown } {
  const raw = event.body ?? "";
  const text = event.isBase64Encoded ? Buffer.from(raw, "base64").toString("utf8") : raw;
  if (Buffer.byteLength(text) > MAX_OPML_BYTES) {
    throw new HttpError(413, "body_too_large", `The OPML document is larger than ${MAX_OPML_BYTES} bytes.`);
  }
  const type = mediaType(event);
  // Never the types a cross-site form or a no-cors fetch may send (see parseJsonBody).
  if (type !== "application/json" && !OPML_TYPES.has(type) && !type.endsWith("+xml")) {
    throw new HttpError(
      415,
      "unsupported_media_type",
      "Send the OPML document as text/x-opml (or application/xml), or JSON as application/json.",
    );
  }
  if (type === "application/json") {
    const body = parseJsonBody(event) as { opml?: unknown; recapture?: unknown } | null;
    if (typeof body?.opml !== "string") {
      throw new InvalidRequestError(
        "invalid_body",
        'A JSON import is {"opml": "<opml …>", "recapture"?: …}.',
      );
    }
    return { text: body.opml, ...(body.recapture !== undefined ? { recapture: body.recapture } : {}) };
  }
  if (text.trim() === "") throw new InvalidRequestError("invalid_opml", "The body must be an OPML document.");
  return { text };
}

export const SOURCE_ROUTES: readonly Route[] = [
  {
    method: "POST",
    pattern: /^\/v1\/sources\/?$/,
    handle: async (deps, event) => {
      const source = await followSource(followDeps(deps), parseJsonBody(event));
      return json(201, sourceView(source), { location: `/v1/sources/${source.sourceId}` });
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/sources\/?$/,
    handle: async (deps, event) => {
      const page = await followingOf(deps).sources.listSources(pageOf(event));
      return json(200, {
        items: page.items.map(sourceView),
        ...(page.cursor ? { cursor: page.cursor } : {}),
      });
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/sources\.opml$/,
    handle: async (deps) => ({
      statusCode: 200,
      headers: {
        "content-type": "text/x-opml; charset=utf-8",
        "content-disposition": 'attachment; filename="palimpsest-sources.opml"',
        "cache-control": "no-store",
      },
      body: renderSourcesOpml(await allSources(followingOf(deps).sources), new Date()),
    }),
  },
  {
    method: "POST",
    pattern: /^\/v1\/sources\/opml$/,
    handle: async (deps, event) => {
      const { text, recapture } = opmlBody(event);
      const result = await importOpml(followDeps(deps), text, recapture === undefined ? {} : { recapture });
      return json(200, result);
    },
  },
  {
    method: "GET",
    pattern: new RegExp(`^/v1/sources/${ID}$`),
    handle: async (deps, _event, { id = "" }) => json(200, sourceView(await loadSource(deps, id))),
  },
  {
    method: "PATCH",
    pattern: new RegExp(`^/v1/sources/${ID}$`),
    handle: async (deps, event, { id = "" }) =>
      json(
        200,
        sourceView(await changeSource(followingOf(deps).sources, id, parseJsonBody(event), new Date())),
      ),
  },
  {
    method: "DELETE",
    pattern: new RegExp(`^/v1/sources/${ID}$`),
    handle: async (deps, _event, { id = "" }) => {
      if (!(await followingOf(deps).sources.deleteSource(id))) {
        throw new NotFoundError("source_not_found", `No source has the id ${id}.`);
      }
      return { statusCode: 204, headers: { "cache-control": "no-store" }, body: "" };
    },
  },
  {
    method: "GET",
    pattern: new RegExp(`^/v1/sources/${ID}/urls$`),
    handle: async (deps, event, { id = "" }) => {
      await loadSource(deps, id);
      const page = await listSourceArticles(
        { sources: followingOf(deps).sources, repository: deps.repository },
        id,
        pageOf(event),
      );
      const items = page.items.map(({ record, sourceId: _sourceId, ...link }) => ({
        ...link,
        archived: record !== null,
        ...(record
          ? {
              title: record.title ?? link.title ?? null,
              captureCount: record.captureCount,
              versionCount: record.versionCount,
              lastCapturedAt: record.lastCapturedAt ?? null,
            }
          : {}),
      }));
      return json(200, { items, ...(page.cursor ? { cursor: page.cursor } : {}) });
    },
  },
];
