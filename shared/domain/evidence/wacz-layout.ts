/**
 * The fixed parts of the WACZ 1.1.1 packages Palimpsest writes, shared by the writer
 * (`build-wacz.ts`) and the checker (`verify-wacz.ts`) so the two cannot drift apart.
 */
import { createHash } from "node:crypto";
import { WARC_FILE_NAME } from "./cdxj-index.ts";

export const WACZ_VERSION = "1.1.1";
export const DATAPACKAGE = "datapackage.json";
export const DATAPACKAGE_DIGEST = "datapackage-digest.json";
export const WARC_PATH = `archive/${WARC_FILE_NAME}`;
export const INDEX_PATH = "indexes/index.cdx";
export const PAGES_PATH = "pages/pages.jsonl";

/** The software that signs, as `signedData.software`; with the version it is datapackage.json's `software`. */
export const SOFTWARE = "Palimpsest";

/**
 * Every entry is stored, not deflated. The spec requires it of the WARC (already gzip) and allows
 * it for the rest, and it keeps the container free of bytes that depend on a zlib version.
 * Unix permissions 0644 on every entry: the zip's only field that no other field repeats, so the
 * checker can hold it to this one value.
 */
export const ZIP_ENTRY_MODE = 0o100644;

/** `sha256:<hex>`, the form datapackage.json, the digest file and WARC digests use. */
export function sha256Label(bytes: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** A resource line of datapackage.json. */
export interface PackageResource {
  name: string;
  path: string;
  hash: string;
  bytes: number;
}

/** datapackage.json as Palimpsest writes it (other writers add or omit optional fields). */
export interface DataPackage {
  profile: "data-package";
  wacz_version: string;
  title: string;
  description?: string;
  created: string;
  modified?: string;
  software: string;
  mainPageUrl: string;
  mainPageDate: string;
  resources: PackageResource[];
}

/** The digest file's canonical bytes: the checker re-serialises what it parsed and compares. */
export function serialiseJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
