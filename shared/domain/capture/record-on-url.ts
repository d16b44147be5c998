/**
 * Recording a capture on its URL, and all the reasoning about redeliveries in one place.
 *
 * SQS may deliver a capture's message again (a worker died, a visibility timeout ran out), and
 * two deliveries of one capture may even run at once. A capture's version id is derived from its
 * capture id, so every delivery proposes the same version, and what one delivery left behind
 * tells the next what happened:
 * - its version is the latest: it was committed, and that stands (`unlessCommitted`);
 * - its version was committed and later versions follow it: it stands, and the latest stays;
 * - its version is stored but nothing follows it and it is not the latest: it was never
 *   committed, so this delivery decides afresh and overwrites it (`earlierAttempt`).
 * A committed version's edit is announced again by the redelivery (at least once; subscribers tell
 * duplicates apart by `versionId`). Nothing is ever deleted except a version this very call
 * stored and then lost the race to commit (the withdraw rule in `recordOnUrl`).
 */
import type { ArchiveRepository, PageCapture, ProbeWrite } from "../../ports.ts";
import { versionIdForCapture } from "../ids.ts";
import type {
  CaptureRecord,
  ChallengeRetried,
  ChallengeRetry,
  UrlRecord,
  Validity,
  VersionRecord,
} from "../model.ts";
import { nextCaptureTime } from "../schedule.ts";
import { type ValidityVerdict, wallRetryAt } from "../validity/index.ts";
import type { Decide, Decision, ProcessCaptureDeps, UrlState } from "./types.ts";

/** The URL and its latest version as they are now, with what an earlier attempt left behind. */
export async function readUrlState(repository: ArchiveRepository, capture: CaptureRecord): Promise<UrlState> {
  const url = await repository.getUrl(capture.urlId);
  if (!url) throw new Error(`URL record ${capture.urlId} is missing for capture ${capture.captureId}`);
  const latest = await latestVersionOf(repository, url);
  const earlier = capture.attempts > 1 ? await earlierAttempt(repository, capture, latest) : undefined;
  return {
    url,
    latest,
    ...(earlier === "uncommitted" ? { replaceOwn: true } : earlier ? { superseded: earlier } : {}),
  };
}

/**
 * What an earlier attempt of this capture (a redelivery's predecessor) left behind. Its version,
 * if stored and not the latest, was either committed and then followed by another (a later version
 * names it as previous: returned, so it stands) or stored and never committed ("uncommitted": this
 * attempt decides afresh and overwrites it, rather than moving the latest to the stale record).
 * Nothing is deleted here: a duplicate delivery running at the same time may be about to make that
 * version the latest, and the pointer must never name a missing version.
 */
async function earlierAttempt(
  repository: ArchiveRepository,
  capture: CaptureRecord,
  latest: VersionRecord | null,
): Promise<VersionRecord | "uncommitted" | undefined> {
  const ownVersionId = versionIdForCapture(capture.captureId);
  if (latest?.versionId === ownVersionId) return undefined;
  const own = await repository.getVersion(capture.urlId, ownVersionId);
  if (!own) return undefined;
  const versions = await repository.listVersions(capture.urlId);
  return versions.some((v) => v.previousVersionId === ownVersionId) ? own : "uncommitted";
}

async function latestVersionOf(repository: ArchiveRepository, url: UrlRecord): Promise<VersionRecord | null> {
  if (url.latestVersionId === undefined) return null;
  const latest = await repository.getVersion(url.urlId, url.latestVersionId);
  if (!latest) throw new Error(`latest version ${url.latestVersionId} of ${url.urlId} is missing`);
  return latest;
}

/**
 * A redelivery after this capture's version was committed: what was committed stands. Its edit is
 * announced again — the earlier delivery may have died before it did — so subscribers receive each
 * edit at least once (and may receive one twice: they tell them apart by `versionId`).
 */
function committedDecision(version: VersionRecord): Decision {
  return {
    versionId: version.versionId,
    verdict: committedVerdict(version),
    ...(version.edit ? { edit: version.edit, announce: version } : {}),
  };
}

/** What a capture whose version an earlier delivery committed showed: only these make versions. */
function committedVerdict(version: VersionRecord): ValidityVerdict {
  const reason = "Judged by an earlier attempt of this capture, which recorded its version.";
  if (version.teaser) return { validity: "paywall", validityReason: reason };
  if (version.removed && version.httpStatus !== undefined) {
    return { validity: version.httpStatus < 400 ? "soft_404" : "error_page", validityReason: reason };
  }
  return { validity: "ok", validityReason: reason };
}

