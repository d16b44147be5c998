/**
 * Capture validity: whether a capture shows the article (`ok`) or a page standing in its place — a
 * bot `challenge`, a `consent_wall`, a `paywall` teaser, a `soft_404`, an `empty` app shell or an
 * `error_page` — with a `validityReason` a person can read.
 *
 * - classify.ts: the classifier, and the order its detectors are asked in;
 * - vendors.ts: bot-protection vendors' challenge pages (we recognise them, never solve them);
 * - vocabulary.ts: the words and markup of the other walls, in several languages;
 * - history.ts: the URL's previous version as a signal (a wall shares almost nothing with it);
 * - teaser.ts: a teaser against its full text, paragraph by paragraph;
 * - page-text.ts: what the classifier reads of a rendered page.
 *
 * Only `ok` captures make versions and edits; the capture worker applies that in
 * shared/domain/capture/decide-version.ts.
 */
export { retryAfterMs, WALL_RETRY_MAX_MS, WALL_RETRY_MIN_MS, wallRetryAt } from "./backoff.ts";
export { classifyCapture } from "./classify.ts";
export { completesTeaser } from "./teaser.ts";
export type { CaptureSignals, PreviousText, ValidityVerdict } from "./types.ts";
