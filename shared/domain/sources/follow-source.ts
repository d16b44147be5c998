/**
 * Following a source (`POST /v1/sources`): the URL passes the submit-time URL guard, is fetched at
 * once through the guarded fetcher to learn what it is (feed, sitemap, or an HTML page — whose
 * `<link rel="alternate">` feed is followed instead, or whose links matching `linkPattern` are;
 * see sniff-document.ts: its entries are read by the first poll, queued here),
 * and is stored with its first poll queued. Errors: 400 for the request and the URL guard, 422
 * `not_a_feed` for a document that cannot be followed, 422 with the fetch's code when it cannot be
 * read, 409 `source_exists` when the URL is followed already.
 */
import { FetchError, InvalidRequestError } from "../../errors.ts";
import type { HttpFetcher, PollQueue, ResolveHost, SourceRepository } from "../../ports.ts";
import { newUlid } from "../ids.ts";
import type { RecapturePolicy } from "../model.ts";
import { parseRecapturePolicy } from "../recapture.ts";
import { checkSubmittedUrl, normaliseUrl } from "../url.ts";
import { checkLinkPattern } from "./check-link-pattern.ts";
import { preferredAlternate } from "./html-document.ts";
import {
  DEFAULT_POLL_MINUTES,
  MAX_POLL_MINUTES,
  MIN_POLL_MINUTES,
  type SourceKind,
  type SourceRecord,
} from "./model.ts";
import { type SniffedDocument, sniffSourceDocument } from "./sniff-document.ts";

/** Largest a gzipped document may inflate to when it is sniffed (the poll reads it whole, capped the same). */
const MAX_INFLATED_BYTES = 50 * 1024 * 1024;

export interface FollowSourceDeps {
  sources: SourceRepository;
  fetcher: HttpFetcher;
  pollQueue: PollQueue;
  resolveHost: ResolveHost;
  allowedPrivateHosts: ReadonlySet<string>;
  now?: () => Date;
}

/** How long a new source stays off the sweep while its first poll (queued at once) runs. */
export const FIRST_POLL_LEASE_MS = 15 * 60_000;

/** The source's identity is random: a URL followed, removed and followed again is a new source. */
export function newSourceId(now: Date): string {
  return `src_${newUlid(now)}`;
}

/** The source already exists: a 409 that names it. */
export class SourceExistsError extends InvalidRequestError {
  readonly sourceId: string;
  constructor(sourceId: string) {
    super("source_exists", `This URL is followed already, as ${sourceId}.`, { status: 409 });
    this.sourceId = sourceId;
  }
}

const KINDS: readonly SourceKind[] = ["feed", "sitemap", "page"];

export function parsePollEveryMinutes(input: unknown): number {
  if (input === undefined) return DEFAULT_POLL_MINUTES;
  if (
    typeof input !== "number" ||
    !Number.isInteger(input) ||
    input < MIN_POLL_MINUTES ||
    input > MAX_POLL_MINUTES
  ) {
    throw new InvalidRequestError(
      "invalid_poll_interval",
      `pollEveryMinutes must be a whole number from ${MIN_POLL_MINUTES} to ${MAX_POLL_MINUTES}.`,
    );
  }
  return input;
}

export interface FollowRequest {
  url: URL;
  kind?: SourceKind;
  linkPattern?: string;
  pollEveryMinutes: number;
  recapture: RecapturePolicy;
}

const FIELDS = new Set(["url", "kind", "linkPattern", "pollEveryMinutes", "recapture"]);

/** Validates a follow request's fields (the URL guard included). Throws InvalidRequestError. */
export async function parseFollowRequest(deps: FollowSourceDeps, body: unknown): Promise<FollowRequest> {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new InvalidRequestError(
      "invalid_body",
      'The request body must be a JSON object like {"url": "https://…"}.',
    );
  }
  const unknownField = Object.keys(body).find((key) => !FIELDS.has(key));
  if (unknownField !== undefined) {
    throw new InvalidRequestError("unknown_field", `The field "${unknownField}" is not part of a source.`);
  }
  const fields = body as Record<string, unknown>;
  if (fields.url === undefined) throw new InvalidRequestError("missing_url", 'The request needs a "url".');
  if (fields.kind !== undefined && !KINDS.includes(fields.kind as SourceKind)) {
    throw new InvalidRequestError("invalid_kind", 'kind must be "feed", "sitemap" or "page".');
  }
  if (fields.linkPattern !== undefined) checkLinkPattern(fields.linkPattern);
  if (fields.kind === "page" && fields.linkPattern === undefined) {
    throw new InvalidRequestError("missing_link_pattern", 'A source of kind "page" needs a "linkPattern".');
  }
  const pollEveryMinutes = parsePollEveryMinutes(fields.pollEveryMinutes);
  const recapture = parseRecapturePolicy(fields.recapture);
  const url = await checkSubmittedUrl(fields.url, {
    resolveHost: deps.resolveHost,
    allowedPrivateHosts: deps.allowedPrivateHosts,
  });
  return {
    url,
    pollEveryMinutes,
    recapture,
    ...(fields.kind !== undefined ? { kind: fields.kind as SourceKind } : {}),
    ...(fields.linkPattern !== undefined ? { linkPattern: fields.linkPattern as string } : {}),
  };
}