/**
 * Whether the capture is a setback to retry soon, with backoff: it showed no article where one
 * was expected. A teaser on a URL that only ever showed teasers, and any page of a URL whose
 * article was removed, are the URL's state, and follow its policy.
 */
function isSetback(decision: Decision, state: UrlState): boolean {
  const validity = decision.verdict?.validity;
  if (validity === undefined || validity === "ok" || decision.commit) return false;
  if (validity === "paywall" && state.latest?.teaser) return false;
  if (state.latest?.removed) return false;
  return true;
}

/**
 * `decide`, except for a capture whose version an earlier delivery already committed (it is the
 * latest, or later versions follow it): that decision stands and is not made again.
 */
export function unlessCommitted(capture: CaptureRecord, decide: Decide): Decide {
  const ownVersionId = versionIdForCapture(capture.captureId);
  return async (state) => {
    if (state.latest?.versionId === ownVersionId) return committedDecision(state.latest);
    if (state.superseded) return committedDecision(state.superseded);
    return decide(state);
  };
}

/** The version whose edit this capture announces: the one it committed, or its own committed earlier. */
export function toAnnounce(decision: Decision, committed: boolean): VersionRecord | undefined {
  return committed && decision.commit ? decision.commit : decision.announce;
}

/**
 * When to capture the URL again, from its policy and when its article last changed; after a
 * setback (a wall), sooner, with backoff (validity/backoff.ts), unless the policy is off and the
 * URL already has its article.
 */
function nextCaptureAt(
  deps: Pick<ProcessCaptureDeps, "cadence">,
  url: UrlRecord,
  capturedAt: string,
  changedNow: boolean,
  setback = false,
): string | null {
  const regular = policyNextCaptureAt(deps, url, capturedAt, changedNow);
  if (!setback || (url.recapture === "off" && url.latestVersionId !== undefined)) return regular;
  const retry = wallRetryAt(url.notOkSince, capturedAt).toISOString();
  return regular !== null && regular < retry ? regular : retry;
}

function policyNextCaptureAt(
  deps: Pick<ProcessCaptureDeps, "cadence">,
  url: UrlRecord,
  capturedAt: string,
  changedNow: boolean,
): string | null {
  const next = nextCaptureTime({
    policy: url.recapture,
    lastChangedAt: new Date(
      changedNow ? capturedAt : (url.lastChangedAt ?? url.firstCapturedAt ?? capturedAt),
    ),
    now: new Date(capturedAt),
    ...(deps.cadence ? { cadence: deps.cadence } : {}),
  });
  return next?.toISOString() ?? null;
}

/**
 * Puts the URL back on its schedule after `captureId` ended without recording on it (it failed):
 * its pending capture ends and its next time follows its policy, no sooner than `notBefore`
 * (a server's Retry-After). When another capture of the URL is
 * pending, that one owns the schedule and nothing changes.
 */
export async function scheduleNext(
  deps: Pick<ProcessCaptureDeps, "repository" | "cadence">,
  urlId: string,
  captureId: string,
  finishedAt: string,
  notBefore?: string,
): Promise<void> {
  const url = await deps.repository.getUrl(urlId);
  if (!url) return;
  const next = nextCaptureAt(deps, url, finishedAt, false);
  const held = next !== null && notBefore !== undefined && next < notBefore ? notBefore : next;
  await deps.repository.releasePending(urlId, captureId, held);
}

/**
 * The retry a capture plans when it met a bot challenge (recorded on the URL, shown by the API
 * and the URL page): one retry, at the backoff's time, per run of challenges. A capture that was
 * that retry and met a challenge again clears the plan and plans nothing; so does every challenge
 * after it while the URL's last capture showed a challenge (`lastValidity`), and the URL stays on
 * the wall backoff until a capture shows anything else. Nothing is planned when the URL is not
 * retried sooner than its policy (a removed article, or re-capture off once it has a version), nor
 * by a capture that ran beside another pending one (that one keeps the schedule); any other
 * verdict ends the plan. A redelivery of the capture that planned keeps its plan.
 */
