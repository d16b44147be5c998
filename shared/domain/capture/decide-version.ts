/**
 * The version decision: what the capture showed (its validity), whether it is a new version of its
 * URL, and with which edit. It covers the article's lifecycle too: a page that now answers 404 or 410 was removed, one that
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
import type {
  Article,
  ArtifactName,
  ArtifactRef,
  CaptureRecord,
  Edit,
  EditKind,
  VersionRecord,
} from "../model.ts";
import { loadArticle } from "../read/stored-article.ts";
import { classifyCapture, completesTeaser, type ValidityVerdict } from "../validity/index.ts";
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

/** What a capture that matched the latest version's text was: that version's kind. */
const SAME_AS_LATEST: ValidityVerdict = {
  validity: "ok",
  validityReason: "The article's text is the same as the latest version's.",
};
const SAME_TEASER: ValidityVerdict = {
  validity: "paywall",
  validityReason: "A paywall teaser, the same as the latest (teaser) version.",
};

/**
 * Classifies the capture (shared/domain/validity/) and decides what it leaves on its URL. Only an
 * `ok` capture is compared with the latest version: identical comparable text, or a difference the
 * diff judges to be page noise, records it as unchanged; anything else makes a new version with its
 * diff, once the capture's artifacts are stored. A `paywall` teaser is compared only with teasers;
 * a URL's first teaser makes no version, its second in a row the first (teaser) version: the
 * article evidently always shows its teaser. A `soft_404` after an article is its removal; any
 * other class makes no version, and the capture keeps its artifacts as evidence of what the
 * outlet served.
 */
export async function decideVersion(
  deps: ProcessCaptureDeps,
  capture: CaptureRecord,
  state: UrlState,
  captured: CapturedArticle,
  stored: Promise<StoredArtifacts>,
  put: Put,
): Promise<Decision> {
  const { url, latest } = state;
  const { textSha256, finalUrl } = captured;
  const redirected = latest !== null && (latest.finalUrl ?? capture.url) !== (finalUrl ?? capture.url);
  // The latest version's text again: unchanged, whatever the page around it (walls have no version).
  if (latest && !latest.removed && url.latestTextSha256 === textSha256 && !redirected) {
    return { versionId: latest.versionId, verdict: latest.teaser ? SAME_TEASER : SAME_AS_LATEST };
  }
  const versions = latest ? await deps.repository.listVersions(capture.urlId) : [];
  // The history the classifier weighs a capture against: the last full text the URL showed.
  const lastFull = versions.filter((v) => !v.removed && !v.teaser).at(-1);
  const previous = lastFull ? await loadArticle(deps.blobs, lastFull) : null;
  const verdict = classifyCapture(captured.signals, previous);
  const context: DecideContext = { deps, capture, state, captured, stored, put, versions, verdict };

  switch (verdict.validity) {
    case "ok":
      // Only teasers (or their removal) so far: the first full text follows them, with no edit.
      if (latest && !lastFull) return firstFullText(context, TEASERS_BEFORE);
      // A first version the classifier took for the article, now completed by whole paragraphs
      // where it ended in a wall's words, was its unrecognised teaser: no edit either.
      if (previous && versions.length === 1 && completesTeaser(previous, captured.article)) {
        return firstFullText(context, UNRECOGNISED_TEASER_BEFORE);
      }
      return decideText(
        context,
        previous && lastFull ? { version: lastFull, article: previous } : null,
        false,
      );
    case "paywall":
      if (!latest) {
        // Once could be a meter or a wall in the way; twice (other walls between them aside), it
        // is how the article shows.
        const before = state.url.paywallsSinceOk ?? (state.url.lastValidity === "paywall" ? 1 : 0);
        return before >= 1 ? decideText(context, null, true) : { verdict };
      }
      if (latest.teaser) {
        return decideText(context, { version: latest, article: await loadArticle(deps.blobs, latest) }, true);
      }
      // A teaser against a full text (or a removal) is never an edit.
      return { verdict };
    case "soft_404": {
      if (!latest) return { verdict };
      const { artifacts, capturedAt } = await stored;
      const removal = await decideRemoval(
        capture,
        state,
        captured.signals.httpStatus,
        artifacts,
        capturedAt,
        {
          reason: "The article was removed: the page now says it is gone.",
        },
      );
      return { ...removal, verdict };
    }
    case "empty":
      if (verdict.maybeNewText && previous && lastFull && latest && !latest.removed) {
        return state.url.unconfirmedTextSha256 === textSha256
          ? confirmedNewText(context, { version: lastFull, article: previous })
          : { verdict, unconfirmedTextSha256: textSha256 };
      }
      return { verdict };
    default:
      return { verdict };
  }
}

const CONFIRMED_NOTE =
  "The page shows a much shorter text that shares almost nothing with the article's last version, on a page that still presents itself as the article with no sign of a wall, and two captures in a row showed it: it is taken as the article's new text (a withdrawal note or a rewrite).";

