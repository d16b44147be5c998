/**
 * Reads every record of a WARC back with warcio's parser and recomputes its digests: the block
 * digest over the whole record body, the payload digest over an HTTP message's entity (the
 * block after its header section) or over the block of any other record.
 */
import { createHash } from "node:crypto";
import base32Encode from "base32-encode";
import { WARCParser } from "warcio";
import type { Problem } from "./zip-container.ts";

/** What was read: the records, and the problems found (an unreadable WARC stops at the first). */
export interface WarcCheck {
  records: WarcRecordSummary[];
  problems: Problem[];
}

export interface WarcRecordSummary {
  type: string;
  targetUri: string | null;
  recordId: string | null;
  offset: number;
}

const HASHES: Record<string, string> = { sha1: "sha1", sha256: "sha256", sha512: "sha512", md5: "md5" };
const HEADER_END = Buffer.from("\r\n\r\n");

export async function checkWarc(path: string, bytes: Uint8Array): Promise<WarcCheck> {
  const records: WarcRecordSummary[] = [];
  const problems: Problem[] = [];
  const parser = new WARCParser([bytes], { parseHttp: false, keepHeadersCase: true });
  try {
    for await (const record of parser) {
      const summary: WarcRecordSummary = {
        type: record.warcType ?? "(no type)",
        targetUri: record.warcTargetURI ?? null,
        recordId: record.warcHeader("WARC-Record-ID") ?? null,
        offset: parser.offset,
      };
      records.push(summary);
      const where = `${path} record ${records.length} (${summary.type}${summary.targetUri ? ` ${summary.targetUri}` : ""}, at byte ${summary.offset})`;
      const block = await record.readFully(false);
      const blockDigest = record.warcHeader("WARC-Block-Digest");
      if (blockDigest !== undefined && blockDigest !== null) {
        const problem = digestProblem("WARC-Block-Digest", blockDigest, block);
        if (problem) problems.push({ where, message: problem });
      } else if (summary.type !== "warcinfo") {
        problems.push({ where, message: "has no WARC-Block-Digest" });
      }
      const payloadDigest = record.warcHeader("WARC-Payload-Digest");
      // A revisit's payload digest names the original's payload, which is elsewhere.
      if (payloadDigest && summary.type !== "revisit") {
        const problem = digestProblem(
          "WARC-Payload-Digest",
          payloadDigest,
          payloadOf(record.warcContentType, block),
        );
        if (problem) problems.push({ where, message: problem });
      }
    }
    // warcio ends quietly at bytes that do not inflate to a record: whatever is left was not read.
    if (parser.offset !== bytes.length) {
      problems.push({
        where: path,
        message: `cannot be read past record ${records.length}: bytes ${parser.offset} to ${bytes.length} are not WARC records`,
      });
    }
  } catch (cause) {
    problems.push({
      where: path,
      message: `cannot be read past record ${records.length}: ${(cause as Error).message}`,
    });
  }
  if (records.length === 0 && problems.length === 0)
    problems.push({ where: path, message: "holds no record" });
  return { records, problems };
}

/** An HTTP message's payload is its body; any other record's payload is its whole block. */
function payloadOf(contentType: string | null | undefined, block: Uint8Array): Uint8Array {
  if (!contentType?.toLowerCase().startsWith("application/http")) return block;
  const at = Buffer.from(block.buffer, block.byteOffset, block.length).indexOf(HEADER_END);
  return at < 0 ? new Uint8Array(0) : block.subarray(at + HEADER_END.length);
}

/** Checks a labelled digest (`sha256:<hex>`, `sha1:<BASE32>`…); returns why it fails, or null. */
function digestProblem(header: string, labelled: string, bytes: Uint8Array): string | null {
  const colon = labelled.indexOf(":");
  const algorithm = HASHES[labelled.slice(0, colon).toLowerCase()];
  if (colon < 0 || algorithm === undefined)
    return `${header} "${labelled}" uses an algorithm this checker does not know`;
  const given = labelled.slice(colon + 1);
  const digest = createHash(algorithm).update(bytes).digest();
  const matches =
    /^[0-9a-f]+$/i.test(given) && given.length === digest.length * 2
      ? given.toLowerCase() === digest.toString("hex")
      : given.toUpperCase().replace(/=+$/, "") === base32Encode(digest, "RFC4648", { padding: false });
  return matches
    ? null
    : `${header} does not match the record's ${header === "WARC-Block-Digest" ? "block" : "payload"}`;
}
