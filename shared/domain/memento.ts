/**
 * Memento (RFC 7089) without I/O: HTTP dates, the 14-digit timestamps of memento URIs, the
 * link-format serialisation of TimeMaps and Link headers, choosing the memento closest to a
 * datetime, and reading an original URL out of a request path the way web archives spell it.
 */
import { InvalidUrlError } from "../errors.ts";
import { normaliseUrl, parseSubmittedUrl } from "./url.ts";

/** An archived state of a page: when it was captured, and enough to find its snapshot. */
export interface MementoRef {
  datetime: Date;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** RFC 1123 (the IMF-fixdate of RFC 9110), e.g. `Tue, 03 Mar 2026 09:40:00 GMT`. */
export function formatHttpDate(date: Date): string {
  return date.toUTCString();
}

const HTTP_DATE =
  /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2}):(\d{2})\s+GMT$/;

/**
 * Parses an `Accept-Datetime` value (RFC 1123, always GMT). The weekday is optional and not
 * checked against the date, as clients get it wrong more often than the date. Null when the
 * value is not such a date.
 */
export function parseHttpDate(text: string): Date | null {
  const match = HTTP_DATE.exec(text.trim());
  if (!match) return null;
  const [, day, monthName, year, hour, minute, second] = match;
  const month = MONTHS.findIndex((m) => m.toLowerCase() === monthName?.toLowerCase());
  if (month < 0) return null;
  return dateFromParts(Number(year), month, Number(day), Number(hour), Number(minute), Number(second));
}

function dateFromParts(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
) {
  const date = new Date(Date.UTC(year, month, day, hour, minute, second));
  // Date.UTC rolls 31 Feb over into March; a date that does not round-trip was not a date.
  const valid =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  return valid ? date : null;
}

/** The `YYYYMMDDhhmmss` of a memento URI, in UTC. */
export function formatMementoTimestamp(date: Date): string {
  return date.toISOString().slice(0, 19).replace(/[-T:]/g, "");
}

/**
 * Parses a memento URI timestamp. `partial` accepts 4 to 14 digits the way the Wayback Machine
 * does (`2026` is the start of 2026, `202603` the start of March); otherwise exactly 14 digits.
 * Null when the digits are not a date.
 */
export function parseMementoTimestamp(text: string, options: { partial?: boolean } = {}): Date | null {
  const pattern = options.partial ? /^\d{4,14}$/ : /^\d{14}$/;
  if (!pattern.test(text)) return null;
  // Each missing digit as low as it can be ("20261" is October, "2026021" the 10th), a month or
  // day left at 00 by the padding being the 1st; an explicit 00 stays invalid.
  const full = text.padEnd(14, "0");
  const part = (from: number, to: number) => Number(full.slice(from, to));
  const month = text.length < 6 ? Math.max(1, part(4, 6)) : part(4, 6);
  const day = text.length < 8 ? Math.max(1, part(6, 8)) : part(6, 8);
  return dateFromParts(part(0, 4), month - 1, day, part(8, 10), part(10, 12), part(12, 14));
}

/**
 * The period a partial memento timestamp names, as the Wayback Machine reads `/web/{ts}/{url}`:
 * 4 to 14 digits are a prefix of `YYYYMMDDhhmmss` (`2026` is the year, `202603` March, `2026031`
 * the 10th to the 19th), from its first second to its last. Null when the digits cannot begin a
 * date (month 13, 30 February). See {@link mementoInPeriod} for the memento it leads to.
 */
export function mementoTimestampPeriod(text: string): { start: Date; end: Date } | null {
  if (!/^\d{4,14}$/.test(text)) return null;
  const start = parseMementoTimestamp(text, { partial: true });
  if (start === null) return null;
  // Each missing digit as high as it can be, then every field down to its largest valid value.
  const high = text + "99999999999999".slice(text.length);
  const part = (from: number, to: number) => Number(high.slice(from, to));
  const year = part(0, 4);
  const month = Math.min(12, part(4, 6));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const end = dateFromParts(
    year,
    month - 1,
    Math.min(daysInMonth, part(6, 8)),
    Math.min(23, part(8, 10)),
    Math.min(59, part(10, 12)),
    Math.min(59, part(12, 14)),
  );
  return end === null || end < start ? null : { start, end };
}

/**
 * The memento a period names: the latest one inside it (the page as it stood at the period's end,
 * which is where Wayback-style archives such as pywb pad a short timestamp to), else the one
 * nearest the period from outside; on a tie the earlier. Null for an empty list.
 */