/** A text the history rule held back, shown again by the next capture: the article's new text. */
async function confirmedNewText(
  context: DecideContext,
  baseline: { version: VersionRecord; article: Article },
): Promise<Decision> {
  const verdict: ValidityVerdict = { validity: "ok", validityReason: CONFIRMED_NOTE };
  const decision = await decideText({ ...context, verdict }, baseline, false);
  if (!decision.commit) return decision;
  return {
    ...decision,
    commit: { ...decision.commit, summary: `${CONFIRMED_NOTE} ${decision.commit.summary ?? ""}`.trim() },
  };
}

/** What the text decisions below need. */
interface DecideContext {
  deps: ProcessCaptureDeps;
  capture: CaptureRecord;
  state: UrlState;
  captured: CapturedArticle;
  stored: Promise<StoredArtifacts>;
  put: Put;
  /** The URL's history, oldest first (empty before the first version). */
  versions: readonly VersionRecord[];
  verdict: ValidityVerdict;
}

/** The capture as a version record (without the edit fields). */
async function versionOf(
  { capture, captured, stored }: DecideContext,
  teaser: boolean,
): Promise<VersionRecord> {
  const { artifacts, capturedAt } = await stored;
  const { article, textSha256, finalUrl, noiseRules } = captured;
  return {
    versionId: versionIdForCapture(capture.captureId),
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
    ...(teaser ? { teaser: true } : {}),
  };
}

const TEASERS_BEFORE = "The full text was captured; the versions before it were paywall teasers.";
const UNRECOGNISED_TEASER_BEFORE =
  "The full text was captured; the version before it was its teaser (the same first paragraphs, then a line asking the reader to subscribe or sign in).";

/**
 * The first full text of a URL that had only shown its teaser: a new version, and no edit (a full
 * text against a teaser is never one).
 */
async function firstFullText(context: DecideContext, summary: string): Promise<Decision> {
  const latest = context.state.latest as VersionRecord;
  const version = await versionOf(context, false);
  return {
    versionId: version.versionId,
    verdict: context.verdict,
    commit: {
      ...version,
      previousVersionId: latest.versionId,
      summary,
    },
  };
}

/**
 * Compares the capture's text with `baseline` (the last full text for a full capture, the latest
 * teaser for a teaser; null: the URL's first version) and makes a version when they differ by more
 * than noise, or when the page came back after a removal or now redirects.
 */
async function decideText(
  context: DecideContext,
  baseline: { version: VersionRecord; article: Article } | null,
  teaser: boolean,
): Promise<Decision> {
  const { capture, state, captured, put, versions, verdict } = context;
  const { latest } = state;
  const ownVersionId = versionIdForCapture(capture.captureId);
  if (!latest) return { versionId: ownVersionId, verdict, commit: await versionOf(context, teaser) };
  if (!baseline) throw new Error(`no text version to compare with for ${capture.urlId}`);
  const { textSha256, finalUrl, article } = captured;
  // After a removal, compare with the last text the page had, and say it came back.
  const restored = latest.removed === true;
  const redirected = (latest.finalUrl ?? capture.url) !== (finalUrl ?? capture.url);
  // The baseline as it reads under today's noise rules (rules set since it was captured drop
  // the same parts from it), so a rule never shows up as an edit.
  const selectors = captured.noiseRules?.dropSelectors ?? [];
  const previousArticle = await baselineUnderRules(
    context.deps,
    baseline.version,
    baseline.article,
    selectors,
    capture.url,
  );
  const diff = diffArticles(previousArticle, article);
  const lifecycle: EditKind[] = [
    ...(restored ? (["restored_article"] as const) : []),
    ...(redirected ? (["redirected"] as const) : []),
  ];
  if (diff.edit === null && lifecycle.length === 0) return { versionId: latest.versionId, verdict };
  // A person's threshold: a smaller difference is not an edit (it counts once changes add up).
  const { noiseRules } = captured;
  if (diff.edit && lifecycle.length === 0 && noiseRules && isBelowThreshold(diff.edit.stats, noiseRules)) {
    return { versionId: latest.versionId, verdict };
  }
  const edit: Edit = diff.edit
    ? { ...diff.edit, kinds: [...lifecycle, ...diff.edit.kinds] }
    : { significance: "major", kinds: lifecycle, stealth: false, stats: NO_TEXT_STATS };
  const older = versions.find((v) => v.textSha256 === textSha256 && v.versionId !== latest.versionId);
  const diffDocument = { from: baseline.version.versionId, to: ownVersionId, edit, changes: diff.changes };
  const [diffRef, diffHtmlRef, base] = await Promise.all([
    put(encoder.encode(JSON.stringify(diffDocument)), "application/json", "diff.json"),
    put(encoder.encode(diff.html), "text/html; charset=utf-8", "diff.html"),
    versionOf(context, teaser),
  ]);
  const lifecycleNote = [
    ...(restored ? ["The article is back after being removed."] : []),
    ...(redirected ? [`The page now redirects to ${finalUrl}.`] : []),
    ...(teaser ? ["The paywall teaser changed."] : []),
  ].join(" ");
  return {
    versionId: ownVersionId,
    edit,
    verdict,
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
  options?: { reason?: string },
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
    summary: options?.reason ?? `The article was removed: the page now answers HTTP ${httpStatus}.`,
  };
  return { versionId: ownVersionId, ...(version.edit ? { edit: version.edit } : {}), commit: version };
}
