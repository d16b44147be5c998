/**
 * Checks a WACZ as a third party would, trusting nothing in it: the zip container byte by byte,
 * every file against the sha256 datapackage.json lists, datapackage.json against the digest file,
 * the digest file's signature against the public key it carries (and, when given, against the key
 * the caller expects), and every WARC record's digests. Packages Palimpsest wrote are also held to
 * the exact form it writes (index regenerated and compared, canonical JSON and base64), so that no
 * byte of them can change unnoticed.
 */
import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { cdxjIndex } from "./cdxj-index.ts";
import { checkWarc } from "./check-warc.ts";
import {
  DATAPACKAGE,
  DATAPACKAGE_DIGEST,
  INDEX_PATH,
  SOFTWARE,
  serialiseJson,
  sha256Label,
  WARC_PATH,
} from "./wacz-layout.ts";
import { type Problem, readZip } from "./zip-container.ts";

export type { Problem } from "./zip-container.ts";

export interface WaczVerification {
  valid: boolean;
  /** Everything found wrong, most basic first; empty when valid. */
  problems: Problem[];
  /** The key the package says signed it (DER SPKI), when it carries one that parses. */
  publicKey?: Uint8Array;
  /** `sha256:<hex>` of the public key's DER: a short name to compare keys by. */
  keyFingerprint?: string;
  created?: string;
  software?: string;
  mainPageUrl?: string;
  files: number;
  records: number;
}

const ANONYMOUS_FIELDS = ["hash", "signature", "publicKey", "created", "software", "version"];
const REQUIRED_SIGNED_FIELDS = ["hash", "signature", "publicKey"];
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Verifies a WACZ's bytes; `expectedPublicKey` (DER SPKI) is the key the signer must be. */
export async function verifyWacz(
  bytes: Uint8Array,
  options: { expectedPublicKey?: Uint8Array } = {},
): Promise<WaczVerification> {
  const problems: Problem[] = [];
  const zip = await readZip(bytes);
  const files = zip.files;
  const result: WaczVerification = { valid: false, problems, files: files.size, records: 0 };
  const datapackageBytes = files.get(DATAPACKAGE);
  const datapackage = datapackageBytes ? parseJson(DATAPACKAGE, datapackageBytes, problems) : undefined;
  const ours = typeof datapackage?.software === "string" && datapackage.software.startsWith(`${SOFTWARE} `);
  problems.push(...zip.problems, ...(ours ? zip.unlikeWriter : []));
  if (files.size === 0) return finish(result);
  if (!datapackageBytes) problems.push({ where: DATAPACKAGE, message: "is missing" });
  if (!datapackage) return finish(result);
  result.created = stringField(datapackage.created);
  result.software = stringField(datapackage.software);
  result.mainPageUrl = stringField(datapackage.mainPageUrl);

  checkResources(datapackage, files, problems);
  const digestBytes = files.get(DATAPACKAGE_DIGEST);
  if (!digestBytes) {
    problems.push({ where: DATAPACKAGE_DIGEST, message: "is missing: the package is not signed" });
  } else if (datapackageBytes) {
    checkDigest(digestBytes, datapackageBytes, datapackage, ours, options, result);
  }
  for (const [path, data] of files) {
    if (!/^archive\/.+\.warc(\.gz)?$/.test(path)) continue;
    const warc = await checkWarc(path, data);
    result.records += warc.records.length;
    problems.push(...warc.problems);
  }
  if (ours) {
    const warc = files.get(WARC_PATH);
    const index = files.get(INDEX_PATH);
    if (warc && index && Buffer.compare(Buffer.from(await cdxjIndex(warc)), Buffer.from(index)) !== 0) {
      problems.push({ where: INDEX_PATH, message: `is not the index of ${WARC_PATH}` });
    }
  }
  return finish(result);
}

function finish(result: WaczVerification): WaczVerification {
  result.valid = result.problems.length === 0;
  return result;
}

/** Every file but the two manifests is listed once, with the size and sha256 it has. */
function checkResources(
  datapackage: Record<string, unknown>,
  files: ReadonlyMap<string, Uint8Array>,
  problems: Problem[],
): void {
  if (datapackage.profile !== "data-package") {
    problems.push({
      where: DATAPACKAGE,
      message: `its profile is ${JSON.stringify(datapackage.profile)}, not "data-package"`,
    });
  }
  if (!Array.isArray(datapackage.resources)) {
    problems.push({ where: DATAPACKAGE, message: "lists no resources" });
    return;
  }
  const listed = new Set<string>();
  for (const resource of datapackage.resources as Record<string, unknown>[]) {
    const path = stringField(resource?.path);
    if (path === undefined) {
      problems.push({ where: DATAPACKAGE, message: "lists a resource without a path" });
      continue;
    }
    listed.add(path);
    const data = files.get(path);
    if (!data) {
      problems.push({ where: path, message: `is listed in ${DATAPACKAGE} but not in the zip` });
      continue;
    }
    const hash = stringField(resource.hash);
    if (!hash?.startsWith("sha256:")) {
      problems.push({ where: path, message: `${DATAPACKAGE} gives no sha256 for it` });
    } else if (hash !== sha256Label(data)) {
      problems.push({
        where: path,
        message: `its sha256 is ${sha256Label(data)}, not ${hash} as ${DATAPACKAGE} says`,
      });
    }
    if (resource.bytes !== undefined && resource.bytes !== data.length) {
      problems.push({
        where: path,
        message: `is ${data.length} bytes, not ${String(resource.bytes)} as ${DATAPACKAGE} says`,
      });
    }
  }
  for (const path of files.keys()) {
    if (path !== DATAPACKAGE && path !== DATAPACKAGE_DIGEST && !listed.has(path)) {
      problems.push({
        where: path,
        message: `is in the zip but not listed in ${DATAPACKAGE}: nothing vouches for it`,
      });
    }
  }
}

