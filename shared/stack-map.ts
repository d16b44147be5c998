/**
 * The stacks of logged errors, mapped through the bundle's source map read on first use.
 *
 * Node's `--enable-source-maps` reads and parses each bundle's map, and measures every line of the
 * bundle, while it loads the module: on the API's bundle a sixth of its cold init's CPU
 * (BENCHMARKS.md, "API cold init"), for stacks read only when an error is logged. A function
 * deployed without it (the API) still ships `index.mjs.map` beside its bundle; the first logged
 * stack that points into a bundle reads that map with Node's own `SourceMap`, so a 500's log line
 * still names the TypeScript file and line. Where Node maps stacks itself
 * (`process.sourceMapsEnabled`), they are returned as they are.
 */
import { readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { fileURLToPath } from "node:url";

/** `at fn (file:///var/task/index.mjs:1:2345)` or `at file:///var/task/index.mjs:1:2345`. */
const FRAME = /((?:file:\/\/)?\/[^\s()]+\.[cm]?js):(\d+):(\d+)(\)?)$/;

/** Per bundle file: its map, or null when it has none (looked for once). */
const maps = new Map<string, SourceMap | null>();

function mapOf(file: string): SourceMap | null {
  let map = maps.get(file);
  if (map === undefined) {
    try {
      const path = file.startsWith("file:") ? fileURLToPath(file) : file;
      map = new SourceMap(JSON.parse(readFileSync(`${path}.map`, "utf8")));
    } catch {
      map = null;
    }
    maps.set(file, map);
  }
  return map;
}

/** One frame's location in the original source (`shared/x.ts:12:3`), or the line as it was. */
function mapFrame(line: string): string {
  const found = FRAME.exec(line);
  if (!found) return line;
  const [whole, file = "", row = "", column = "", close = ""] = found;
  const entry = mapOf(file)?.findEntry(Number(row) - 1, Number(column) - 1);
  if (!entry || !("originalSource" in entry)) return line;
  // The map's sources are relative to the bundle's build directory: keep the repository's part.
  const source = entry.originalSource.replace(/^(?:\.\.\/)+/, "");
  const at = `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}${close}`;
  return line.slice(0, line.length - whole.length) + at;
}

/** `stack` with each frame in a bundle mapped to its source, unless Node already maps stacks. */
export function mapStack(stack: string): string {
  if (process.sourceMapsEnabled) return stack;
  return stack.split("\n").map(mapFrame).join("\n");
}
