/**
 * Noise rules apply from when they are set: the version a new capture is compared with was
 * extracted under the rules of its day. Compared as stored, a rule that drops a live ticker
 * would show up as the ticker "removed" — an edit the person's rule made, not the outlet. So
 * the version is read again from its stored snapshot under today's rules, when that reading is
 * faithful (the snapshot, read under the old rules, gives back the stored text).
 */
import type { BlobReader } from "../../ports.ts";
import type { Article, VersionRecord } from "../model.ts";
import { comparableArticle } from "../normalise-text.ts";
import { selectorsKey } from "./noise-rules.ts";

type Extract = (html: string, options: { url: string; dropSelectors?: readonly string[] }) => Article | null;

/**
 * The baseline article as today's rules would have extracted it; `stored` itself when the
 * rules are the same as the version's, the version has no snapshot, or its snapshot does not
 * read back to the stored text.
 */
export async function baselineUnderRules(
  deps: { blobs: BlobReader; extract: Extract },
  baseline: VersionRecord,
  stored: Article,
  selectors: readonly string[],
  url: string,
): Promise<Article> {
  const before = (baseline.noiseSelectors ?? "").split("\n").filter((s) => s !== "");
  if (selectorsKey(selectors) === selectorsKey(before)) return stored;
  const ref = baseline.artifacts.snapshot;
  if (!ref) return stored;
  const snapshot = new TextDecoder().decode(await deps.blobs.getBlob(ref));
  const asStored = deps.extract(snapshot, { url, ...(before.length > 0 ? { dropSelectors: before } : {}) });
  if (
    asStored === null ||
    comparableArticle(asStored.title, asStored.text) !== comparableArticle(stored.title, stored.text)
  ) {
    return stored;
  }
  return (
    deps.extract(snapshot, { url, ...(selectors.length > 0 ? { dropSelectors: selectors } : {}) }) ?? stored
  );
}
