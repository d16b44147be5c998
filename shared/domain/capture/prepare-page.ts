/**
 * Extract and store: what a taken page yields before any decision. The article is extracted and
 * every artifact (the page's three and the article's two) starts uploading at once; the outcome is
 * decided while they go out.
 */
import type { PageCapture } from "../../ports.ts";
import { NO_NOISE_RULES } from "../extract/noise-rules.ts";
import { sha256Hex } from "../ids.ts";
import type { Article, ArtifactName, ArtifactRef, CaptureRecord } from "../model.ts";
import { comparableArticle } from "../normalise-text.ts";
import { normaliseUrl } from "../url.ts";
import { documentTitle } from "../validity/page-text.ts";
import { pageUploads, storedTogether, uploader } from "./artifacts.ts";
import { inBackground } from "./in-background.ts";
import { pageMainText } from "./page-text.ts";
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
}

/** Cap on the served document the validity classifier reads (characters). */
const RAW_HTML_MAX_CHARS = 2_000_000;

/** The served document as text, for the validity classifier (only HTML; never more than the cap). */
function rawHtmlOf(page: PageCapture): string {
  if (page.raw.contentType && !/html/i.test(page.raw.contentType)) return "";
  return new TextDecoder()
    .decode(page.raw.body.subarray(0, RAW_HTML_MAX_CHARS * 2))
    .slice(0, RAW_HTML_MAX_CHARS);
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
  const extracted = deps.extract(page.renderedHtml, {
    url: page.finalUrl,
    ...(noiseRules.dropSelectors.length > 0 ? { dropSelectors: noiseRules.dropSelectors } : {}),
  });
  // No article found (a short page, or one not shaped like an article): its main text stands in,
  // so an edit to it is still found, and the capture says so.
  const extraction = extracted && extracted.text.trim() !== "" ? "article" : "fallback";
  const article: Article =
    extraction === "article" && extracted
      ? extracted
      : {
          // Entities kept, as stored since the first capture (see documentTitle).
          title: extracted?.title ?? documentTitle(page.renderedHtml, { entities: "kept" }),
          byline: extracted?.byline ?? null,
          publishedTime: extracted?.publishedTime ?? null,
          modifiedTime: extracted?.modifiedTime ?? null,
          lang: extracted?.lang ?? null,
          text: pageMainText(page.renderedHtml),
        };
  const extractMs = performance.now() - extractStarted;

  const put = uploader(deps, state);
  const storeStarted = performance.now();
  const uploads: Array<[ArtifactName, Promise<ArtifactRef>]> = [
    ...pageUploads(put, page),
    [
      "article",
      put(
        encoder.encode(JSON.stringify({ url: capture.url, finalUrl: page.finalUrl, ...article }, null, 2)),
        "application/json",
        "article.json",
      ),
    ],
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
    textSha256: sha256Hex(comparableArticle(article.title, article.text)),
    finalUrl: normaliseUrl(new URL(page.finalUrl)),
    signals: {
      httpStatus: page.httpStatus,
      headers: page.headers ?? {},
      html: page.renderedHtml,
      title: article.title,
      text: article.text,
      rawHtml: rawHtmlOf(page),
    },
    ...(noiseRules.from.length > 0 ? { noiseRules } : {}),
  };
  return { extractMs, put, stored, captured, extraction };
}
