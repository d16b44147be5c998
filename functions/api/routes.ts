/**
 * The v1 routes: each parses its input, calls the domain and maps the result. Kept apart from
 * handler.ts so the local runner and tests wire the same routes with their own adapters.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { diffArticles, summariseEdit } from "../../shared/domain/diff/index.ts";
import { urlIdFor } from "../../shared/domain/ids.ts";
import type { CaptureRecord } from "../../shared/domain/model.ts";
import { loadArticle } from "../../shared/domain/read/stored-article.ts";
import { captureView, urlView } from "../../shared/domain/read/views.ts";
import { parseRecapturePolicy } from "../../shared/domain/recapture.ts";
import { nextCaptureTime } from "../../shared/domain/schedule.ts";
import { submitCapture } from "../../shared/domain/submit-capture.ts";
import { normaliseUrl, parseSubmittedUrl } from "../../shared/domain/url.ts";
import { InvalidRequestError, NotFoundError } from "../../shared/errors.ts";
import { errorResponse, HttpError, header, json, parseJsonBody } from "../../shared/http/api-gateway.ts";
import type { Page } from "../../shared/ports.ts";
import { withGuardedCursors } from "./cursor-guard.ts";
import { FEED_ROUTES } from "./feeds.ts";
import { MEMENTO_ROUTES } from "./memento.ts";
import { NOISE_RULE_ROUTES } from "./noise-rules.ts";
import type { ApiDeps, Route } from "./route-types.ts";
import { sameSecret } from "./secrets.ts";
import { SIGNING_KEY_ROUTES } from "./signing-key.ts";
import { SOURCE_ROUTES } from "./sources.ts";
import { WEB_UI_ROUTES } from "./web-ui/routes.ts";

const ID = "([A-Za-z0-9_-]{1,64})";

const coreRoutes: Route[] = [
  {
    method: "POST",
    pattern: /^\/v1\/captures\/?$/,
    handle: async (deps, event) => {
      const submitted = await submitCapture(deps, parseJsonBody(event));
      return json(202, submitted, { location: `/v1/captures/${submitted.captureId}` });
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/captures\/?$/,
    handle: async (deps, event) => {
      return capturePage(deps, (page) => deps.repository.listRecentCaptures(page), event);
    },
  },
  {
    method: "GET",
    pattern: new RegExp(`^/v1/captures/${ID}$`),
    handle: async (deps, _event, { id = "" }) => {
      const capture = await deps.repository.getCapture(id);
      if (!capture) throw new NotFoundError("capture_not_found", `No capture has the id ${id}.`);
      const version = capture.versionId
        ? await deps.repository.getVersion(capture.urlId, capture.versionId)
        : null;
      return json(200, await captureView(capture, deps.blobs, deps.presignedUrlTtlSeconds, version));
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/urls\/?$/,
    handle: async (deps, event) => {
      const raw = event.queryStringParameters?.url;
      if (raw === undefined) throw new InvalidRequestError("missing_url", "Give the page as ?url=<url>.");
      return urlResponse(deps, urlIdFor(normaliseUrl(parseSubmittedUrl(raw))));
    },
  },
  {
    method: "GET",
    pattern: new RegExp(`^/v1/urls/${ID}$`),
    handle: async (deps, _event, { id = "" }) => urlResponse(deps, id),
  },
  {
    method: "PATCH",
    pattern: new RegExp(`^/v1/urls/${ID}$`),
    handle: async (deps, event, { id = "" }) => {
      const body = parseJsonBody(event);
      if (body === null || typeof body !== "object" || Array.isArray(body)) {
        throw new InvalidRequestError(
          "invalid_body",
          'The body must be a JSON object like {"recapture": "off"}.',
        );
      }
      const unknownField = Object.keys(body).find((key) => key !== "recapture");
      if (unknownField !== undefined) {
        throw new InvalidRequestError("unknown_field", `The field "${unknownField}" cannot be changed.`);
      }
      if (!("recapture" in body))
        throw new InvalidRequestError("missing_recapture", 'Give "recapture" to change it.');
      const policy = parseRecapturePolicy((body as { recapture: unknown }).recapture);
      const url = await deps.repository.getUrl(id);
      if (!url) throw new NotFoundError("url_not_found", `No archived URL has the id ${id}.`);
      const now = new Date();
      // A URL whose first capture is still running is scheduled when that capture ends.
      const next =
        url.lastCapturedAt === undefined
          ? null
          : nextCaptureTime({
              policy,
              lastChangedAt: new Date(url.lastChangedAt ?? url.firstCapturedAt ?? now.toISOString()),
              now,
              ...(deps.cadence ? { cadence: deps.cadence } : {}),
            });
      const updated = await deps.repository.setRecapture(id, policy, next?.toISOString() ?? null);
      if (!updated) throw new NotFoundError("url_not_found", `No archived URL has the id ${id}.`);
      return json(200, urlView(updated, await deps.repository.listVersions(id)));
    },
  },
  {
    method: "GET",
    pattern: new RegExp(`^/v1/urls/${ID}/captures$`),
    handle: async (deps, event, { id = "" }) => {
      const url = await deps.repository.getUrl(id);
      if (!url) throw new NotFoundError("url_not_found", `No archived URL has the id ${id}.`);
      return capturePage(deps, (page) => deps.repository.listCaptures(id, page), event);
    },
  },
  {
    method: "GET",
    pattern: new RegExp(`^/v1/urls/${ID}/diff$`),
    handle: async (deps, event, { id = "" }) =>
      json(200, await diffVersions(deps, id, event.queryStringParameters ?? {})),
  },
  {
    method: "GET",
    pattern: /^\/v1\/edits\/?$/,
    handle: async (deps, event) => {
      const page = await deps.repository.listEdits({
        limit: parseLimit(event.queryStringParameters?.limit),
        cursor: event.queryStringParameters?.cursor,
      });
      return json(200, { items: page.items, ...(page.cursor ? { cursor: page.cursor } : {}) });
    },
  },
];

/**
 * The diff between two versions of a URL, computed from their stored articles. `to` defaults to
 * the latest version and `from` to the version before `to`.
 */
