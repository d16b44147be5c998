/**
 * WARC/1.1 writing with webrecorder's warcio: a `warcinfo` record, a `response` and a `request`
 * record for every exchange (the request `WARC-Concurrent-To` its response), `revisit` records,
 * a `resource` record for each thing Palimpsest derived, and one `metadata` record of provenance.
 * Each record is its own gzip member, so a reader can seek to any record (the CDXJ index's offsets).
 */
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { WARCRecord, WARCSerializer } from "warcio";
import { WARC_FILE_NAME } from "./cdxj-index.ts";
import type {
  CaptureProvenance,
  DerivedResource,
  EvidenceInput,
  HeaderLines,
  RecordedExchange,
} from "./model.ts";

const WARC_VERSION = "WARC/1.1";
const gzipMember = promisify(gzip);
const encoder = new TextEncoder();

/** The target URI of a derived resource or the provenance: never a URL a replay would look up. */
export function derivedUri(name: string, pageUrl: string): string {
  return `urn:palimpsest:${name}:${pageUrl}`;
}

/** The serialized WARC (concatenated gzip members) and how many records it holds. */
export interface WarcFile {
  bytes: Uint8Array;
  records: number;
  /** The same records uncompressed, for indexing without inflating them again. */
  uncompressed: readonly Uint8Array[];
  /** Where each record starts and how long it is, uncompressed and as its gzip member. */
  layout: readonly RecordLayout[];
}

export interface RecordLayout {
  uncompressedOffset: number;
  offset: number;
  length: number;
}

/**
 * Each record is serialised by warcio uncompressed (its digests computed there) and gzipped here
 * with Node's zlib at level 1, on the thread pool, all at once: warcio's own gzip (a
 * CompressionStream at the default level, one record after another on the main thread) took about
 * a second for a 10 MB package of images on the bench machine, where bodies (images, fonts, gzip
 * that the browser already inflated) gain little from a higher level.
 */
export async function buildWarc(input: EvidenceInput, software: string): Promise<WarcFile> {
  const pending: Promise<Uint8Array>[] = [];
  const levels: number[] = [];
  const add = async (record: WARCRecord, level = 1) => {
    const serialized = WARCSerializer.serialize(record, { gzip: false });
    serialized.catch(() => {}); // awaited with the others below, perhaps after the late provenance
    pending.push(serialized);
    levels.push(level);
  };

  await add(
    await WARCRecord.createWARCInfo(
      { warcVersion: WARC_VERSION, filename: WARC_FILE_NAME, date: input.createdAt },
      {
        software,
        format: "WARC File Format 1.1",
        conformsTo: "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        description: `Capture of ${input.pageUrl}`,
        "http-header-user-agent": input.provenance.userAgent,
      },
    ),
  );
  for (const exchange of input.exchanges) {
    const level = alreadyCompressed(exchange) ? 0 : 1;
    for (const record of exchangeRecords(exchange)) await add(record, level);
  }
  for (const revisit of input.revisits ?? []) {
    await add(
      WARCRecord.create(
        {
          url: revisit.url,
          date: revisit.startedAt,
          type: "revisit",
          warcVersion: WARC_VERSION,
          statusline: statusLine(revisit.response),
          httpHeaders: headerPairs(revisit.response.headers),
          refersToUrl: revisit.refersTo.url,
          refersToDate: revisit.refersTo.date,
          warcHeaders: compact({
            "WARC-Payload-Digest": revisit.payloadDigest,
            "WARC-Refers-To": revisit.refersTo.recordId,
            "WARC-IP-Address": revisit.remoteAddress,
          }),
        },
        [],
      ),
    );
  }
  for (const resource of input.resources) await add(resourceRecord(resource, input));
  const late = input.lateProvenance ? await input.lateProvenance : {};
  await add(provenanceRecord({ ...input.provenance, ...late }, input));
  const raw = await Promise.all(pending);
  const members = await Promise.all(raw.map((record, i) => gzipMember(record, { level: levels[i] ?? 1 })));
  const layout: RecordLayout[] = [];
  let uncompressedOffset = 0;
  let offset = 0;
  members.forEach((member, i) => {
    layout.push({ uncompressedOffset, offset, length: member.length });
    uncompressedOffset += raw[i]?.length ?? 0;
    offset += member.length;
  });
  return { bytes: concat(members), records: members.length, uncompressed: raw, layout };
}

