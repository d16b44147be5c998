/**
 * Date normalisation for page metadata. Values with a known offset become UTC ISO 8601
 * (`2025-09-04T14:00:00.000Z`); a date alone stays a date (`2025-09-04`); a date-time without an
 * offset keeps its wall-clock time without one (inventing a zone would be wrong). Nothing
 * depends on the machine's time zone.
 */

const ISO =
  /^(\d{4})-?(\d{2})-?(\d{2})(?:[T\s]+(\d{1,2}):?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?\s*(z|utc|gmt|[+-]\d{2}(?::?\d{2})?)?)?$/i;
// "Thu, 04 Sep 2025 10:00:00 GMT", "4 September 2025", "4 Sep 2025 10:00 +0100"
const DAY_MONTH_YEAR =
  /^(?:[a-z]+,?\s+)?(\d{1,2})(?:st|nd|rd|th)?\.?\s+([a-z]+)\.?,?\s+(\d{4})(?:,?\s+(?:at\s+)?(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?\s*(z|utc|gmt|[+-]\d{2}:?\d{2})?)?$/i;
// "September 4, 2025", "Sep. 4, 2025 10:00 AM", "Thursday, September 4, 2025"
const MONTH_DAY_YEAR =
  /^(?:[a-z]+,?\s+)?([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})(?:,?\s+(?:at\s+)?(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?\s*(z|utc|gmt|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * Normalises a date string from page metadata to ISO 8601, or returns the trimmed original when
 * it cannot be read (it is still evidence of what the page declared); null when empty.
 */
export function normaliseDate(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  const value = raw.trim().replace(/\s+/g, " ");
  if (value === "") return null;
  return parseDate(value) ?? (value.length <= 64 ? value : null);
}

/** The ISO 8601 form of `value`, or null when it is not a date this module can read. */
export function parseDate(value: string): string | null {
  if (/^\d{10}(?:\d{3})?$/.test(value)) {
    const ms = value.length === 10 ? Number(value) * 1000 : Number(value);
    const date = new Date(ms);
    const year = date.getUTCFullYear();
    return year >= 1990 && year <= 2100 ? date.toISOString() : null;
  }
  const iso = ISO.exec(value);
  if (iso !== null) {
    const [, y, mo, d, h, mi, s, frac, zone] = iso;
    return compose(Number(y), Number(mo), Number(d), h, mi, s, frac, zone);
  }
  const dmy = DAY_MONTH_YEAR.exec(value);
  if (dmy !== null) {
    const [, d, monthName, y, h, mi, s, ampm, zone] = dmy;
    const month = monthNumber(monthName);
    if (month === null) return null;
    return compose(Number(y), month, Number(d), to24h(h, ampm), mi, s, undefined, zone);
  }
  const mdy = MONTH_DAY_YEAR.exec(value);
  if (mdy !== null) {
    const [, monthName, d, y, h, mi, s, ampm, zone] = mdy;
    const month = monthNumber(monthName);
    if (month === null) return null;
    return compose(Number(y), month, Number(d), to24h(h, ampm), mi, s, undefined, zone);
  }
  return null;
}

const MONTH_NAMES = [
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
];

/** 1-12 for an English month name or its abbreviation ("Sep", "Sept", "September"). */
function monthNumber(name: string | undefined): number | null {
  if (name === undefined || name.length < 3) return null;
  const key = name.toLowerCase();
  const index = MONTH_NAMES.findIndex((full) => full.startsWith(key));
  return index === -1 ? null : index + 1;
}

function to24h(hour: string | undefined, ampm: string | undefined): string | undefined {
  if (hour === undefined || ampm === undefined) return hour;
  let h = Number(hour) % 12;
  if (ampm.toLowerCase().startsWith("p")) h += 12;
  return String(h);
}

function compose(
  year: number,
  month: number,
  day: number,
  hour: string | undefined,
  minute: string | undefined,
  second: string | undefined,
  fraction: string | undefined,
  zone: string | undefined,
): string | null {
  if (year < 1990 || year > 2100 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month))
    return null;
  const date = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
  if (hour === undefined || minute === undefined) return date;
  const h = Number(hour);
  const mi = Number(minute);
  const s = second === undefined ? 0 : Number(second);
  if (h > 23 || mi > 59 || s > 60) return null;
  const ms = fraction === undefined ? 0 : Math.floor(Number(`0.${fraction}`) * 1000);
  if (zone === undefined) return `${date}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}`;
  const offsetMinutes = parseOffset(zone);
  if (offsetMinutes === null) return null;
  const utc = Date.UTC(year, month - 1, day, h, mi, s, ms) - offsetMinutes * 60_000;
  return new Date(utc).toISOString();
}

function parseOffset(zone: string): number | null {
  const z = zone.toLowerCase();
  if (z === "z" || z === "utc" || z === "gmt") return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(z);
  if (m === null) return null;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  if (minutes > 14 * 60) return null;
  return m[1] === "-" ? -minutes : minutes;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}
