/**
 * A capture's evidence package: WACZ 1.1.1 with the WARC, its CDXJ index (from warcio's own
 * indexer), `pages.jsonl`, `datapackage.json` listing every file's sha256, and
 * `datapackage-digest.json` signed as in "WACZ Signing and Verification" (anonymous signature:
 * ECDSA P-256 over the UTF-8 bytes of the `sha256:…` hash string, IEEE P1363 `r‖s`, base64, with
 * the SPKI public key beside it: the form ReplayWeb.page and ArchiveWeb.page verify with WebCrypto).
 */
import { ZipFile } from "yazl";
import type { EvidenceSigner } from "../../ports.ts";
import { buildWarc, concat } from "./build-warc.ts";
import { cdxjIndexOfRecords } from "./cdxj-index.ts";
import type { EvidenceInput, SignedData } from "./model.ts";
import {
  DATAPACKAGE,
  DATAPACKAGE_DIGEST,
  type DataPackage,
  INDEX_PATH,
  PAGES_PATH,
  type PackageResource,
  SOFTWARE,
  serialiseJson,
  sha256Label,
  WACZ_VERSION,
  WARC_PATH,
  ZIP_ENTRY_MODE,
} from "./wacz-layout.ts";

const encoder = new TextEncoder();

export interface BuiltWacz {
  bytes: Uint8Array;
  /** sha256 of `datapackage.json`, the value that was signed. */
  datapackageHash: string;
  warcRecords: number;
}

/** Builds and signs the package; `version` is Palimpsest's, written as the software that made it. */
export async function buildWacz(
  input: EvidenceInput,
  signer: EvidenceSigner,
  options: { version: string },
): Promise<BuiltWacz> {
  const software = `${SOFTWARE} ${options.version}`;
  const warc = await buildWarc(input, software);
  const index = encoder.encode(await cdxjIndexOfRecords(warc.uncompressed, warc.layout));
  const pages = encoder.encode(pagesJsonl(input));
  const files: [string, Uint8Array][] = [
    [WARC_PATH, warc.bytes],
    [INDEX_PATH, index],
    [PAGES_PATH, pages],
  ];
  const datapackage: DataPackage = {
    profile: "data-package",
    wacz_version: WACZ_VERSION,
    title: input.title ?? input.pageUrl,
    description: `Palimpsest's capture of ${input.pageUrl} at ${input.capturedAt}.`,
    created: input.createdAt,
    software,
    mainPageUrl: input.pageUrl,
    mainPageDate: input.capturedAt,
    resources: files.map(
      ([path, bytes]): PackageResource => ({
        name: path.slice(path.lastIndexOf("/") + 1),
        path,
        hash: sha256Label(bytes),
        bytes: bytes.length,
      }),
    ),
  };
  const datapackageBytes = encoder.encode(serialiseJson(datapackage));
  const hash = sha256Label(datapackageBytes);
  // Both at once: with KMS each is a round trip, and neither needs the other.
  const [signature, publicKey] = await Promise.all([signer.sign(encoder.encode(hash)), signer.publicKey()]);
  const signedData: SignedData = {
    hash,
    signature: Buffer.from(signature).toString("base64"),
    publicKey: Buffer.from(publicKey).toString("base64"),
    created: input.createdAt,
    software: SOFTWARE,
    version: options.version,
  };
  const digest = encoder.encode(serialiseJson({ path: DATAPACKAGE, hash, signedData }));
  const bytes = await zip(
    [...files, [DATAPACKAGE, datapackageBytes], [DATAPACKAGE_DIGEST, digest]],
    new Date(input.createdAt),
  );
  return { bytes, datapackageHash: hash, warcRecords: warc.records };
}

function pagesJsonl(input: EvidenceInput): string {
  const page = {
    id: "main",
    url: input.pageUrl,
    ts: input.capturedAt,
    title: input.title ?? input.pageUrl,
    ...(input.text !== undefined ? { text: input.text } : {}),
  };
  return `${JSON.stringify({ format: "json-pages-1.0", id: "pages", title: "All Pages" })}\n${JSON.stringify(page)}\n`;
}

/** The zip, every entry stored with the package's time and one mode (see wacz-layout.ts). */
function zip(entries: readonly [string, Uint8Array][], mtime: Date): Promise<Uint8Array> {
  const file = new ZipFile();
  for (const [path, bytes] of entries) {
    file.addBuffer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), path, {
      compress: false,
      mtime,
      mode: ZIP_ENTRY_MODE,
      forceDosTimestamp: true,
    });
  }
  file.end();
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    file.outputStream.on("data", (chunk: Buffer) => chunks.push(chunk));
    file.outputStream.on("error", reject);
    file.outputStream.on("end", () => resolve(concat(chunks)));
  });
}
