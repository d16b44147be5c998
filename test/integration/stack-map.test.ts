/**
 * A function deployed without `--enable-source-maps` (the API) still logs stacks that name the
 * TypeScript source: the logger maps them through the bundle's source map, read on first use.
 * The bundle is built as deployed (bundlingOptions: minified, keepNames, map beside it).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { toEsbuildOptions } from "../../bench/bundles.ts";
import { bundlingOptions } from "../../infra/constructs/palimpsest-function.ts";
import { createLogger } from "../../shared/logger.ts";
import { mapStack } from "../../shared/stack-map.ts";

let dir: string;
let bundle: { fail: () => void };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "palimpsest-stack-map-"));
  // Line 3, column 9 of this file is where the error is made.
  await writeFile(
    join(dir, "thrower.ts"),
    [
      "// a function whose error is logged",
      "export function fail(): void {",
      '  throw new Error("boom");',
      "}",
      "",
    ].join("\n"),
  );
  const options = toEsbuildOptions("unused.ts", join(dir, "out"), bundlingOptions({}));
  await build({ ...options, entryPoints: [join(dir, "thrower.ts")] });
  bundle = (await import(pathToFileURL(options.outfile as string).href)) as typeof bundle;
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function thrown(): Error {
  try {
    bundle.fail();
  } catch (err) {
    return err as Error;
  }
  throw new Error("the bundle did not throw");
}

describe("stack maps on first use", () => {
  it("runs without Node's own source maps", () => {
    assert.equal(process.sourceMapsEnabled, false, "this file must run without --enable-source-maps");
    assert.match(thrown().stack ?? "", /index\.mjs:\d+:\d+/, "Node left the bundle's frame unmapped");
  });

  it("maps a bundle's frame to its source line and column", () => {
    const stack = mapStack(thrown().stack ?? "");
    assert.match(stack, /at (?:Module\.)?fail \(thrower\.ts:3:9\)/);
    assert.doesNotMatch(stack, /index\.mjs/);
  });

  it("leaves frames outside any bundle as they are", () => {
    const stack = "Error: x\n    at run (node:internal/main:1:2)\n    at /nowhere/app.js:4:5";
    assert.equal(mapStack(stack), stack);
  });

  it("logs an error's stack mapped to its source", () => {
    // Arrange: Powertools writes errors to stderr, the rest to stdout.
    const written: string[] = [];
    const out = process.stdout.write;
    const err = process.stderr.write;
    const capture = ((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    process.stdout.write = capture;
    process.stderr.write = capture;
    // Act
    try {
      createLogger({ service: "stack-map-test" }, "error").error("page failed", { err: thrown() });
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
    }
    // Assert
    const line = JSON.parse(written.join("").trim()) as { err: { stack: string } };
    assert.match(line.err.stack, /thrower\.ts:3:9/);
  });
});
