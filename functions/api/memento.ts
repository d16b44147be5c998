/**
 * Memento (RFC 7089) and the Wayback Machine's availability API over the archive.
 *
 * A memento is every successful capture that stored a snapshot — unchanged re-captures included,
 * since each is a faithful record that the page still read that way at that moment — dated by
 * when the capture finished (the version's `capturedAt`). Removals (404/410) have no snapshot and
 * are no mementos. Memento URIs are `/memento/{YYYYMMDDhhmmss}/{original URL}`; two captures in
 * the same second share a URI, which serves the later one. A shorter timestamp (`/memento/2026/…`)
 * names a period, as on the Wayback Machine, and redirects to the latest memento in it (or the
 * nearest to it).
 *
 * Reads are bounded: captures are read newest first, a TimeGate or memento lookup reads at most
 * `scanCaptures` of them and, for a datetime older than that window, chooses among the URL's
 * versions (each is a memento, and together they hold every text the page ever had). TimeMaps
 * are paged (RFC 7089 §5: "multiple documents that can be gathered by following contained links
 * with a timemap Relation Type"): the first page lists the newest mementos and links to the next,
 * older page.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { urlIdFor } from "../../shared/domain/ids.ts";
import {
  closestMemento,
  formatHttpDate,
  formatMementoTimestamp,
  linkFormat,
  linkHeader,
  type MementoLink,
  type MementoRef,
  mementoInPeriod,
  mementoTimestampPeriod,
  originalUrlCandidates,
  parseHttpDate,
  parseMementoTimestamp,
} from "../../shared/domain/memento.ts";
import type { ArtifactRef, CaptureRecord, UrlRecord, VersionRecord } from "../../shared/domain/model.ts";
import { InvalidRequestError, NotFoundError } from "../../shared/errors.ts";
import { HttpError, header, json } from "../../shared/http/api-gateway.ts";
import { IMMUTABLE, NO_STORE, REVALIDATE, SHORT } from "../../shared/http/cache-control.ts";
import { publicBaseUrl } from "./public-url.ts";
import type { ApiDeps, Route } from "./route-types.ts";

export interface MementoOptions {
  /** Mementos on one TimeMap page. @default 1000 */
  timemapPageSize?: number;
  /** Captures a TimeGate or memento lookup reads before falling back to versions. @default 2000 */
  scanCaptures?: number;
}

interface Memento extends MementoRef {
  snapshot: ArtifactRef;
  httpStatus: number;
}

/**
 * How long before the newest memento a memento may still gain a neighbour: captures are stamped
 * with their own Lambda's clock when they finish, and two clocks can disagree by seconds, so a
 * capture that finishes just after the newest may be stamped just before it. Ten minutes is far
 * beyond any clock skew; those mementos are cached for a minute instead of a year.
 */
const UNSETTLED_WINDOW_MS = 10 * 60 * 1000;

/** Captures read per repository query. */
const QUERY_LIMIT = 100;
/** Repository queries one TimeMap page may make, however many failed captures it meets. */
const MAX_QUERIES_PER_PAGE = 50;
/**
 * Largest snapshot served through the API. A Lambda response is at most 6 MB, measured on the
 * JSON envelope in which the HTML is escaped; headers and escaping need the rest.
 */
const MAX_INLINE_SNAPSHOT_BYTES = 5_000_000;

/**
 * Replays the snapshot with nothing live: no scripts (they were removed at capture, this stops
 * any left over), no requests to the original site or anyone else (resources that were not
 * inlined stay unloaded), and a sandbox that keeps forms and navigation inert.
 */
const SNAPSHOT_CSP =
  "default-src 'none'; img-src data:; style-src 'unsafe-inline' data:; font-src data:; sandbox";

const LINK_FORMAT = "application/link-format";

function mementoOfCapture(capture: CaptureRecord): Memento | null {
  const snapshot = capture.artifacts?.snapshot;
  if (capture.status !== "succeeded" || capture.finishedAt === undefined || !snapshot) return null;
  return { datetime: new Date(capture.finishedAt), snapshot, httpStatus: capture.httpStatus ?? 200 };
}

