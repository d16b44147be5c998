/**
 * Storing what a capture took. Every artifact is stored once under the SHA-256 of its bytes, so a
 * redelivered capture that stores the same bytes again changes nothing.
 */
import type { Logger } from "../../logger.ts";
import type { PageCapture } from "../../ports.ts";
import type { ArtifactName, ArtifactRef } from "../model.ts";
import type { ProcessCaptureDeps, Put, UrlState } from "./types.ts";

const encoder = new TextEncoder();

/** Stores blobs; those the latest version has already are stored, so they are not sent again. */
export function uploader(deps: ProcessCaptureDeps, state: UrlState): Put {
  const alreadyStored = new Set(Object.values(state.latest?.artifacts ?? {}).map((ref) => ref.sha256));
  return (body, contentType, fileName) =>
    deps.blobs.putBlob(body, { contentType, fileName }, { alreadyStored });
}

/** The uploads of what the browser took: the snapshot, the screenshot and the raw response. */
export function pageUploads(
  put: Put,
  page: Pick<PageCapture, "snapshotHtml" | "screenshot" | "raw">,
): Array<[ArtifactName, Promise<ArtifactRef>]> {
  return [
    ["snapshot", put(encoder.encode(page.snapshotHtml), "text/html; charset=utf-8", "snapshot.html")],
    [
      "screenshot",
      put(
        page.screenshot.body,
        page.screenshot.contentType,
        `screenshot.${page.screenshot.contentType.includes("png") ? "png" : "jpg"}`,
      ),
    ],
    ["raw", put(page.raw.body, page.raw.contentType, "raw.html")],
  ];
}

/**
 * The stored artifacts by name, once every upload is done. Awaited together: one failed upload
 * must not leave the others' failures unobserved (an unhandled rejection ends the process).
 */
export async function storedTogether(
  uploads: Array<[ArtifactName, Promise<ArtifactRef>]>,
): Promise<Partial<Record<ArtifactName, ArtifactRef>>> {
  return Object.fromEntries(
    await Promise.all(uploads.map(async ([name, ref]) => [name, await ref] as const)),
  );
}

/** The snapshot, screenshot and raw response of a failed capture's page; none if storing fails. */
export async function storeEvidence(
  deps: ProcessCaptureDeps,
  page: PageCapture,
  log: Logger,
): Promise<Partial<Record<ArtifactName, ArtifactRef>> | undefined> {
  const put: Put = (body, contentType, fileName) => deps.blobs.putBlob(body, { contentType, fileName });
  try {
    return await storedTogether(pageUploads(put, page));
  } catch (err) {
    log.warn("what the failed page showed could not be stored", { err });
    return undefined;
  }
}
