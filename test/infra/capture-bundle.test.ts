/**
 * Builds the functions' bundles with the options their constructs give CDK (through the esbuild
 * API, as CDK's local bundling does) and checks what ships: the functions the capturer sends to
 * Chromium as source text must not call bundle helpers that the page does not have, and the API
 * function's bundle stays small.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { CAPTURE_BUNDLING } from "../../infra/constructs/capture-function.ts";
import { REPO_ROOT } from "../../infra/constructs/defaults.ts";
import { bundlingOptions, LAZY_CREDENTIAL_PROVIDERS } from "../../infra/constructs/palimpsest-function.ts";

/**
 * esbuild's keepNames helper, `__name = (target, value) => __defProp(target, "name", …)`, as it
 * reads unminified and minified. Where it is defined, calls to it wrap named functions, the
 * in-page ones included.
 */
const KEEP_NAMES_HELPER = [
  /\b__name = \(target, value\) => __defProp\(target, "name"/,
  /\(([\w$]+),([\w$]+)\)=>[\w$]+\(\1,"name",\{value:\2,configurable:!0\}\)/,
];

/** Functions the capturer passes to `page.evaluate` / `addInitScript`, which run inside the page. */
const IN_PAGE_FUNCTIONS = [
  "tidyPage",
  "dismissConsentInFrame",
  "pageReactsToScroll",
  "scrollTowardsBottom",
  "serializeDomInPage",
  "trackPageActivity",
  "readPageActivityInPage",
];

/** The same build CDK runs for `NodejsFunction` with `bundlingOptions(...)`, in memory. */
async function bundle(options: ReturnType<typeof bundlingOptions>, entry: string): Promise<string> {
  return (await bundleWithInputs(options, entry)).code;
}

/** The bundle's code and the source files that left code in it. */
async function bundleWithInputs(
  options: ReturnType<typeof bundlingOptions>,
  entry: string,
): Promise<{ code: string; inputs: string[] }> {
  const result = await build({
    entryPoints: [path.join(REPO_ROOT, entry)],
    absWorkingDir: REPO_ROOT,
    bundle: true,
    platform: "node",
    format: "esm",
    target: options.target,
    mainFields: options.mainFields,
    banner: { js: options.banner ?? "" },
    minify: options.minify,
    keepNames: options.keepNames,
    charset: "utf8",
    sourcemap: false,
    // CDK installs these into the asset's node_modules and marks them external.
    external: [...(options.nodeModules ?? []), ...(options.externalModules ?? [])],
    outdir: path.join(REPO_ROOT, "cdk.out", "capture-bundle-test"),
    outExtension: { ".js": ".mjs" },
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const [output] = result.outputFiles.filter((f) => f.path.endsWith(".mjs"));
  assert.ok(output, "one .mjs output");
  // Files imported but shaken out entirely are listed with 0 bytes in the output.
  const written = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith(".mjs"))?.[1];
  const inputs = Object.entries(written?.inputs ?? {}).filter(([, input]) => input.bytesInOutput > 0);
  return { code: output.text, inputs: inputs.map(([file]) => file) };
}

describe("capture function bundle", () => {
  let code: string;

  before(async () => {
    code = await bundle(bundlingOptions(CAPTURE_BUNDLING), "functions/capture/handler.ts");
  });

  test("is built without keepNames, so no __name() wrapper reaches the page", () => {
    const options = bundlingOptions(CAPTURE_BUNDLING);
    assert.equal(options.keepNames, false);
    assert.equal(code.includes("__name("), false, "__name( appears in the capture bundle");
    for (const helper of KEEP_NAMES_HELPER) assert.equal(helper.test(code), false, `${helper} is defined`);
  });

  test("contains the in-page functions under their own names", () => {
    for (const name of IN_PAGE_FUNCTIONS) {
      assert.ok(new RegExp(`\\bfunction ${name}\\(`).test(code), `${name} is in the bundle`);
    }
  });

  test("keeps the error classes' names, which errors report as their name", () => {
    // `var X = class extends …` names the class X just as `class X extends …` does; a binding
    // renamed to dodge a collision (`X2`) would not match.
    for (const name of ["PalimpsestError", "CaptureError", "InvalidRequestError", "ConfigError"]) {
      const declared = new RegExp(`(?:\\bclass ${name}|\\bvar ${name} = class) extends\\b`);
      assert.ok(declared.test(code), `${name} keeps its name in the bundle`);
    }
  });

  test("bundles the container credentials provider the worker builds, which the asset has no copy of", () => {
    assert.equal(
      /(?:from|import\()\s*"@aws-sdk\/credential-provider-http"/.test(code),
      false,
      "credential-provider-http is imported at run time, and the asset's node_modules lacks it",
    );
    assert.match(code, /No HTTP credential provider host provided/, "fromHttp is in the bundle");
  });

  test("leaves Chromium and Playwright to the asset's node_modules", () => {
    for (const name of CAPTURE_BUNDLING.nodeModules) {
      assert.ok(code.includes(`from "${name}"`), `${name} is imported, not bundled`);
    }
  });
});

test("functions that send no code to a browser stay minified with their names kept", async () => {
  const options = bundlingOptions({});
  assert.equal(options.minify, true);
  assert.equal(options.keepNames, true);
  // The helper patterns above do find keepNames in a minified bundle (or this file proves nothing).
  const code = await bundle(options, "shared/errors.ts");
  assert.ok(
    KEEP_NAMES_HELPER.some((helper) => helper.test(code)),
    "keepNames helper detected",
  );
});

// The budget was 500 KB before Powertools Logger (22 KB), noise-rule selector checks (css-what,
// 6.5 KB) and the host shaper joined the API; its import + first answer stayed flat (BENCHMARKS.md).
test("the API function's bundle stays within 540 KB: no S3 client, no credential sources Lambda never uses", async () => {
  const { code, inputs } = await bundleWithInputs(bundlingOptions({}), "functions/api/handler.ts");
  const bytes = Buffer.byteLength(code);
  assert.ok(bytes <= 540 * 1024, `API bundle is ${bytes} bytes`);
  const packages = new Set(inputs.map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)?.[1]));
  for (const name of ["@aws-sdk/client-s3", "@aws-sdk/s3-request-presigner", ...LAZY_CREDENTIAL_PROVIDERS]) {
    assert.equal(packages.has(name), false, `${name} is bundled`);
  }
  // Reads still sign with the SDK's own signer.
  assert.ok(packages.has("@smithy/signature-v4"));
});

// An ESM import of node:http makes Node load its bundled undici (for http's lazily defined
// WebSocket exports): about a sixth of the API's cold init. The API fetches only to follow a
// source, so its fetcher loads node:http at its first fetch (BENCHMARKS.md "Lambda bundles").
test("the API function's cold init loads neither node:http nor undici", async () => {
  const { code } = await bundleWithInputs(bundlingOptions({}), "functions/api/handler.ts");
  const dir = path.join(REPO_ROOT, "cdk.out", "capture-bundle-test");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `api-init-${process.pid}.mjs`);
  writeFileSync(file, code);
  try {
    const script = `await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(JSON.stringify(process.moduleLoadList.filter((m) => /^NativeModule (http|internal\\/deps\\/undici\\/undici)$/.test(m))));`;
    const loaded = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      env: {
        PATH: process.env.PATH ?? "",
        TABLE_NAME: "palimpsest-test",
        BUCKET_NAME: "palimpsest-test",
        QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/captures",
        INTERACTIVE_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/interactive",
        POLL_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/polls",
        AWS_REGION: "us-east-1",
        LOG_LEVEL: "silent",
      },
      encoding: "utf8",
    });
    assert.deepEqual(JSON.parse(loaded), []);
  } finally {
    rmSync(file, { force: true });
  }
});

// One composition module per function (functions/compose/): when the sweeper, poll and dead-letter
// shared one, each of their bundles carried the poll's feed parsers and the capture's page-text DOM
// (the sweeper's and the dead-letter's grew from about 300 KB to 950 KB).
test("the sweeper and dead-letter bundles carry no feed parser or HTML DOM", async () => {
  const parsers = ["linkedom", "fast-xml-parser", "htmlparser2", "cssomnom", "re2js"];
  for (const entry of ["functions/sweeper/handler.ts", "functions/dead-letter/handler.ts"]) {
    const { code, inputs } = await bundleWithInputs(bundlingOptions({}), entry);
    const packages = new Set(inputs.map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)?.[1]));
    for (const name of parsers) assert.equal(packages.has(name), false, `${entry} bundles ${name}`);
    assert.ok(Buffer.byteLength(code) <= 400 * 1024, `${entry} is ${Buffer.byteLength(code)} bytes`);
  }
});
