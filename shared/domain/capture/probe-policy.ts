/**
 * The HTTP probe's decisions, pure: what a browser capture learns for later probes, whether a
 * scheduled recapture may be probed, and whether what the probe fetched vouches for an unchanged
 * page. Any doubt declines, and the browser captures the page as it always did: a probe may only
 * ever save a browser capture, never decide anything a browser capture would decide otherwise.
 *
 * Why a page must be "server-rendered for our purpose" first: a probe reads the HTML the server
 * sends, a browser capture the page after its scripts ran. Only where the two yield the same
 * article (same extractor, same noise rules, same normalisation: article-text.ts) does an
 * unchanged server HTML mean an unchanged article. A page whose scripts write the article, or swap
 * its text from inline data, yields another article from its raw HTML and is never probed.
 *
 * What a script might change later, after a browser capture found raw and rendered alike, a probe
 * cannot see: that is why a URL still gets a browser capture every `browserEvery`th recapture and
 * whenever its last one is older than `browserMaxAgeMs` (see README "Recaptures without a browser").
 */
import { sha256Hex } from "../ids.ts";
import type { CaptureRecord, ProbeNote, UrlProbeState } from "../model.ts";
import { normaliseUrl } from "../url.ts";
import type { ValidityVerdict } from "../validity/index.ts";
import type { PageArticle } from "./article-text.ts";
import type { UrlState } from "./types.ts";

/** When a URL that probes could serve is captured with the browser all the same. */
export interface ProbeSchedule {
  /** Every this many recaptures of a URL, one uses the browser (1: every one). */
  browserEvery: number;
  /** A recapture whose URL's last browser capture is at least this old uses the browser. */
  browserMaxAgeMs: number;
}

/** The noise rules' identity: a probe vouches only under the rules its learning was made under. */
export function noiseRulesKey(rules: { dropSelectors: readonly string[]; minChangedWords: number }): string {
  return sha256Hex(JSON.stringify({ drop: [...rules.dropSelectors].sort(), min: rules.minChangedWords }));
}

/** What a browser capture hands the learning step. */
export interface BrowserCaptureFacts {
  /** The URL captured (the archive's normalised form). */
  url: string;
  /** The main document's final URL, normalised, and status, and its validators. */
  finalUrl: string;
  httpStatus: number;
  headers: Readonly<Record<string, string>>;
  /** What the rendered page yields for comparison. */
  rendered: Pick<PageArticle, "extraction" | "textSha256">;
  /** What the raw response yields the same way; null when it is not HTML. */
  raw: Pick<PageArticle, "extraction" | "textSha256"> | null;
  /** The hash of the raw response's inline data scripts (`inlineDataSha256`); absent when it has none. */
  rawInlineData?: string | undefined;
  /** The validity of the raw HTML alone (as a probe would classify it); null when not HTML. */
  rawVerdict: ValidityVerdict | null;
  /** What the capture showed, as decided; absent when an earlier delivery decided it. */
  verdict: ValidityVerdict | undefined;
  /** The version the capture is recorded under (none for a wall). */
  versionId: string | undefined;
  rulesKey: string;
  capturedAt: string;
}

/** The first reason the page may not be probed, or null when it may. */
function notServerRendered(facts: BrowserCaptureFacts): string | null {
  if (facts.verdict?.validity !== "ok" || facts.versionId === undefined) {
    return `The capture did not show the article${facts.verdict ? ` (${facts.verdict.validity})` : ""}.`;
  }
  if (facts.httpStatus < 200 || facts.httpStatus > 299) {
    return `The server answered HTTP ${facts.httpStatus}.`;
  }
  if (facts.finalUrl !== normaliseUrl(facts.url)) return `The page led to ${facts.finalUrl}.`;
  if (facts.raw === null || facts.rawVerdict === null) return "The server's response is not HTML.";
  if (
    facts.raw.extraction !== facts.rendered.extraction ||
    facts.raw.textSha256 !== facts.rendered.textSha256
  ) {
    return "The article in the server's HTML is not the one the browser rendered: scripts write or change it.";
  }
  if (facts.rawVerdict.validity !== "ok") {
    return `The server's HTML alone does not read as the article (${facts.rawVerdict.validity}).`;
  }
  return null;
}

