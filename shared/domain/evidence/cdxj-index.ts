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

function compareCdxj(a: string, b: string): number {
  const ka = a.slice(0, a.indexOf(" {"));
  const kb = b.slice(0, b.indexOf(" {"));
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

async function* single(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