/** The digest file: hash of datapackage.json, then the anonymous signature of that hash. */
function checkDigest(
  digestBytes: Uint8Array,
  datapackageBytes: Uint8Array,
  datapackage: Record<string, unknown>,
  ours: boolean,
  options: { expectedPublicKey?: Uint8Array },
  result: WaczVerification,
): void {
  const problems = result.problems;
  const problem = (message: string): void => {
    problems.push({ where: DATAPACKAGE_DIGEST, message });
  };
  const digest = parseJson(DATAPACKAGE_DIGEST, digestBytes, problems);
  if (!digest) return;
  if (ours && decoder.decode(digestBytes) !== serialiseJson(digest)) {
    problem("is not in the form Palimpsest writes it (its bytes were changed)");
  }
  if (digest.path !== DATAPACKAGE) problem(`names ${JSON.stringify(digest.path)}, not ${DATAPACKAGE}`);
  const hash = sha256Label(datapackageBytes);
  if (digest.hash !== hash) problem(`gives ${String(digest.hash)}; ${DATAPACKAGE} hashes to ${hash}`);
  const signed = digest.signedData as Record<string, unknown> | undefined;
  if (signed === undefined || signed === null || typeof signed !== "object") {
    problem("has no signedData: the package is not signed");
    return;
  }
  if ("domainCert" in signed || "domain" in signed) {
    problem("is signed with a domain certificate; this checker verifies anonymous (public key) signatures");
    return;
  }
  const unknown = Object.keys(signed).filter((k) => !ANONYMOUS_FIELDS.includes(k));
  if (unknown.length > 0) problem(`signedData has fields the spec does not allow: ${unknown.join(", ")}`);
  const missing = REQUIRED_SIGNED_FIELDS.filter((k) => typeof signed[k] !== "string");
  if (missing.length > 0) {
    problem(`signedData lacks ${missing.join(", ")}`);
    return;
  }
  if (signed.hash !== digest.hash) problem("signedData signs another hash than the one it stands beside");
  if (ours) {
    if (signed.created !== datapackage.created)
      problem(`signedData.created differs from ${DATAPACKAGE}'s created`);
    if (`${String(signed.software)} ${String(signed.version)}` !== datapackage.software) {
      problem(`signedData's software and version differ from ${DATAPACKAGE}'s software`);
    }
  }
  const publicKeyDer = canonicalBase64(signed.publicKey as string);
  const signature = canonicalBase64(signed.signature as string);
  if (!publicKeyDer || !signature) {
    problem(`signedData.${publicKeyDer ? "signature" : "publicKey"} is not base64`);
    return;
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(publicKeyDer), format: "der", type: "spki" });
  } catch (cause) {
    problem(`signedData.publicKey is not a public key: ${(cause as Error).message}`);
    return;
  }
  result.publicKey = publicKeyDer;
  result.keyFingerprint = sha256Label(publicKeyDer);
  if (key.asymmetricKeyType !== "ec") {
    problem(`signedData.publicKey is a ${key.asymmetricKeyType} key, not ECDSA`);
    return;
  }
  // WebCrypto (ArchiveWeb.page, ReplayWeb.page, Palimpsest) writes r‖s; accept DER from other signers.
  const dsaEncoding =
    signature.length === 64 || signature.length === 96 || signature.length === 132 ? "ieee-p1363" : "der";
  let good = false;
  try {
    good = verify("sha256", new TextEncoder().encode(String(signed.hash)), { key, dsaEncoding }, signature);
  } catch {
    good = false;
  }
  if (!good) problem("the signature does not verify with the public key it carries");
  const expected = options.expectedPublicKey;
  if (expected && Buffer.compare(Buffer.from(expected), Buffer.from(publicKeyDer)) !== 0) {
    problem(`was signed by key ${result.keyFingerprint}, not the expected key ${sha256Label(expected)}`);
  }
}

/** Base64 that decodes and encodes back to itself: Node's decoder skips stray characters and spare bits. */
function canonicalBase64(text: string): Uint8Array | undefined {
  const bytes = Buffer.from(text, "base64");
  return bytes.length > 0 && bytes.toString("base64") === text ? new Uint8Array(bytes) : undefined;
}

function parseJson(
  path: string,
  bytes: Uint8Array,
  problems: Problem[],
): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(decoder.decode(bytes)) as unknown;
    if (value !== null && typeof value === "object" && !Array.isArray(value))
      return value as Record<string, unknown>;
    problems.push({ where: path, message: "is not a JSON object" });
  } catch (cause) {
    problems.push({ where: path, message: `is not valid JSON: ${(cause as Error).message}` });
  }
  return undefined;
}

function stringField(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
