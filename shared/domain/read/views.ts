/** The API's JSON shapes, built from records. Artifact links are presigned per request. */
import type { BlobReader } from "../../ports.ts";
import {
  type ArtifactName,
  type ArtifactRef,
  type CaptureRecord,
  captureMethod,
  type UrlRecord,
  type VersionRecord,
} from "../model.ts";

export interface ArtifactLink {
  url: string;
  contentType: string;
  bytes: number;
  sha256: string;
}

/** The raw response and the evidence package are offered as downloads; everything else opens in the browser. */
const DISPOSITION: Record<ArtifactName, "inline" | "attachment"> = {
  snapshot: "inline",
  screenshot: "inline",
  article: "inline",
  text: "inline",
  raw: "attachment",
  diff: "inline",
  diffHtml: "inline",
  wacz: "attachment",
};

export async function artifactLinks(
  blobs: BlobReader,
  artifacts: Partial<Record<ArtifactName, ArtifactRef>>,
  expiresInSeconds: number,
): Promise<Record<string, ArtifactLink>> {
  const entries = await Promise.all(
    Object.entries(artifacts).map(async ([name, ref]) => {
      const url = await blobs.presignGet(ref, {
        expiresInSeconds,
        disposition: DISPOSITION[name as ArtifactName] ?? "attachment",
      });
      return [name, { url, contentType: ref.contentType, bytes: ref.bytes, sha256: ref.sha256 }] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/**
 * What a succeeded capture found, in one word: the URL's `first_version` (nothing to compare it
 * with, which is not "no change"), a `new_version` (`changed` says whether it differs), the text
 * `unchanged` since the latest version, the article `removed`, or `no_version` (nothing the
 * archive keeps as the article's text).
 */
export type CaptureOutcome = "first_version" | "new_version" | "unchanged" | "removed" | "no_version";

/** The outcome of a finished capture, given the version it points to (undefined while it runs or after it failed). */
export function captureOutcome(
  capture: CaptureRecord,
  version: VersionRecord | null,
): CaptureOutcome | undefined {
  if (capture.status !== "succeeded") return undefined;
  if (capture.removed) return "removed";
  if (capture.versionId === undefined || version === null) return "no_version";
  if (version.captureId !== capture.captureId) return "unchanged";
  return version.previousVersionId === undefined ? "first_version" : "new_version";
}

/**
 * A capture as the API shows it. `version` is the version it points to, when the caller read it:
 * then the view says the capture's `outcome` (lists leave it out rather than read a version per row).
 */
export async function captureView(
  capture: CaptureRecord,
  blobs: BlobReader,
  expiresInSeconds: number,
  version?: VersionRecord | null,
): Promise<Record<string, unknown>> {
  const { artifacts, ...rest } = capture;
  const outcome = version === undefined ? undefined : captureOutcome(capture, version);
  const finished = capture.status === "succeeded" || capture.status === "failed";
  return {
    ...rest,
    // How the page was read; captures from before HTTP probes all used the browser.
    ...(finished ? { method: captureMethod(capture) } : {}),
    ...(outcome ? { outcome } : {}),
    ...(artifacts ? { artifacts: await artifactLinks(blobs, artifacts, expiresInSeconds) } : {}),
  };
}

export function urlView(url: UrlRecord, versions: VersionRecord[]): Record<string, unknown> {
  return {
    urlId: url.urlId,
    url: url.url,
    title: url.title ?? null,
    captureCount: url.captureCount,
    versionCount: url.versionCount,
    firstCapturedAt: url.firstCapturedAt ?? null,
    lastCapturedAt: url.lastCapturedAt ?? null,
    ...(url.nextCaptureAt && url.recapture !== "off" ? { nextCaptureAt: url.nextCaptureAt } : {}),
    recapture: url.recapture,
    // What the last capture showed, and since when the captures have not shown the article (an
    // outlet that started blocking us is news for the operator too).
    ...(url.lastValidity ? { lastValidity: url.lastValidity } : {}),
    ...(url.notOkSince ? { notOkSince: url.notOkSince } : {}),
    // After a bot challenge: the retry planned (never a solved captcha), and which attempt it is.
    ...(url.challengeRetry ? { challengeRetry: url.challengeRetry } : {}),
    versions: versions.map((v) => ({
      versionId: v.versionId,
      capturedAt: v.capturedAt,
      title: v.title ?? null,
      textSha256: v.textSha256,
      captureId: v.captureId,
      ...(v.edit ? { edit: v.edit } : {}),
      ...(v.summary ? { summary: v.summary } : {}),
      ...(v.revertOf ? { revertOf: v.revertOf } : {}),
      ...(v.removed ? { removed: true, httpStatus: v.httpStatus } : {}),
      ...(v.finalUrl ? { finalUrl: v.finalUrl } : {}),
      ...(v.teaser ? { teaser: true } : {}),
      ...(v.evidence ? { evidence: v.evidence } : {}),
    })),
  };
}