/** A fetch that failed at creation is the caller's to know about: 422 with the fetch's code. */
async function fetchDocument(
  deps: FollowSourceDeps,
  url: string,
): Promise<{ document: SniffedDocument | null; finalUrl: string }> {
  try {
    const result = await deps.fetcher.fetch(url);
    if (result.notModified)
      throw new FetchError("http_error", "The server answered 304 to a plain GET.", { httpStatus: 304 });
    return {
      document: sniffSourceDocument(result.body, result.finalUrl, {
        contentType: result.contentType,
        maxInflatedBytes: MAX_INFLATED_BYTES,
      }),
      finalUrl: result.finalUrl,
    };
  } catch (err) {
    if (err instanceof FetchError)
      throw new InvalidRequestError(err.code, err.message, { cause: err, status: 422 });
    throw err;
  }
}

const notAFeed = (message: string) => new InvalidRequestError("not_a_feed", message, { status: 422 });

/** What to poll, as detected: the URL (a page's feed, maybe), its kind, format and title. */
async function detect(
  deps: FollowSourceDeps,
  request: FollowRequest,
): Promise<Pick<SourceRecord, "url" | "kind" | "format" | "title" | "discoveredFrom">> {
  const submitted = normaliseUrl(request.url);
  const { document } = await fetchDocument(deps, submitted);
  if (document === null) throw notAFeed("The URL is not a feed, a sitemap or an HTML page.");
  const found = { url: submitted, format: document.format, title: document.title };
  if (document.kind !== "page") {
    if (request.kind !== undefined && request.kind !== document.kind) {
      throw new InvalidRequestError(
        "kind_mismatch",
        `The URL is a ${document.kind}, not a ${request.kind}.`,
        {
          status: 422,
        },
      );
    }
    return { ...found, kind: document.kind };
  }
  // An HTML page: its own feed if it names one (unless asked to read the page itself).
  const alternate = request.kind === "page" ? undefined : preferredAlternate(document.alternates);
  if (alternate) {
    const feedUrl = normaliseUrl(alternate.url);
    const feed = await fetchDocument(deps, feedUrl).catch((err: unknown) => {
      if (request.linkPattern !== undefined) return null; // the page itself, then
      throw err;
    });
    if (feed?.document && feed.document.kind !== "page") {
      return {
        url: feedUrl,
        kind: feed.document.kind,
        format: feed.document.format,
        title: feed.document.title ?? document.title,
        discoveredFrom: submitted,
      };
    }
    if (request.linkPattern === undefined) throw notAFeed(`The page's feed (${feedUrl}) is not a feed.`);
  }
  if (request.kind !== undefined && request.kind !== "page") {
    throw new InvalidRequestError("kind_mismatch", `The URL is an HTML page, not a ${request.kind}.`, {
      status: 422,
    });
  }
  if (request.linkPattern === undefined) {
    throw notAFeed(
      'The page names no feed; follow it as a page with a "linkPattern" that matches its article links.',
    );
  }
  return { ...found, kind: "page" };
}

/** Follows the URL; resolves with the stored source, its first poll queued. */
export async function followSource(deps: FollowSourceDeps, body: unknown): Promise<SourceRecord> {
  const request = await parseFollowRequest(deps, body);
  const detected = await detect(deps, request);
  const now = (deps.now ?? (() => new Date()))();
  const source: SourceRecord = {
    sourceId: newSourceId(now),
    ...detected,
    ...(detected.discoveredFrom === undefined ? {} : { discoveredFrom: detected.discoveredFrom }),
    ...(request.linkPattern === undefined ? {} : { linkPattern: request.linkPattern }),
    pollEveryMinutes: request.pollEveryMinutes,
    recapture: request.recapture,
    paused: false,
    createdAt: now.toISOString(),
    articleCount: 0,
    // Off the sweep while the first poll, queued below, runs; if the message is lost it comes due.
    nextPollAt: new Date(now.getTime() + FIRST_POLL_LEASE_MS).toISOString(),
  };
  return storeAndPoll(deps, source);
}

/** Stores a new source and queues its first poll. Throws SourceExistsError. */
export async function storeAndPoll(
  deps: Pick<FollowSourceDeps, "sources" | "pollQueue">,
  source: SourceRecord,
): Promise<SourceRecord> {
  const created = await deps.sources.createSource(source);
  if (!created.created) throw new SourceExistsError(created.existingSourceId);
  const lease = source.nextPollAt;
  await deps.pollQueue
    .enqueue({ kind: "poll", sourceId: source.sourceId, ...(lease ? { lease } : {}) })
    .catch(() => {
      // The lease above runs out and the sweep polls it; nothing to undo.
    });
  return source;
}