/**
 * Bodies that deflate cannot shrink (images but SVG, audio, video, woff2, archives): their records
 * are stored in their gzip member (level 0), which is still gzip, at a fraction of the CPU.
 */
const COMPRESSED_TYPES =
  /^(image\/(?!svg)|audio\/|video\/|font\/woff2|application\/(zip|gzip|x-gzip|zstd|wasm|pdf)\b)/i;

function alreadyCompressed(exchange: RecordedExchange): boolean {
  const type = exchange.response.headers.find(([name]) => name.toLowerCase() === "content-type")?.[1];
  return exchange.response.body.length > 0 && type !== undefined && COMPRESSED_TYPES.test(type.trim());
}

/** The response first, then the request that names it: the order replay tools and indexers expect. */
function exchangeRecords(exchange: RecordedExchange): WARCRecord[] {
  const responseId = recordId();
  const common = compact({ "WARC-IP-Address": exchange.remoteAddress });
  const response = WARCRecord.create(
    {
      url: exchange.url,
      date: exchange.startedAt,
      type: "response",
      warcVersion: WARC_VERSION,
      statusline: statusLine(exchange.response),
      httpHeaders: headerPairs(exchange.response.headers),
      warcHeaders: {
        "WARC-Record-ID": responseId,
        ...common,
        ...compact({ "WARC-Truncated": exchange.truncated }),
      },
    },
    [exchange.response.body],
  );
  const target = new URL(exchange.url);
  const request = WARCRecord.create(
    {
      url: exchange.url,
      date: exchange.startedAt,
      type: "request",
      warcVersion: WARC_VERSION,
      statusline: `${exchange.request.method} ${target.pathname}${target.search} ${exchange.request.httpVersion}`,
      httpHeaders: headerPairs(exchange.request.headers),
      warcHeaders: { "WARC-Concurrent-To": responseId, ...common },
    },
    exchange.request.body ? [exchange.request.body] : [],
  );
  return [response, request];
}

function resourceRecord(resource: DerivedResource, input: EvidenceInput): WARCRecord {
  return WARCRecord.create(
    {
      url: derivedUri(resource.name, input.pageUrl),
      date: input.capturedAt,
      type: "resource",
      warcVersion: WARC_VERSION,
      warcHeaders: { "Content-Type": resource.contentType },
    },
    [resource.body],
  );
}

/** JSON rather than warc-fields: it nests (hosts, chains, timings) and any reader opens it. */
function provenanceRecord(provenance: CaptureProvenance, input: EvidenceInput): WARCRecord {
  const body = {
    pageUrl: input.pageUrl,
    capturedAt: input.capturedAt,
    userAgent: provenance.userAgent,
    browserVersion: provenance.browserVersion,
    palimpsestVersion: provenance.palimpsestVersion,
    hosts: provenance.hosts,
    timings: provenance.timings,
    ...(provenance.validity ? { validity: provenance.validity } : {}),
    ...(provenance.extra ?? {}),
  };
  return WARCRecord.create(
    {
      url: derivedUri("provenance", input.pageUrl),
      date: input.capturedAt,
      type: "metadata",
      warcVersion: WARC_VERSION,
      warcHeaders: { "Content-Type": "application/json" },
    },
    [encoder.encode(`${JSON.stringify(body, null, 2)}\n`)],
  );
}

function statusLine(response: { httpVersion: string; status: number; statusText: string }): string {
  // The space before an empty reason phrase stays (RFC 9112's status-line); HTTP/2 sends none.
  return `${response.httpVersion} ${response.status} ${response.statusText}`;
}

function headerPairs(headers: HeaderLines): [string, string][] {
  return headers.map(([name, value]) => [name, value]);
}

function recordId(): string {
  return `<urn:uuid:${randomUUID()}>`;
}

function compact(fields: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined));
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