async function diffVersions(deps: ApiDeps, urlId: string, query: Record<string, string | undefined>) {
  const url = await deps.repository.getUrl(urlId);
  if (!url) throw new NotFoundError("url_not_found", `No archived URL has the id ${urlId}.`);
  const toId = query.to ?? url.latestVersionId;
  if (toId === undefined) throw new NotFoundError("version_not_found", "This URL has no versions yet.");
  const to = await deps.repository.getVersion(urlId, toId);
  if (!to) throw new NotFoundError("version_not_found", `The URL has no version ${toId}.`);
  const fromId = query.from ?? to.previousVersionId;
  if (fromId === undefined) {
    throw new InvalidRequestError(
      "no_previous_version",
      `${toId} is the first version; give ?from= to compare.`,
    );
  }
  const from = await deps.repository.getVersion(urlId, fromId);
  if (!from) throw new NotFoundError("version_not_found", `The URL has no version ${fromId}.`);
  const [before, after, noiseRules] = await Promise.all([
    loadArticle(deps.blobs, from),
    loadArticle(deps.blobs, to),
    deps.repository.noiseRulesForUrl?.(urlId),
  ]);
  const diff = diffArticles(before, after);
  return {
    // The rules in force now (see noise-rules.ts), so a reader knows what the archive ignores.
    ...(noiseRules && noiseRules.from.length > 0 ? { noiseRules } : {}),
    urlId,
    from: from.versionId,
    to: to.versionId,
    fromCapturedAt: from.capturedAt,
    toCapturedAt: to.capturedAt,
    ...(diff.edit ?? { significance: "none", kinds: [], stealth: false }),
    summary: summariseEdit(diff.edit, diff.changes),
    changes: diff.changes,
    html: diff.html,
  };
}

async function urlResponse(deps: ApiDeps, urlId: string): Promise<APIGatewayProxyResult> {
  const url = await deps.repository.getUrl(urlId);
  if (!url) throw new NotFoundError("url_not_found", "That URL has not been archived.");
  return json(200, urlView(url, await deps.repository.listVersions(urlId)));
}

/** A page of captures as the API shows them, with presigned links and the next cursor. */
async function capturePage(
  deps: ApiDeps,
  list: (page: { limit: number; cursor?: string }) => Promise<Page<CaptureRecord>>,
  event: APIGatewayProxyEvent,
): Promise<APIGatewayProxyResult> {
  const cursor = event.queryStringParameters?.cursor;
  const page = await list({
    limit: parseLimit(event.queryStringParameters?.limit),
    ...(cursor ? { cursor } : {}),
  });
  const items = await Promise.all(
    page.items.map((c) => captureView(c, deps.blobs, deps.presignedUrlTtlSeconds)),
  );
  return json(200, { items, ...(page.cursor ? { cursor: page.cursor } : {}) });
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return 20;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new InvalidRequestError("invalid_limit", "limit must be a whole number from 1 to 100.");
  }
  return limit;
}

/** Every route the API answers, in matching order. */
// Feeds and Memento first: `/v1/edits.atom` must never reach a JSON route's pattern.
export const ROUTES: readonly Route[] = [
  ...FEED_ROUTES,
  ...MEMENTO_ROUTES,
  ...coreRoutes,
  ...NOISE_RULE_ROUTES,
  ...SIGNING_KEY_ROUTES,
  ...SOURCE_ROUTES,
  ...WEB_UI_ROUTES,
];

export async function routeRequest(
  given: ApiDeps,
  event: APIGatewayProxyEvent,
): Promise<APIGatewayProxyResult> {
  const deps = withGuardedCursors(given);
  const path = event.path;
  const allowed: string[] = [];
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    // HEAD is answered like GET (API Gateway and clients drop the body).
    const method = event.httpMethod === "HEAD" ? "GET" : event.httpMethod;
    if (route.method !== method) {
      allowed.push(route.method);
      continue;
    }
    if (!route.public && deps.apiKey !== undefined && !sameSecret(header(event, "x-api-key"), deps.apiKey)) {
      throw new HttpError(401, "unauthorized", "A valid API key is required in the x-api-key header.");
    }
    return route.handle(deps, event, { id: match[1] ?? "", match });
  }
  if (allowed.length > 0) {
    return errorResponse(405, "method_not_allowed", `Use ${allowed.join(" or ")} on ${path}.`, {
      allow: allowed.join(", "),
    });
  }
  return errorResponse(404, "not_found", `There is nothing at ${path}.`);
}