function challengeRetryOf(
  decision: Decision,
  url: UrlRecord,
  captureId: string,
  setback: boolean,
  next: string | null,
): { challengeRetry?: ChallengeRetry | null } {
  if (decision.verdict === undefined) return {};
  const planned = url.challengeRetry;
  if (decision.verdict.validity !== "challenge" || !setback || next === null) {
    return planned ? { challengeRetry: null } : {};
  }
  // Another capture is pending: it owns the URL's schedule (recordCaptureOnUrl leaves nextCaptureAt
  // alone), so nothing is due at `next`, and that capture is no retry of this one's challenge.
  if (url.pendingCaptureId !== undefined && url.pendingCaptureId !== captureId) return {};
  if (planned?.afterCaptureId === captureId)
    return { challengeRetry: { at: next, afterCaptureId: captureId } };
  // This capture was the retry, and was challenged again: the one retry is spent.
  if (planned) return { challengeRetry: null };
  // The run of challenges already had its retry (or the redelivery of that retry is here).
  if (url.lastValidity === "challenge") return {};
  return { challengeRetry: { at: next, afterCaptureId: captureId } };
}

/**
 * What a capture records when it is the retry its URL planned after a challenge (`url` as the
 * capture read it when it started): after which capture, whether the page it loaded (`page`, the
 * browser's capture; absent when none was taken) came from a context no capture had used, and,
 * when it met a challenge again (`validity`), that no further challenge retry follows.
 */
export function challengeRetriedOf(
  url: UrlRecord,
  captureId: string,
  page: Pick<PageCapture, "freshContext"> | undefined,
  validity: Validity | undefined,
): { challengeRetried?: ChallengeRetried } {
  const planned = url.challengeRetry;
  if (!planned || planned.afterCaptureId === captureId) return {};
  return {
    challengeRetried: {
      afterCaptureId: planned.afterCaptureId,
      freshContext: page?.freshContext === true,
      ...(validity === "challenge" ? { stillChallenged: true as const } : {}),
    },
  };
}

function probeOf(probe: ProbeWrite | undefined): { probe?: ProbeWrite } {
  return probe ? { probe } : {};
}

/**
 * Records the capture on its URL: stores the decided version, then one conditional write makes it
 * the latest, counts the capture and sets the URL's next capture time. The write holds only while
 * the URL is as `state` read it. When another capture moved the latest version meanwhile, the
 * stored version is withdrawn and the outcome decided again against the new latest; when only the
 * count or the policy changed (a redelivery counted it, a person changed the schedule), the same
 * outcome is recorded against the URL as it is now. `committed` says whether this call made the
 * capture's version the latest (so its edit is announced once).
 */
export async function recordOnUrl(
  deps: ProcessCaptureDeps,
  capture: CaptureRecord,
  state: UrlState,
  decision: Decision,
  decide: Decide,
  capturedAt: string,
  /**
   * What the capture leaves for HTTP probes, given its decision and the URL as this attempt writes
   * over it (probe-capture.ts); asked again after a failed write, against the URL as it is now.
   */
  learn?: (decision: Decision, url: UrlRecord) => ProbeWrite | undefined,
): Promise<{ decision: Decision; committed: boolean }> {
  const ownVersionId = versionIdForCapture(capture.captureId);
  for (let attempt = 0; attempt < 5; attempt++) {
    // Already stored means a delivery of the same capture stored it: carry on to the pointer.
    if (decision.commit) await deps.repository.putVersion(decision.commit, { replace: state.replaceOwn });
    const setback = isSetback(decision, state);
    const next = nextCaptureAt(deps, state.url, capturedAt, decision.commit !== undefined, setback);
    const result = await deps.repository.recordCaptureOnUrl({
      seen: state.url,
      captureId: capture.captureId,
      capturedAt,
      count: state.url.lastCaptureId !== capture.captureId,
      ...(decision.commit ? { version: decision.commit } : {}),
      ...(decision.verdict
        ? {
            validity: decision.verdict.validity,
            unconfirmedTextSha256: decision.unconfirmedTextSha256 ?? null,
          }
        : {}),
      ...probeOf(learn?.(decision, state.url)),
      nextCaptureAt: next,
      ...challengeRetryOf(decision, state.url, capture.captureId, setback, next),
    });
    if (result.recorded) return { decision, committed: decision.commit !== undefined };
    const current = result.current;
    if (!current) throw new Error(`URL record ${capture.urlId} is missing for capture ${capture.captureId}`);
    if (current.latestVersionId === state.url.latestVersionId) {
      state = { ...state, url: current };
      continue;
    }
    const latest = await latestVersionOf(deps.repository, current);
    // Unless a duplicate delivery made ours the latest (or the one the latest follows), withdraw it
    // so that history has no orphan.
    if (decision.commit && latest?.versionId !== ownVersionId && latest?.previousVersionId !== ownVersionId) {
      await deps.repository.withdrawVersion(capture.urlId, ownVersionId);
    }
    state = { ...state, url: current, latest };
    decision = await decide(state);
  }
  throw new Error(`Could not record capture ${capture.captureId}: URL ${capture.urlId} kept changing`);
}
