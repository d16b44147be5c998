/**
 * The version decision: whether a capture is a new version of its URL, and with which edit. It
 * covers the article's lifecycle too: a page that now answers 404 or 410 was removed, one that
 * answers again after a removal was restored, and one that now lands elsewhere was redirected.
 *
 * A decision is only proposed here; `recordOnUrl` (record-on-url.ts) commits it if the URL is
 * still as it was read, and a redelivery of a capture that already committed its version never
 * reaches these functions (see `unlessCommitted`).
 */
import { diffArticles, summariseEdit } from "../diff/index.ts";
import { isBelowThreshold, selectorsKey } from "../extract/noise-rules.ts";
import { baselineUnderRules } from "../extract/rebaseline.ts";
import { versionIdForCapture } from "../ids.ts";
import type { ArtifactName, ArtifactRef, CaptureRecord, Edit, EditKind, VersionRecord } from "../model.ts";
import { loadArticle } from "../read/stored-article.ts";
import type {
  CapturedArticle,
  Decision,
  ProcessCaptureDeps,
  Put,
  StoredArtifacts,
  UrlState,
} from "./types.ts";

const encoder = new TextEncoder();

const NO_TEXT_STATS = {
  sentencesBefore: 0,
  sentencesAfter: 0,
  sentencesAdded: 0,
  sentencesRemoved: 0,
  sentencesChanged: 0,
  sentencesMoved: 0,
  wordsBefore: 0,
  wordsAfter: 0,
  wordsInserted: 0,
  wordsDeleted: 0,
  changeRatio: 0,
};

/** The textSha256 a removal is recorded under: no article text hashes to it. */
const REMOVED_SHA = "removed";

/**
 * Compares the article with the URL's latest version. Identical comparable text, or a difference
 * the diff judges to be page noise, records the capture as unchanged; anything else makes a new
 * version with its diff, once the capture's artifacts are stored.
 */
export async function decideVersion(
  deps: ProcessCaptureDeps,
  capture: CaptureRecord,
  { url, latest }: UrlState,
  { article, textSha256, finalUrl, noiseRules }: CapturedArticle,
  stored: Promise<StoredArtifacts>,
  put: Put,
): Promise<Decision> {
  const ownVersionId = versionIdForCapture(capture.captureId);
  const newVersion = async (): Promise<VersionRecord> => {
    const { artifacts, capturedAt } = await stored;
    return {
      versionId: ownVersionId,
      urlId: capture.urlId,
      captureId: capture.captureId,
      capturedAt,
      textSha256,
      artifacts,
      ...(article.title ? { title: article.title } : {}),
      ...(article.modifiedTime ? { modifiedTime: article.modifiedTime } : {}),
      ...(finalUrl && finalUrl !== capture.url ? { finalUrl } : {}),
      ...(noiseRules && noiseRules.dropSelectors.length > 0
        ? { noiseSelectors: selectorsKey(noiseRules.dropSelectors) }
        : {}),
    };
  };
  if (!latest) return { versionId: ownVersionId, commit: await newVersion() };

  const redirected = (latest.finalUrl ?? capture.url) !== (finalUrl ?? capture.url);
  if (url.latestTextSha256 === textSha256 && !redirected) return { versionId: latest.versionId };
  const versions = await deps.repository.listVersions(capture.urlId);
  // After a removal, compare with the last text the page had, and say it came back.
  const restored = latest.removed === true;
  const baseline = restored ? versions.filter((v) => !v.removed).at(-1) : latest;
  if (!baseline) throw new Error(`no text version to compare with for ${capture.urlId}`);
  const selectors = noiseRules?.dropSelectors ?? [];
  const previousArticle = await baselineUnderRules(
    deps,
    baseline,
    await loadArticle(deps.blobs, baseline),
    selectors,
    capture.url,
  );
  const diff = diffArticles(previousArticle, article);
  const lifecycle: EditKind[] = [
    ...(restored ? (["restored_article"] as const) : []),
    ...(redirected ? (["redirected"] as const) : []),
  ];
  if (diff.edit === null && lifecycle.length === 0) return { versionId: latest.versionId };
  // A person's threshold: a smaller difference is not an edit (it counts once changes add up).
  if (diff.edit && lifecycle.length === 0 && noiseRules && isBelowThreshold(diff.edit.stats, noiseRules))
    return { versionId: latest.versionId };
  const edit: Edit = diff.edit
    ? { ...diff.edit, kinds: [...lifecycle, ...diff.edit.kinds] }
    : { significance: "major", kinds: lifecycle, stealth: false, stats: NO_TEXT_STATS };
  const older = versions.find((v) => v.textSha256 === textSha256 && v.versionId !== latest.versionId);
  const diffDocument = { from: baseline.versionId, to: ownVersionId, edit, changes: diff.changes };
  const [diffRef, diffHtmlRef, base] = await Promise.all([
    put(encoder.encode(JSON.stringify(diffDocument)), "application/json", "diff.json"),
    put(encoder.encode(diff.html), "text/html; charset=utf-8", "diff.html"),
    newVersion(),
  ]);
  const lifecycleNote = [
    ...(restored ? ["The article is back after being removed."] : []),
    ...(redirected ? [`The page now redirects to ${finalUrl}.`] : []),
  ].join(" ");
  return {
    versionId: ownVersionId,
    edit,
    commit: {
      ...base,
      previousVersionId: latest.versionId,
      edit,
      summary: [lifecycleNote, diff.edit ? summariseEdit(diff.edit, diff.changes) : ""]
        .filter(Boolean)
        .join(" "),
      artifacts: { ...base.artifacts, diff: diffRef, diffHtml: diffHtmlRef },
      ...(older ? { revertOf: older.versionId } : {}),
    },
  };
}

/**
 * A page that had versions and now answers 404 or 410 was removed: that is recorded as a version
 * with a `removed_article` edit, once; later captures of the still-missing page are unchanged.
 * `artifacts` are what the address showed instead (its error page), kept as evidence.
 */
export async function decideRemoval(
  capture: CaptureRecord,
  { url, latest }: UrlState,
  httpStatus: number,
  artifacts: Partial<Record<ArtifactName, ArtifactRef>>,
  capturedAt: string,
): Promise<Decision> {
  if (!latest) throw new Error(`URL record ${url.urlId} lost its latest version`);
  if (url.latestTextSha256 === REMOVED_SHA) return { versionId: latest.versionId };
  const ownVersionId = versionIdForCapture(capture.captureId);
  const version: VersionRecord = {
    versionId: ownVersionId,
    urlId: capture.urlId,
    captureId: capture.captureId,
    capturedAt,
    textSha256: REMOVED_SHA,
    removed: true,
    httpStatus,
    artifacts,
    previousVersionId: latest.versionId,
    ...(url.title ? { title: url.title } : {}),
    edit: { significance: "major", kinds: ["removed_article"], stealth: false, stats: NO_TEXT_STATS },
    summary: `The article was removed: the page now answers HTTP ${httpStatus}.`,
  };
  return { versionId: ownVersionId, ...(version.edit ? { edit: version.edit } : {}), commit: version };
}