export function mementoInPeriod<T extends MementoRef>(
  mementos: readonly T[],
  period: { start: Date; end: Date },
): T | null {
  const start = period.start.getTime();
  // The whole last second belongs to the period (memento times keep milliseconds).
  const end = period.end.getTime() + 999;
  let best: T | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const memento of mementos) {
    const time = memento.datetime.getTime();
    // Inside, later is better; outside, nearer is.
    const distance = time < start ? start - time : time > end ? time - end : -time;
    const earlierOnTie = distance === bestDistance && best !== null && memento.datetime < best.datetime;
    if (distance < bestDistance || earlierOnTie) {
      best = memento;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * The memento closest in time to `target`; on a tie the earlier one, which is what the page
 * looked like at the moment asked about. Null for an empty list.
 */
export function closestMemento<T extends MementoRef>(mementos: readonly T[], target: Date): T | null {
  let best: T | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const memento of mementos) {
    const distance = Math.abs(memento.datetime.getTime() - target.getTime());
    const earlierOnTie = distance === bestDistance && best !== null && memento.datetime < best.datetime;
    if (distance < bestDistance || earlierOnTie) {
      best = memento;
      bestDistance = distance;
    }
  }
  return best;
}

/** One link of a TimeMap or a `Link` header. */
export interface MementoLink {
  uri: string;
  /** Space-separated relation types, e.g. `first memento`. */
  rel: string;
  type?: string;
  datetime?: Date;
  from?: Date;
  until?: Date;
}

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, "\\$&")}"`;
}

function serialiseLink(link: MementoLink): string {
  const params = [`rel=${quoted(link.rel)}`];
  if (link.type) params.push(`type=${quoted(link.type)}`);
  if (link.datetime) params.push(`datetime=${quoted(formatHttpDate(link.datetime))}`);
  if (link.from) params.push(`from=${quoted(formatHttpDate(link.from))}`);
  if (link.until) params.push(`until=${quoted(formatHttpDate(link.until))}`);
  // `<` and `>` cannot occur in a URI reference, but a hostile path could try.
  return `<${link.uri.replace(/[<>\s]/g, encodeURIComponent)}>; ${params.join("; ")}`;
}

/**
 * Joins links that point to the same URI into one with all their relation types (RFC 7089
 * writes `rel="first memento"`), keeping the order in which URIs first appear.
 */
export function mergeLinks(links: readonly MementoLink[]): MementoLink[] {
  const byUri = new Map<string, MementoLink>();
  for (const link of links) {
    const seen = byUri.get(link.uri);
    if (!seen) {
      byUri.set(link.uri, { ...link });
      continue;
    }
    const rels = new Set([...seen.rel.split(" "), ...link.rel.split(" ")]);
    // "memento" last reads as RFC 7089's examples do: rel="first last memento".
    const ordered = [...rels].sort((a, b) => Number(a === "memento") - Number(b === "memento"));
    byUri.set(link.uri, { ...link, ...seen, rel: ordered.join(" ") });
  }
  return [...byUri.values()];
}

/** The value of a `Link` header. */
export function linkHeader(links: readonly MementoLink[]): string {
  return mergeLinks(links).map(serialiseLink).join(", ");
}

/** An `application/link-format` body (RFC 6690): one link a line, as RFC 7089's TimeMaps are. */
export function linkFormat(links: readonly MementoLink[]): string {
  return `${mergeLinks(links).map(serialiseLink).join(",\n")}\n`;
}

/**
 * The archived page a Memento path names, as normalised URL candidates to look up (one, or two
 * for a URL given without a scheme: https first, then http).
 *
 * Web archives take the original URL raw after the prefix (`/timegate/https://example.com/a?b=1`),
 * and clients and proxies mangle it in predictable ways, all undone here: the whole URL
 * percent-encoded (`https%3A%2F%2F…`), `//` after the scheme collapsed to `/` by path
 * normalisation, the scheme left out, and the URL's own query split off into the request's
 * query string (`queryPairs`).
 */
export function originalUrlCandidates(
  rawPath: string,
  queryPairs: ReadonlyArray<readonly [string, string]>,
): string[] {
  let text = rawPath.trim();
  if (/^[a-z][a-z0-9+.-]*%3a/i.test(text)) {
    try {
      text = decodeURIComponent(text);
    } catch (cause) {
      throw new InvalidUrlError(
        "invalid_url",
        "The archived URL in the path is not validly percent-encoded.",
        {
          cause,
        },
      );
    }
  }
  text = text.replace(/^(https?):\/*/i, "$1://");
  if (!text.includes("?") && queryPairs.length > 0) {
    text += `?${new URLSearchParams(queryPairs.map(([k, v]) => [k, v])).toString()}`;
  }
  const hasScheme = /^[a-z][a-z0-9+.-]*:/i.test(text) && !/^[^/?#]+:\d+(?:[/?#]|$)/.test(text);
  if (hasScheme) return [normaliseUrl(parseSubmittedUrl(text))];
  const candidates: string[] = [];
  let firstError: unknown;
  for (const scheme of ["https://", "http://"]) {
    try {
      candidates.push(normaliseUrl(parseSubmittedUrl(scheme + text)));
    } catch (err) {
      firstError ??= err;
    }
  }
  if (candidates.length === 0) throw firstError;
  return candidates;
}
