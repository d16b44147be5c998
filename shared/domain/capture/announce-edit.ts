/** Publishing: subscribers learn of a flagged edit once its version is the URL's latest. */
import type { CaptureRecord, VersionRecord } from "../model.ts";
import type { ProcessCaptureDeps } from "./types.ts";

/** Subscribers learn of the edit; a delivery failure is logged, never fails the capture. */
export async function announceEdit(
  deps: ProcessCaptureDeps,
  capture: CaptureRecord,
  version: VersionRecord | undefined,
): Promise<void> {
  const previousVersionId = version?.previousVersionId;
  if (!deps.publisher || !version?.edit || previousVersionId === undefined) return;
  try {
    await deps.publisher.publish({
      type: "ArticleEdited",
      urlId: capture.urlId,
      url: capture.url,
      versionId: version.versionId,
      previousVersionId,
      captureId: capture.captureId,
      capturedAt: version.capturedAt,
      title: version.title ?? null,
      edit: version.edit,
      summary: version.summary ?? "",
      ...(version.revertOf ? { revertOf: version.revertOf } : {}),
    });
  } catch (err) {
    deps.logger.error("edit event not delivered", {
      captureId: capture.captureId,
      versionId: version.versionId,
      err,
    });
  }
}
