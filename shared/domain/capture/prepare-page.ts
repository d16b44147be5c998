/**
 * Extract and store: what a taken page yields before any decision. The article is extracted and
 * every artifact (the page's three and the article's two) starts uploading at once; the outcome is
 * decided while they go out.
 */
import type { PageCapture } from "../../ports.ts";
import { NO_NOISE_RULES } from "../extract/noise-rules.ts";
import type { ArtifactName, ArtifactRef, CaptureRecord } from "../model.ts";
import { normaliseUrl } from "../url.ts";
import { articleOfHtml, decodeServedHtml } from "./article-text.ts";
import { pageUploads, storedTogether, uploader } from "./artifacts.ts";
import { inBackground } from "./in-background.ts";
import type { CapturedArticle, ProcessCaptureDeps, Put, StoredArtifacts, UrlState } from "./types.ts";

const encoder = new TextEncoder();

/** What a taken page yields before any decision: its article, and its artifacts on their way. */
export interface Prepared {
  extractMs: number;
  put: Put;
  stored: Promise<StoredArtifacts>;
  captured: CapturedArticle;
  /** Whether the text is the extracted article's, or the page's main text (see page-text.ts). */
  extraction: "article" | "fallback";
  /** The stored `article.json`'s bytes (the evidence package holds the same). */
  articleJson: Uint8Array;
}

/** The served document as text, for the validity classifier (only HTML; never more than the cap). */
function rawHtmlOf(page: PageCapture): string {
  return decodeServedHtml(page.raw.body, page.raw.contentType);
}

/** Extracts the page's article and starts storing all its artifacts. */
export async function preparePage(
  deps: ProcessCaptureDeps,
  capture: CaptureRecord,
  page: PageCapture,
  known: Promise<UrlState>,
): Promise<Prepared> {
  const now = deps.now ?? (() => new Date());
  const [state, noiseRules] = await Promise.all([
    known,
    deps.repository.noiseRulesForUrl?.(capture.urlId) ?? NO_NOISE_RULES,
  ]);
  const extractStarted = performance.now();
  // The same function reads an HTTP probe's document (probe-capture.ts): both compare alike.
  const { article, extraction, textSha256 } = articleOfHtml(
    deps.extract,
    page.renderedHtml,
    page.finalUrl,
    noiseRules,
  );
  const extractMs = performance.now() - extractStarted;

  const articleJson = encoder.encode(
    JSON.stringify({ url: capture.url, finalUrl: page.finalUrl, ...article }, null, 2),
  );
  const put = uploader(deps, state);
  const storeStarted = performance.now();
  const uploads: Array<[ArtifactName, Promise<ArtifactRef>]> = [
    ...pageUploads(put, page),
    ["article", put(articleJson, "application/json", "article.json")],
    ["text", put(encoder.encode(article.text), "text/plain; charset=utf-8", "article.txt")],
  ];
  // All at once, and awaited together: one failed upload must not leave the others' failures
  // unobserved (an unhandled rejection ends the process). The outcome is decided meanwhile.
  const stored: Promise<StoredArtifacts> = inBackground(
    storedTogether(uploads).then((artifacts) => ({
      artifacts,
      capturedAt: now().toISOString(),
      storeMs: performance.now() - storeStarted,
    })),
  );
  const captured: CapturedArticle = {
    article,
    textSha256,
    finalUrl: normaliseUrl(new URL(page.finalUrl)),
    signals: {
      httpStatus: page.httpStatus,
      headers: page.headers ?? {},
      html: page.renderedHtml,
      title: article.title,
      text: article.text,
      rawHtml: rawHtmlOf(page),
      extraction,
    },
    ...(noiseRules.from.length > 0 ? { noiseRules } : {}),
  };
  return { extractMs, put, stored, captured, extraction, articleJson };
}
