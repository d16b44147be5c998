import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { UsageError } from "./commands.ts";

/** Reads a saved page (`.html`, or gzip-compressed) and decodes it with the charset it declares. */
export async function readHtmlFile(path: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${describeFsError(error)}`, { cause: error });
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new UsageError(`cannot decompress ${path}: not valid gzip data`, { cause: error });
    }
  }
  return decodeHtml(bytes);
}

/**
 * Decodes HTML bytes: a byte-order mark wins, then a `<meta charset>` (or http-equiv
 * Content-Type) in the first 1,024 bytes, else UTF-8 — the order browsers use without headers.
 */
export function decodeHtml(bytes: Uint8Array): string {
  const label = sniffCharset(bytes) ?? "utf-8";
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label);
  } catch {
    decoder = new TextDecoder("utf-8");
  }
  return decoder.decode(bytes);
}

function sniffCharset(bytes: Uint8Array): string | null {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return "utf-8";
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return "utf-16be";
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return "utf-16le";
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 1024));
  const match =
    /<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(head) ??
    /<meta[^>]+content\s*=\s*["'][^"']*charset\s*=\s*([\w.:-]+)/i.exec(head);
  return match?.[1]?.toLowerCase() ?? null;
}

function describeFsError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory";
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