/** What a browser capture leaves on its URL for the next probes (`UrlRecord.probe`). */
export function learnFromBrowserCapture(facts: BrowserCaptureFacts): UrlProbeState {
  const reason = notServerRendered(facts);
  const etag = facts.headers.etag;
  const lastModified = facts.headers["last-modified"];
  return {
    serverRendered: reason === null,
    ...(reason === null ? {} : { reason }),
    textSha256: facts.rendered.textSha256,
    ...(facts.versionId !== undefined ? { versionId: facts.versionId } : {}),
    ...(facts.rawInlineData !== undefined ? { inlineDataSha256: facts.rawInlineData } : {}),
    rulesKey: facts.rulesKey,
    httpStatus: facts.httpStatus,
    finalUrl: facts.finalUrl,
    // Repeated headers are joined by newlines: such validators are not trusted.
    ...(etag && !etag.includes("\n") ? { etag } : {}),
    ...(lastModified && !lastModified.includes("\n") ? { lastModified } : {}),
    browserAt: facts.capturedAt,
    httpCount: 0,
  };
}

/** Whether a capture may be probed, with what the URL learned, or why not. */
export type ProbeEligibility =
  | { probe: true; learned: UrlProbeState }
  /** `note` is absent for captures probes are never for (a person's, a source's first capture). */
  | { probe: false; note?: ProbeNote };

