/**
 * Bytes to text the way browsers and feed readers do it, for documents that often lie about
 * themselves: a byte-order mark wins; then the HTTP charset, the XML declaration's (or an HTML
 * page's `<meta charset>`), UTF-8 and windows-1252 are tried in turn, and the first that decodes
 * the bytes cleanly is taken. So a feed declared UTF-8 whose bytes are Latin-1 still reads right
 * (as browsers read it), and a label the platform does not know is skipped. Gzipped bodies (a
 * `.xml.gz` sitemap served as it is) are inflated first, up to a cap.
 *
 * Pure: TextDecoder and zlib only, no I/O.
 */
import { gunzipSync } from "node:zlib";
import { FetchError } from "../../errors.ts";

/** Whether the bytes start with the gzip magic number. */
export function isGzip(body: Uint8Array): boolean {
  return body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b;
}

/**
 * Inflates a gzipped body, refusing to grow past `maxBytes` (a gzip bomb fails `too_large`
 * without allocating more). A body that is not gzip comes back as it is.
 */
export function gunzipCapped(body: Uint8Array, maxBytes: number): Uint8Array {
  if (!isGzip(body)) return body;
  try {
    return gunzipSync(body, { maxOutputLength: maxBytes });
  } catch (cause) {
    if ((cause as { code?: string }).code === "ERR_BUFFER_TOO_LARGE" || cause instanceof RangeError) {
      throw new FetchError("too_large", `The document inflates to more than ${maxBytes} bytes.`, { cause });
    }
    throw new FetchError("unsupported_content", "The document is gzipped but does not inflate.", { cause });
  }
}

/** The `charset` parameter of a Content-Type header, lower-cased, if any. */
export function charsetOf(contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? "");
  return match?.[1]?.toLowerCase();
}

/** The encoding an XML declaration or an HTML `<meta>` names in the first bytes, if any. */
function declaredCharset(body: Uint8Array): string | undefined {
  // Declarations are ASCII, and come first; latin1 maps each byte to one character.
  const head = Buffer.from(body.subarray(0, 2048)).toString("latin1");
  const xml = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([^"']+)["']/i.exec(head);
  if (xml?.[1]) return xml[1].toLowerCase();
  const meta =
    /<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i.exec(head) ??
    /<meta[^>]+content\s*=\s*["'][^"']*charset=([\w.:-]+)/i.exec(head);
  return meta?.[1]?.toLowerCase();
}

function bomEncoding(body: Uint8Array): string | undefined {
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return "utf-8";
  if (body[0] === 0xff && body[1] === 0xfe) return "utf-16le";
  if (body[0] === 0xfe && body[1] === 0xff) return "utf-16be";
  return undefined;
}

function tryDecode(body: Uint8Array, label: string): string | undefined {
  try {
    return new TextDecoder(label, { fatal: true }).decode(body);
  } catch {
    // An unknown label (RangeError) or bytes that are not in that encoding (TypeError).
    return undefined;
  }
}

/** The document as text, in the encoding that reads it cleanly (see the module comment). */
export function decodeDocument(body: Uint8Array, contentType?: string): string {
  const bom = bomEncoding(body);
  const candidates = bom
    ? [bom]
    : [charsetOf(contentType), declaredCharset(body), "utf-8"].filter((c): c is string => c !== undefined);
  for (const label of new Set(candidates)) {
    const text = tryDecode(body, label);
    if (text !== undefined) return text;
  }
  // Every byte has a meaning in windows-1252, which is what browsers read Latin-1 labels as.
  return new TextDecoder("windows-1252").decode(body);
}
