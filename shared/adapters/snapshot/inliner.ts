/**
 * The inlining budget and CSS rewriting: resources the browser loaded become `data:` URIs while
 * they fit the per-resource and per-snapshot caps; stylesheets are rewritten recursively
 * (`@import`, `url()`), relative URLs resolved against the sheet they came from.
 *
 * A URL in CSS that is not inlined (over a cap, or never loaded) becomes an empty `data:` URL whose
 * fragment keeps the original URL: it fetches nothing, wherever the snapshot is opened, and still
 * says what was there.
 */
import type { CollectedResource, SnapshotInput, SnapshotResult } from "./types.ts";
import { absoluteUrl, isNetworkUrl, withoutFragment } from "./urls.ts";

export interface Inliner {
  /** A data: URI for the resource, or undefined when it is missing or over a cap. */
  dataUri(absolute: string): string | undefined;
  /** The stylesheet's text, rewritten and ready to inline, or undefined when missing or over a cap. */
  stylesheet(absolute: string): string | undefined;
  /** Rewrites url() and @import in CSS text. */
  css(css: string, base: string, depth: number, seen: Set<string>): string;
  /** Charges a ready-made data URI against the budget; undefined when it does not fit. */
  charge(dataUri: string, bytes: number): string | undefined;
  stats: SnapshotResult["stats"];
}

const MAX_IMPORT_DEPTH = 4;

/** A budget for one snapshot over the resources the browser collected. */
export function createInliner(input: SnapshotInput): Inliner {
  const stats = { inlined: 0, inlinedBytes: 0, overBudget: 0, missing: 0 };
  const encoded = new Map<string, string>();

  const fits = (bytes: number) => {
    if (bytes > input.resourceMaxBytes || stats.inlinedBytes + bytes > input.totalMaxBytes) {
      stats.overBudget++;
      return false;
    }
    stats.inlined++;
    stats.inlinedBytes += bytes;
    return true;
  };
  const lookup = (absolute: string) => {
    const resource = input.resources.get(withoutFragment(absolute));
    if (!resource) stats.missing++;
    return resource;
  };

  const inliner: Inliner = {
    stats,
    charge: (dataUri, bytes) => (fits(bytes) ? dataUri : undefined),
    dataUri(absolute) {
      const resource = lookup(absolute);
      if (!resource || !fits(resource.body.byteLength)) return undefined;
      const key = withoutFragment(absolute);
      let uri = encoded.get(key);
      if (uri === undefined) {
        uri = `data:${mimeTypeOf(resource)};base64,${Buffer.from(resource.body).toString("base64")}`;
        encoded.set(key, uri);
      }
      const fragment = absolute.includes("#") ? absolute.slice(absolute.indexOf("#")) : "";
      return uri + fragment;
    },
    stylesheet(absolute) {
      const resource = lookup(absolute);
      if (!resource || !fits(resource.body.byteLength)) return undefined;
      return inliner.css(decodeCss(resource), resource.url, 0, new Set([withoutFragment(resource.url)]));
    },
    css(css, base, depth, seen) {
      const imported = css.replace(IMPORT_RULE, (rule, ...groups: unknown[]) => {
        const target = groups.slice(0, 5).find((g): g is string => typeof g === "string");
        const tail = typeof groups[5] === "string" ? groups[5] : "";
        if (target === undefined) return rule;
        const absolute = absoluteUrl(unescapeCss(target), base);
        if (absolute === undefined) return rule;
        const key = withoutFragment(absolute);
        if (depth < MAX_IMPORT_DEPTH && !seen.has(key)) {
          const resource = lookup(absolute);
          if (resource && fits(resource.body.byteLength)) {
            const text = inliner.css(decodeCss(resource), resource.url, depth + 1, new Set([...seen, key]));
            const uri = `data:text/css;charset=utf-8;base64,${Buffer.from(text).toString("base64")}`;
            return `@import url("${uri}")${tail};`;
          }
        }
        return `@import url(${cssString(blankUrl(absolute, "text/css"))})${tail};`;
      });
      return imported.replace(URL_TOKEN, (token, double?: string, single?: string, bare?: string) => {
        const raw = unescapeCss(double ?? single ?? bare ?? "").trim();
        if (raw === "" || raw.startsWith("#") || /^data:/i.test(raw)) return token;
        const absolute = absoluteUrl(raw, base);
        if (absolute === undefined || !isNetworkUrl(absolute)) return token;
        return `url(${cssString(inliner.dataUri(absolute) ?? blankUrl(absolute, ""))})`;
      });
    },
  };
  return inliner;
}

/**
 * An empty `data:` URL standing for a resource that was not inlined: nothing to fetch, and the
 * fragment (never part of what a `data:` URL holds) keeps the original URL as provenance.
 */
function blankUrl(original: string, mimeType: string): string {
  return `data:${mimeType},#${original}`;
}

// @import url("x") media; | @import url(x) media; | @import "x" media;
const IMPORT_RULE =
  /@import\s+(?:url\(\s*(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|((?:[^"'()\\\s]|\\.)*))\s*\)|"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)')([^;]*);?/gi;
const URL_TOKEN = /url\(\s*(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|((?:[^"'()\\\s]|\\.)*))\s*\)/gi;

const unescapeCss = (value: string) =>
  value
    .replace(/\\([0-9a-f]{1,6})\s?/gi, (_m, hex: string) =>
      String.fromCodePoint(Number.parseInt(hex, 16) || 0xfffd),
    )
    .replace(/\\(.)/g, "$1");

const cssString = (value: string) =>
  `"${value.replace(/["\\\n\r]/g, (c) => `\\${c.charCodeAt(0).toString(16)} `)}"`;

function decodeCss(resource: CollectedResource): string {
  const declared = /charset\s*=\s*"?([^";\s]+)/i.exec(resource.contentType)?.[1];
  const inFile = /^@charset\s+"([^"]+)";/i.exec(
    Buffer.from(resource.body.subarray(0, 128)).toString("latin1"),
  )?.[1];
  let text: string;
  try {
    text = new TextDecoder(declared ?? inFile ?? "utf-8").decode(resource.body);
  } catch {
    text = new TextDecoder("utf-8").decode(resource.body);
  }
  // The text now lives in a UTF-8 document; a leftover @charset would only mislead.
  return text.replace(/^@charset\s+"[^"]*";\s*/i, "");
}

const IMAGE_SIGNATURES: Array<[string, number[]]> = [
  ["image/png", [0x89, 0x50, 0x4e, 0x47]],
  ["image/jpeg", [0xff, 0xd8, 0xff]],
  ["image/gif", [0x47, 0x49, 0x46, 0x38]],
  ["image/webp", [0x52, 0x49, 0x46, 0x46]],
];

function mimeTypeOf(resource: CollectedResource): string {
  const declared = resource.contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (/^[a-z]+\/[a-z0-9.+-]+$/.test(declared) && declared !== "application/octet-stream") return declared;
  // Servers often send images as octet-stream; an SVG in particular only renders with its own type.
  for (const [mime, signature] of IMAGE_SIGNATURES) {
    if (signature.every((byte, i) => resource.body[i] === byte)) return mime;
  }
  const head = Buffer.from(resource.body.subarray(0, 256)).toString("utf8");
  if (/<svg[\s>]/i.test(head)) return "image/svg+xml";
  return "application/octet-stream";
}
