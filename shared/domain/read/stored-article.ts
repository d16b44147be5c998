/**
 * Reading a version's stored article back. The API's diffs and pages read it, and so does the
 * capture worker when it compares a new capture with the latest version.
 */
import type { BlobReader } from "../../ports.ts";
import type { Article, VersionRecord } from "../model.ts";

/** The stored article of a version, in the shape the diff compares. */
export async function loadArticle(blobs: BlobReader, version: VersionRecord): Promise<Article> {
  const ref = version.artifacts.article;
  if (!ref) throw new Error(`version ${version.versionId} has no article artifact`);
  const parsed = JSON.parse(new TextDecoder().decode(await blobs.getBlob(ref))) as Partial<Article>;
  return {
    title: parsed.title ?? null,
    byline: parsed.byline ?? null,
    publishedTime: parsed.publishedTime ?? null,
    modifiedTime: parsed.modifiedTime ?? null,
    lang: parsed.lang ?? null,
    text: parsed.text ?? "",
  };
}