function notTried(reason: string): ProbeEligibility {
  return { probe: false, note: { outcome: "not_tried", reason } };
}

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${["th", "st", "nd", "rd"][n % 10] ?? "th"}`;
}

function duration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}

/**
 * Whether this capture starts with an HTTP probe. Only scheduled recaptures do (a person who asks
 * for a capture gets the browser), of URLs whose last browser capture found them server-rendered,
 * whose latest version is still the one it recorded, under the same noise rules, and whose browser
 * capture is not due (every `browserEvery`th recapture, or once the last is `browserMaxAgeMs` old).
 */
export function probeEligibility(
  capture: Pick<CaptureRecord, "trigger">,
  state: Pick<UrlState, "url" | "latest">,
  rulesKey: string,
  schedule: ProbeSchedule,
  now: Date,
): ProbeEligibility {
  if (capture.trigger !== "schedule") return { probe: false };
  const learned = state.url.probe;
  const latest = state.latest;
  if (!learned) return notTried("No browser capture has yet learned whether the page is server-rendered.");
  if (!learned.serverRendered) {
    return notTried(`The page is not server-rendered for a probe: ${learned.reason ?? "unknown"}`);
  }
  if (!latest || latest.removed || latest.teaser || latest.versionId !== learned.versionId) {
    return notTried("The latest version is not the one the last browser capture recorded.");
  }
  // A browser capture since the learning met a challenge (recorded without learning): whether the
  // article is back is the browser's to say, as it would say it again, not a plain GET's.
  if (state.url.lastValidity !== undefined && state.url.lastValidity !== "ok") {
    return notTried(`The last capture did not show the article (${state.url.lastValidity}).`);
  }
  if (learned.rulesKey !== rulesKey)
    return notTried("The noise rules changed since the last browser capture.");
  if (learned.httpCount + 1 >= schedule.browserEvery) {
    return notTried(`Every ${ordinal(schedule.browserEvery)} recapture uses the browser.`);
  }
  const age = now.getTime() - Date.parse(learned.browserAt);
  if (!(age < schedule.browserMaxAgeMs)) {
    return notTried(
      `The last browser capture is ${duration(schedule.browserMaxAgeMs)} old or more: this one uses the browser.`,
    );
  }
  return { probe: true, learned };
}

/**
 * Whether an ETag is strong (`"…"`, not `W/"…"`). Only a strong validator promises the same bytes
 * (RFC 9110 §8.8.1); a weak ETag or a Last-Modified date is derived from whatever the server
 * chooses (a displayed "updated" date the editor left alone, one-second resolution), and a stealth
 * edit is precisely one that keeps the dates. So a probe asks conditionally with a strong ETag only.
 */
export function isStrongEtag(etag: string | undefined): etag is string {
  return etag !== undefined && /^"[\x21\x23-\x7e\x80-\xff]*"$/.test(etag);
}

/** The validator a probe sends (`If-None-Match`): the learned ETag if strong; never a date. */
export function probeValidator(learned: Pick<UrlProbeState, "etag">): string | undefined {
  return isStrongEtag(learned.etag) ? learned.etag : undefined;
}

/**
 * The state an unchanged probe leaves: one more HTTP capture since the browser's; after a 200,
 * the validators the answer carries replace both stored ones (a validator no longer sent is
 * dropped: it would name a document the server no longer describes); after a 304, they stand.
 */
export function stateAfterProbe(
  learned: UrlProbeState,
  answer: { notModified: boolean; etag?: string | undefined; lastModified?: string | undefined },
): UrlProbeState {
  const next: UrlProbeState = { ...learned, httpCount: learned.httpCount + 1 };
  if (answer.notModified) return next;
  delete next.etag;
  delete next.lastModified;
  return {
    ...next,
    ...(answer.etag ? { etag: answer.etag } : {}),
    ...(answer.lastModified ? { lastModified: answer.lastModified } : {}),
  };
}

/** The parts of a probe's answer the judgement reads (a guarded fetch's result). */
export type ProbeAnswer =
  | { notModified: true; finalUrl: string; redirects: readonly string[] }
  | {
      notModified: false;
      status: number;
      finalUrl: string;
      contentType: string | undefined;
      redirects: readonly string[];
    };

/** What the probe's answer says before its text is read: unchanged, declined, or read the text. */
export type AnswerJudgement =
  | { kind: "unchanged"; reason: string }
  | { kind: "declined"; reason: string }
  | { kind: "read_text" };

/**
 * Judges the answer's envelope: a 304 to the strong ETag of the last browser capture is the
 * server's word that the bytes are the same; a redirect (on either path), another status or a
 * document that is not HTML is a doubt. Only a 304 to a request that sent a strong ETag counts.
 */
export function judgeAnswer(answer: ProbeAnswer, learned: UrlProbeState): AnswerJudgement {
  if (answer.notModified) {
    if (probeValidator(learned) === undefined) {
      return { kind: "declined", reason: "The server answered 304 to a request with no strong ETag." };
    }
    if (answer.redirects.length > 0 || normaliseUrl(answer.finalUrl) !== learned.finalUrl) {
      return { kind: "declined", reason: `The page now redirects to ${answer.finalUrl}.` };
    }
    return {
      kind: "unchanged",
      reason: "The server answered 304 Not Modified to the ETag of the last browser capture.",
    };
  }
  if (answer.redirects.length > 0 || normaliseUrl(answer.finalUrl) !== learned.finalUrl) {
    return { kind: "declined", reason: `The page now redirects to ${answer.finalUrl}.` };
  }
  if (answer.status !== learned.httpStatus) {
    return {
      kind: "declined",
      reason: `The server answered HTTP ${answer.status}, not ${learned.httpStatus} as at the last browser capture.`,
    };
  }
  if (answer.contentType !== undefined && !/html/i.test(answer.contentType)) {
    return { kind: "declined", reason: `The server sent ${answer.contentType}, not HTML.` };
  }
  return { kind: "read_text" };
}

/**
 * Judges the probe's text: unchanged only when the raw HTML's article, read exactly as a browser
 * capture reads its page, hashes to what the last browser capture found, the same way (article or
 * fallback text), the raw HTML reads as the article (validity `ok`), and its inline data scripts
 * are the ones the browser capture's page had: a script may render the article from them, and an
 * edit made only there is one the browser would show and the HTML's text does not.
 */
export function judgeText(
  read: Pick<PageArticle, "extraction" | "textSha256"> | null,
  verdict: ValidityVerdict | null,
  learned: UrlProbeState,
  inlineData?: string,
): { kind: "unchanged" | "declined"; reason: string } {
  if (read === null || verdict === null)
    return { kind: "declined", reason: "The response could not be read as HTML." };
  if (verdict.validity !== "ok") {
    return {
      kind: "declined",
      reason: `The server's HTML does not read as the article (${verdict.validity}).`,
    };
  }
  if (read.textSha256 !== learned.textSha256) {
    return { kind: "declined", reason: "The article's text differs from the last browser capture's." };
  }
  if (inlineData !== learned.inlineDataSha256) {
    return {
      kind: "declined",
      reason:
        "The page's inline data (the JSON its scripts may render from) changed since the last browser capture.",
    };
  }
  return {
    kind: "unchanged",
    reason: "The article's text in the server's HTML is the same as at the last browser capture.",
  };
}
