/** The API's JSON shapes, built from records. Artifact links are presigned per request. */
import type { BlobReader } from "../../ports.ts";
import type { ArtifactName, ArtifactRef, CaptureRecord, UrlRecord, VersionRecord } from "../model.ts";

export interface ArtifactLink {
  url: string;
  contentType: string;
  bytes: number;
  sha256: string;
}

/** The raw response is offered as a download; everything else opens in the browser. */
const DISPOSITION: Record<ArtifactName, "inline" | "attachment"> = {
  snapshot: "inline",
  screenshot: "inline",
  article: "inline",
  text: "inline",
  raw: "attachment",
  diff: "inline",
  diffHtml: "inline",
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

export async function captureView(
  capture: CaptureRecord,
  blobs: BlobReader,
  expiresInSeconds: number,
): Promise<Record<string, unknown>> {
  const { artifacts, ...rest } = capture;
  return {
    ...rest,
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
    })),
  };
}
