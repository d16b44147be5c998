/**
 * Recaptures without a browser: a scheduled recapture of a server-rendered URL first makes one
 * conditional GET through the guarded fetcher (the `HttpFetcher` port: the same URL guard and
 * egress rules as the browser). A 304, or the same article text read exactly as a browser capture
 * reads it, records an unchanged capture with `method: "http"`; anything else declines, and the
 * browser captures the page in the same invocation, as it always did (the decisions are in
 * probe-policy.ts). Browser captures, in turn, learn here whether their URL is server-rendered.
 *
 * The probe runs in the capture worker's early path, before Chromium is touched: the browser is
 * launched lazily by the first capture that needs it, so a worker whose messages are all probed
 * never starts it. Why not a function of its own: see README "Recaptures without a browser".
 */
import { FetchError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import type { HttpFetchResult, PageCapture, ProbeWrite } from "../../ports.ts";
import { type EffectiveNoiseRules, NO_NOISE_RULES } from "../extract/noise-rules.ts";
import type { CaptureRecord, ProbeNote, UrlProbeState, UrlRecord } from "../model.ts";
import { classifyCapture, type ValidityVerdict } from "../validity/index.ts";
import { articleOfHtml, decodeServedHtml, inlineDataSha256, type PageArticle } from "./article-text.ts";
import {
  judgeAnswer,
  judgeText,
  learnFromBrowserCapture,
  noiseRulesKey,
  probeEligibility,
  probeValidator,
  stateAfterProbe,
} from "./probe-policy.ts";
import { recordOnUrl } from "./record-on-url.ts";
import type {
  CapturedArticle,
  Decide,
  Decision,
  ProcessCaptureDeps,
  ProcessOutcome,
  UrlState,
} from "./types.ts";

/** What a probe asks for: the page, as a browser would. */
const HTML_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/** How the probe step ended: the capture recorded over HTTP, or the browser's turn (and why). */
export type ProbeStep = { kind: "recorded"; outcome: ProcessOutcome } | { kind: "browser"; note?: ProbeNote };

/**
 * Another capture made a version, or learned for probes, while the probe ran: what it vouched for
 * (or the learning it would move on) is no longer current, and the browser captures the page.
 */
class ProbeOvertaken extends Error {}

/** The raw HTML as a probe reads it: its article, validity and inline data; null when it is not HTML. */
function readServedHtml(
  deps: Pick<ProcessCaptureDeps, "extract">,
  html: string,
  finalUrl: string,
  httpStatus: number,
  headers: Readonly<Record<string, string>>,
  noiseRules: EffectiveNoiseRules,
): { read: PageArticle; verdict: ValidityVerdict; inlineData: string | undefined } | null {
  if (html === "") return null;
  const read = articleOfHtml(deps.extract, html, finalUrl, noiseRules);
  // No history is weighed: a probe vouches only for a text the last browser capture found (and
  // classified with the history), and the raw HTML's own signs of a wall are what is checked here.
  const verdict = classifyCapture(
    { httpStatus, headers, html, title: read.article.title, text: read.article.text, rawHtml: html },
    null,
  );
  return { read, verdict, inlineData: inlineDataSha256(html) };
}

/**
 * The probe step of a capture: for a scheduled recapture that may be probed, one guarded GET, and
 * the capture recorded over HTTP when it vouches for an unchanged page; otherwise the browser's
 * turn, with a note saying why when a probe was considered. Storage failures throw (the capture's
 * failure path retries them); a probe's own failure never does: it declines.
 */
export async function probeFirst(
  deps: ProcessCaptureDeps,
  capture: CaptureRecord,
  known: Promise<UrlState>,
  log: Logger,
): Promise<ProbeStep> {
  const probe = deps.probe;
  if (!probe || capture.trigger !== "schedule") return { kind: "browser" };
  const now = deps.now ?? (() => new Date());
  const started = performance.now();
  const [state, noiseRules] = await Promise.all([
    known,
    deps.repository.noiseRulesForUrl?.(capture.urlId) ?? NO_NOISE_RULES,
  ]);
  const eligibility = probeEligibility(capture, state, noiseRulesKey(noiseRules), probe, now());
  if (!eligibility.probe) return { kind: "browser", ...(eligibility.note ? { note: eligibility.note } : {}) };
  const { learned } = eligibility;
  const declined = (reason: string): ProbeStep => {
    log.info("probe declined; capturing with the browser", { reason });
    return { kind: "browser", note: { outcome: "declined", reason } };
  };

  let answer: HttpFetchResult;
  try {
    // Never If-Modified-Since, never a weak ETag: only a strong ETag vouches for the same bytes.
    answer = await probe.fetcher.fetch(capture.url, { etag: probeValidator(learned), accept: HTML_ACCEPT });
  } catch (err) {
    if (!(err instanceof FetchError)) log.warn("probe failed unexpectedly", { err });
    return declined(`The probe failed: ${err instanceof FetchError ? err.message : "an internal error"}`);
  }
  const judged = judgeAnswer(answer, learned);
  if (judged.kind === "declined") return declined(judged.reason);
  let reason = judged.kind === "unchanged" ? judged.reason : "";
  let extraction: CaptureRecord["extraction"];
  if (!answer.notModified) {
    const served = readServedHtml(
      deps,
      decodeServedHtml(answer.body, answer.contentType),
      answer.finalUrl,
      answer.status,
      answer.headers,
      noiseRules,
    );
    const text = judgeText(served?.read ?? null, served?.verdict ?? null, learned, served?.inlineData);
    if (text.kind === "declined") return declined(text.reason);
    reason = text.reason;
    extraction = served?.read.extraction;
  }

  const next = stateAfterProbe(learned, answer);
  try {
    const recorded = await recordUnchanged(deps, capture, state, learned, next, now().toISOString());
    const succeeded: CaptureRecord = {
      ...capture,
      status: "succeeded",
      finishedAt: recorded.capturedAt,
      method: "http",
      probe: { outcome: "unchanged", reason },
      finalUrl: learned.finalUrl,
      httpStatus: answer.status,
      versionId: recorded.versionId,
      changed: false,
      validity: "ok",
      validityReason: "The article's text is the same as the latest version's (read over HTTP).",
      ...(extraction ? { extraction } : {}),
      timings: {
        probe: Math.round(performance.now() - started),
        total: Math.round(performance.now() - started),
      },
    };
    delete succeeded.error;
    await deps.repository.finishCapture(succeeded);
    log.info("capture succeeded over HTTP", { versionId: recorded.versionId, timings: succeeded.timings });
    return { kind: "recorded", outcome: { kind: "succeeded", capture: succeeded } };
  } catch (err) {
    if (err instanceof ProbeOvertaken) return declined(err.message);
    throw err;
  }
}

/**
 * Records the unchanged capture on its URL like an unchanged browser capture (counted, the URL
 * rescheduled by its policy), with the probe's state moved on, in the same conditional write, and
 * only over the learning the probe started from: when a browser capture learned meanwhile (the
 * page may no longer be server-rendered) or another probe counted, this probe is overtaken, and
 * the browser captures the page.
 */
async function recordUnchanged(
  deps: ProcessCaptureDeps,
  capture: CaptureRecord,
  state: UrlState,
  learned: UrlProbeState,
  next: UrlProbeState,
  capturedAt: string,
): Promise<{ versionId: string; capturedAt: string }> {
  const versionId = next.versionId;
  if (versionId === undefined) throw new ProbeOvertaken("The URL has no version a probe could vouch for.");
  const decision: Decision = {
    versionId,
    verdict: { validity: "ok", validityReason: "The article's text is the same as the latest version's." },
  };
  const decide: Decide = async (current) => {
    if (current.url.latestVersionId !== versionId) {
      throw new ProbeOvertaken("Another capture made a new version while the probe ran.");
    }
    return decision;
  };
  const moveOn = (_: Decision, url: UrlRecord): ProbeWrite => {
    if (url.probe?.browserAt !== learned.browserAt || url.probe.httpCount !== learned.httpCount) {
      throw new ProbeOvertaken("Another capture changed what the URL learned while the probe ran.");
    }
    return {
      kind: "http",
      state: next,
      from: { browserAt: learned.browserAt, httpCount: learned.httpCount },
    };
  };
  await recordOnUrl(deps, capture, state, decision, decide, capturedAt, moveOn);
  return { versionId, capturedAt };
}

/**
 * What a browser capture leaves for probes, given its decision: whether its URL is server-rendered
 * (the raw response's article is the rendered page's, under the same rules), with the server's
 * validators; written only over learning no newer than its own (a slower, older capture leaves the
 * newer one's). When probes are off, or the URL is never recaptured, what was learned is cleared:
 * probes turned on again (or a schedule turned on) must not resume under flags no browser capture
 * has checked since; such a URL learns afresh at its next scheduled, browser, capture.
 */
export function probeLearner(
  deps: ProcessCaptureDeps,
  capture: CaptureRecord,
  state: UrlState,
  page: PageCapture,
  captured: CapturedArticle,
  extraction: PageArticle["extraction"],
  capturedAt: string,
): (decision: Decision, url: UrlRecord) => ProbeWrite | undefined {
  if (!deps.probe || state.url.recapture === "off") {
    return (_, url) => (url.probe ? { kind: "clear" } : undefined);
  }
  const noiseRules = captured.noiseRules ?? NO_NOISE_RULES;
  const headers = page.headers ?? {};
  const served = readServedHtml(
    deps,
    captured.signals.rawHtml ?? "",
    page.finalUrl,
    page.httpStatus,
    headers,
    noiseRules,
  );
  return (decision, url) => {
    if (url.probe && url.probe.browserAt > capturedAt) return undefined;
    const learned = learnFromBrowserCapture({
      url: capture.url,
      finalUrl: captured.finalUrl,
      httpStatus: page.httpStatus,
      headers,
      rendered: { extraction, textSha256: captured.textSha256 },
      raw: served?.read ?? null,
      rawInlineData: served?.inlineData,
      rawVerdict: served?.verdict ?? null,
      verdict: decision.verdict,
      versionId: decision.versionId,
      rulesKey: noiseRulesKey(noiseRules),
      capturedAt,
    });
    return { kind: "browser", state: learned };
  };
}