function mementoOfVersion(version: VersionRecord): Memento | null {
  const snapshot = version.artifacts.snapshot;
  if (version.removed || !snapshot) return null;
  return { datetime: new Date(version.capturedAt), snapshot, httpStatus: version.httpStatus ?? 200 };
}

function newestFirst<T extends MementoRef>(mementos: T[]): T[] {
  return mementos.sort((a, b) => b.datetime.getTime() - a.datetime.getTime());
}

/** The request's query as pairs: on Memento paths it is the archived URL's own query. */
function queryPairs(event: APIGatewayProxyEvent): Array<[string, string]> {
  const multi = event.multiValueQueryStringParameters;
  if (multi)
    return Object.entries(multi).flatMap(([k, values]) =>
      (values ?? []).map((v): [string, string] => [k, v]),
    );
  return Object.entries(event.queryStringParameters ?? {}).flatMap(
    ([k, v]): Array<[string, string]> => (v === undefined ? [] : [[k, v]]),
  );
}

async function findArchivedUrl(deps: ApiDeps, candidates: readonly string[]): Promise<UrlRecord | null> {
  for (const candidate of candidates) {
    const url = await deps.repository.getUrl(urlIdFor(candidate));
    if (url) return url;
  }
  return null;
}

async function requireArchivedUrl(
  deps: ApiDeps,
  rawPath: string,
  event: APIGatewayProxyEvent,
): Promise<UrlRecord> {
  const candidates = originalUrlCandidates(rawPath, queryPairs(event));
  const url = await findArchivedUrl(deps, candidates);
  if (!url) throw new NotFoundError("url_not_found", `${candidates[0]} has not been archived.`);
  return url;
}

/**
 * The URL's mementos around `target` (null: the newest): captures newest first down to the first
 * memento at or before `target` — with `pastTarget`, in a second before `target`'s (one memento
 * past the newest when `target` is null), so the one a response serves has its predecessor too —
 * plus, when `scanCaptures` ran out first, the versions older than what was read (`fellBack`:
 * the neighbours are then partly the versions', and may change as captures age out of the window).
 */
async function mementosNear(
  deps: ApiDeps,
  urlId: string,
  target: Date | null,
  scanCaptures: number,
  options: { pastTarget?: boolean } = {},
): Promise<Memento[] & { fellBack: boolean }> {
  const found: Memento[] = [];
  let cursor: string | undefined;
  let scanned = 0;
  let reached = false;
  do {
    const page = await deps.repository.listCaptures(urlId, {
      limit: Math.min(QUERY_LIMIT, scanCaptures - scanned),
      ...(cursor ? { cursor } : {}),
    });
    scanned += page.items.length;
    for (const capture of page.items) {
      const memento = mementoOfCapture(capture);
      if (memento) found.push(memento);
    }
    cursor = page.cursor;
    reached =
      target === null
        ? found.length > (options.pastTarget ? 1 : 0)
        : options.pastTarget
          ? found.some((m) => m.datetime < startOfSecond(target))
          : found.some((m) => m.datetime <= target);
  } while (!reached && cursor !== undefined && scanned < scanCaptures);
  const fellBack = !reached && cursor !== undefined;
  if (fellBack) {
    const oldestRead = Math.min(...found.map((m) => m.datetime.getTime()));
    for (const version of await deps.repository.listVersions(urlId)) {
      const memento = mementoOfVersion(version);
      if (memento && memento.datetime.getTime() < oldestRead) found.push(memento);
    }
  }
  return Object.assign(newestFirst(found), { fellBack });
}

