/** The CDXJ index of a WARC, from warcio's own indexer (the one ReplayWeb.page's wabac.js shares). */
import { CDXIndexer } from "warcio";

/** The WARC's name inside `archive/`, as index lines name it. */
export const WARC_FILE_NAME = "data.warc.gz";

/** CDXJ lines sorted as the format requires: by "SURT key timestamp", in byte order, for binary search. */
export async function cdxjIndex(warc: Uint8Array): Promise<string> {
  const indexer = new CDXIndexer({ format: "cdxj" });
  const lines: string[] = [];
  for await (const entry of indexer.iterIndex([{ filename: WARC_FILE_NAME, reader: single(warc) }])) {
    lines.push(indexer.serializeCDXJ(entry));
  }
  return lines.sort(compareCdxj).join("");
}

/**
 * The same index for a WARC written here (build-warc.ts): warcio's indexer reads the records
 * uncompressed, which spares inflating every body again, and each entry's offset and length are
 * then those of the record's gzip member. `verifyWacz` recomputes the index from the gzipped file
 * with `cdxjIndex` and requires the same bytes.
 */
export async function cdxjIndexOfRecords(
  uncompressed: readonly Uint8Array[],
  layout: readonly { uncompressedOffset: number; offset: number; length: number }[],
): Promise<string> {
  const byStart = new Map(layout.map((record) => [record.uncompressedOffset, record]));
  const indexer = new CDXIndexer({ format: "cdxj" });
  const lines: string[] = [];
  for await (const entry of indexer.iterIndex([{ filename: WARC_FILE_NAME, reader: each(uncompressed) }])) {
    const member = byStart.get(Number(entry.offset));
    if (!member) throw new Error(`the index names a record at ${entry.offset}, where none starts`);
    entry.offset = member.offset;
    entry.length = member.length;
    lines.push(indexer.serializeCDXJ(entry));
  }
  return lines.sort(compareCdxj).join("");
}

function compareCdxj(a: string, b: string): number {
  const ka = a.slice(0, a.indexOf(" {"));
  const kb = b.slice(0, b.indexOf(" {"));
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

async function* single(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/** Record by record: the reader copies what follows a line it reads, so one huge chunk costs O(n²). */
async function* each(records: readonly Uint8Array[]): AsyncIterable<Uint8Array> {
  yield* records;
}