function startOfSecond(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/** Absolute URIs of the URL's Memento resources. */
function uris(deps: ApiDeps, event: APIGatewayProxyEvent, original: string) {
  const base = publicBaseUrl(deps, event);
  return {
    original,
    timegate: `${base}/timegate/${original}`,
    timemap: `${base}/timemap/link/${original}`,
    timemapPage: (cursor: string) => `${base}/timemap/link/page/${cursor}/${original}`,
    memento: (datetime: Date) => `${base}/memento/${formatMementoTimestamp(datetime)}/${original}`,
  };
}

/**
 * original, timegate, timemap, the first and last mementos, and — around `chosen`, the memento
 * a response is about — the previous and next ones (RFC 7089 §2.2.1), so a client can step
 * through time without the TimeMap. `mementos` is newest first and must reach past `chosen`.
 * `last: false` leaves out the last memento, the one link that moves with every new capture.
 */
function contextLinks(
  u: ReturnType<typeof uris>,
  url: UrlRecord,
  mementos: readonly Memento[],
  options: { timegate: boolean; chosen?: Memento; last?: boolean },
): MementoLink[] {
  const links: MementoLink[] = [{ uri: u.original, rel: "original" }];
  if (options.timegate) links.push({ uri: u.timegate, rel: "timegate" });
  links.push({ uri: u.timemap, rel: "timemap", type: LINK_FORMAT });
  const first = url.firstCapturedAt ? new Date(url.firstCapturedAt) : mementos.at(-1)?.datetime;
  if (first) links.push({ uri: u.memento(first), rel: "first memento", datetime: first });
  const last = mementos[0]?.datetime;
  if (last && options.last !== false)
    links.push({ uri: u.memento(last), rel: "last memento", datetime: last });
  if (options.chosen) {
    // Memento URIs name seconds: the neighbours are the nearest mementos in other seconds.
    const second = formatMementoTimestamp(options.chosen.datetime);
    const next = mementos.findLast((m) => formatMementoTimestamp(m.datetime) > second);
    const prev = mementos.find((m) => formatMementoTimestamp(m.datetime) < second);
    if (prev) links.push({ uri: u.memento(prev.datetime), rel: "prev memento", datetime: prev.datetime });
    if (next) links.push({ uri: u.memento(next.datetime), rel: "next memento", datetime: next.datetime });
  }
  return links;
}

function noMementos(url: UrlRecord): NotFoundError {
  return new NotFoundError("no_mementos", `${url.url} has no successful capture yet.`);
}

/** Mementos of the URL on one TimeMap page, newest first, one per second, and the next page's cursor. */
async function timemapPage(
  deps: ApiDeps,
  urlId: string,
  cursor: string | undefined,
  pageSize: number,
): Promise<{ mementos: Memento[]; next?: string }> {
  const found: Memento[] = [];
  let next = cursor;
  let queries = 0;
  do {
    const page = await deps.repository.listCaptures(urlId, {
      limit: Math.min(QUERY_LIMIT, pageSize - found.length),
      ...(next ? { cursor: next } : {}),
    });
    for (const capture of page.items) {
      const memento = mementoOfCapture(capture);
      if (memento) found.push(memento);
    }
    next = page.cursor;
    queries++;
  } while (next !== undefined && found.length < pageSize && queries < MAX_QUERIES_PER_PAGE);
  const seen = new Set<string>();
  const mementos = newestFirst(found).filter((m) => {
    const key = formatMementoTimestamp(m.datetime);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { mementos, ...(next ? { next } : {}) };
}

/**
 * Serves a memento's snapshot through the API, so the response that carries the archived page
 * also carries `Memento-Datetime` and its `Link`s (RFC 7089 §2.1.1, §4), under a permanent URI.
 * A redirect to the presigned S3 link would hand clients a URI that expires in minutes and a final
 * response without those headers. Only a snapshot too large for a Lambda response is redirected
 * to — with the Memento headers on the redirect, the best that is left.
 */
async function serveSnapshot(
  deps: ApiDeps,
  memento: Memento,
  links: MementoLink[],
  cacheControl: string,
): Promise<APIGatewayProxyResult> {
  const mementoHeaders = {
    "memento-datetime": formatHttpDate(memento.datetime),
    link: linkHeader(links),
  };
  if (memento.snapshot.bytes <= MAX_INLINE_SNAPSHOT_BYTES) {
    const html = new TextDecoder().decode(await deps.blobs.getBlob(memento.snapshot));
    if (Buffer.byteLength(JSON.stringify(html)) <= MAX_INLINE_SNAPSHOT_BYTES) {
      return {
        statusCode: 200,
        headers: {
          "content-type": memento.snapshot.contentType,
          ...mementoHeaders,
          "content-security-policy": SNAPSHOT_CSP,
          "x-content-type-options": "nosniff",
          "referrer-policy": "no-referrer",
          "cache-control": cacheControl,
        },
        body: html,
      };
    }
  }
  const location = await deps.blobs.presignGet(memento.snapshot, {
    expiresInSeconds: deps.presignedUrlTtlSeconds,
    disposition: "inline",
  });
  return { statusCode: 302, headers: { location, ...mementoHeaders, "cache-control": NO_STORE }, body: "" };
}

/** A redirect to a memento: where it leads moves when a newer memento lands, so it is never kept. */
function redirect(location: string, headers: Record<string, string>): APIGatewayProxyResult {
  return { statusCode: 302, headers: { location, "cache-control": REVALIDATE, ...headers }, body: "" };
}

/** The Memento routes; options shrink pages and scans for tests. */
export function createMementoRoutes(options: MementoOptions = {}): Route[] {
  const pageSize = options.timemapPageSize ?? 1000;
  const scanCaptures = options.scanCaptures ?? 2000;
  return [
    {
      method: "GET",
      pattern: /^\/timemap\/link\/(.+)$/,
      public: true,
      handle: async (deps, event, { match }) => {
        const rest = match[1] ?? "";
        const paged = /^page\/([A-Za-z0-9_-]+)\/(.+)$/.exec(rest);
        const cursor = paged?.[1];
        const url = await requireArchivedUrl(deps, paged?.[2] ?? rest, event);
        const page = await timemapPage(deps, url.urlId, cursor, pageSize);
        if (page.mementos.length === 0 && page.next === undefined && cursor === undefined)
          throw noMementos(url);
        const u = uris(deps, event, url.url);
        const oldest = page.mementos.at(-1)?.datetime;
        const newest = page.mementos[0]?.datetime;
        const links: MementoLink[] = [
          { uri: u.original, rel: "original" },
          { uri: u.timegate, rel: "timegate" },
          {
            uri: cursor ? u.timemapPage(cursor) : u.timemap,
            rel: "self",
            type: LINK_FORMAT,
            ...(oldest ? { from: oldest } : {}),
            ...(newest ? { until: newest } : {}),
          },
        ];
        // The older mementos: RFC 7089 §5 lets a TimeMap continue in documents it links with rel="timemap".
        if (page.next) links.push({ uri: u.timemapPage(page.next), rel: "timemap", type: LINK_FORMAT });
        for (const m of [...page.mementos].reverse()) {
          links.push({ uri: u.memento(m.datetime), rel: "memento", datetime: m.datetime });
        }
        if (url.firstCapturedAt) {
          const first = new Date(url.firstCapturedAt);
          links.push({ uri: u.memento(first), rel: "first memento", datetime: first });
        }
        if (cursor === undefined && newest)
          links.push({ uri: u.memento(newest), rel: "last memento", datetime: newest });
        return {
          statusCode: 200,
          headers: { "content-type": LINK_FORMAT, "cache-control": REVALIDATE },
          body: linkFormat(links),
        };
      },
    },
    {
      method: "GET",
      pattern: /^\/timegate\/(.+)$/,
      public: true,
      handle: async (deps, event, { match }) => {
        const url = await requireArchivedUrl(deps, match[1] ?? "", event);
        const asked = header(event, "accept-datetime")?.trim();
        const target = asked ? parseHttpDate(asked) : null;
        if (asked && target === null) {
          throw new HttpError(
            400,
            "invalid_accept_datetime",
            'Accept-Datetime must be an RFC 1123 date, like "Tue, 03 Mar 2026 09:40:00 GMT".',
            { vary: "accept-datetime" },
          );
        }
        const mementos = await mementosNear(deps, url.urlId, target, scanCaptures, { pastTarget: true });
        const chosen = target ? closestMemento(mementos, target) : mementos[0];
        if (!chosen) throw noMementos(url);
        const u = uris(deps, event, url.url);
        const links = [
          ...contextLinks(u, url, mementos, { timegate: false, chosen }),
          { uri: u.memento(chosen.datetime), rel: "memento", datetime: chosen.datetime },
        ];
        return redirect(u.memento(chosen.datetime), { vary: "accept-datetime", link: linkHeader(links) });
      },
    },
    {
      method: "GET",
      pattern: /^\/memento\/([^/]+)\/(.+)$/,
      public: true,
      handle: async (deps, event, { match }) => {
        const timestamp = match[1] ?? "";
        // 14 digits name a second; fewer a longer period, read as the Wayback Machine does.
        const period = mementoTimestampPeriod(timestamp);
        if (period === null) {
          throw new InvalidRequestError(
            "invalid_timestamp",
            `"${timestamp}" is not a memento timestamp; use YYYYMMDDhhmmss in UTC, or a prefix of it from YYYY on.`,
          );
        }
        const url = await requireArchivedUrl(deps, match[2] ?? "", event);
        const at = period.end;
        // Down to the first memento before the period: the nearest one and the served one's
        // predecessor are both read.
        const mementos = await mementosNear(deps, url.urlId, at, scanCaptures, { pastTarget: true });
        const u = uris(deps, event, url.url);
        const exact =
          timestamp.length === 14
            ? mementos.find((m) => formatMementoTimestamp(m.datetime) === timestamp)
            : undefined;
        if (exact) {
          // A memento with a successor in a later second is fixed for good: its snapshot, its
          // datetime, its first/prev/next links. Its last-memento link would move, so it is left
          // out there. The newest memento gains a next link (and another capture in its second
          // would replace it): kept briefly only. So are the mementos near the newest (captures
          // land after the newest only as far as the Lambdas' clocks agree: one finishing a little
          // late may be stamped before it) and any whose neighbours came partly from versions past the
          // capture window (they move as captures age out of it).
          const newestAt = mementos[0]?.datetime ?? exact.datetime;
          const newest = formatMementoTimestamp(newestAt) === timestamp;
          const settled =
            !newest &&
            !mementos.fellBack &&
            newestAt.getTime() - exact.datetime.getTime() >= UNSETTLED_WINDOW_MS;
          return serveSnapshot(
            deps,
            exact,
            contextLinks(u, url, mementos, { timegate: true, chosen: exact, last: newest }),
            settled ? IMMUTABLE : SHORT,
          );
        }
        // Like the Wayback Machine: a time with no memento, or a partial one, leads to the one it names.
        const nearest = mementoInPeriod(mementos, period);
        if (!nearest) throw noMementos(url);
        const links = contextLinks(u, url, mementos, { timegate: true, chosen: nearest });
        return redirect(u.memento(nearest.datetime), { link: linkHeader(links) });
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/available\/?$/,
      public: true,
      handle: async (deps, event) => {
        const query = event.queryStringParameters ?? {};
        const raw = query.url;
        if (raw === undefined || raw.trim() === "") {
          throw new InvalidRequestError("missing_url", "Give the page as ?url=<url>.");
        }
        const stamp = query.timestamp;
        const target =
          stamp === undefined || stamp === "" ? null : parseMementoTimestamp(stamp, { partial: true });
        if (stamp && target === null) {
          throw new InvalidRequestError(
            "invalid_timestamp",
            "timestamp must be 4 to 14 digits, YYYYMMDDhhmmss in UTC.",
          );
        }
        const answer = (snapshots: Record<string, unknown>) =>
          json(200, { url: raw, ...(stamp ? { timestamp: stamp } : {}), archived_snapshots: snapshots });
        const url = await findArchivedUrl(deps, originalUrlCandidates(raw, []));
        if (!url) return answer({});
        const mementos = await mementosNear(deps, url.urlId, target, scanCaptures);
        const closest = target ? closestMemento(mementos, target) : mementos[0];
        if (!closest) return answer({});
        return answer({
          closest: {
            available: true,
            url: uris(deps, event, url.url).memento(closest.datetime),
            timestamp: formatMementoTimestamp(closest.datetime),
            status: String(closest.httpStatus),
          },
        });
      },
    },
  ];
}

/** The Memento routes with production page sizes. */
export const MEMENTO_ROUTES: readonly Route[] = createMementoRoutes();
