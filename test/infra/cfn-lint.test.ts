/**
 * Lints the synthesized templates (bundling off) with cfn-lint. Errors fail the test; warnings are
 * printed. cfn-lint is a Python tool that this machine image ships and that no package registry
 * here can install, so where it is absent the test is skipped, loudly, rather than failed.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { addPalimpsestStacks, type PalimpsestAppOptions } from "../../infra/palimpsest-app.ts";
import { newApp } from "./synth.ts";

/**
 * Rules ignored, each with its reason:
 * - W3005 (DependsOn already implied by a GetAtt): CDK adds an explicit DependsOn from every function
 *   to its service role's policy *and* role; the redundancy is CDK's and harmless.
 */
const IGNORED_RULES = ["W3005"];

interface CfnLintMatch {
  Filename: string;
  Level: "Error" | "Warning" | "Informational";
  Message: string;
  Rule: { Id: string };
  Location: { Path: Array<string | number> };
}

const outdir = mkdtempSync(path.join(tmpdir(), "palimpsest-cfn-lint-"));
after(() => rmSync(outdir, { recursive: true, force: true }));

const cfnLintVersion = spawnSync("cfn-lint", ["--version"], { encoding: "utf8" });
const cfnLintMissing = cfnLintVersion.error !== undefined || cfnLintVersion.status !== 0;

/** The default app, and the edge cache on its own name and on a public domain (a stack rule, aliases). */
const VARIANTS: ReadonlyArray<[string, PalimpsestAppOptions]> = [
  ["default", {}],
  ["edge cache", { edgeCache: true }],
  [
    "edge cache on a domain",
    {
      edgeCache: true,
      publicDomain: {
        domainName: "archive.example.org",
        hostedZone: { hostedZoneId: "Z0123456789ABCDEFGHIJ", zoneName: "example.org" },
      },
    },
  ],
];

for (const [name, options] of VARIANTS) {
  test(
    `cfn-lint finds no errors in the synthesized templates (${name})`,
    {
      skip: cfnLintMissing && "cfn-lint is not on PATH",
    },
    () => lintApp(options, mkdtempSync(path.join(outdir, "app-"))),
  );
}

function lintApp(options: PalimpsestAppOptions, outdir: string): void {
  const app = newApp({ outdir });
  addPalimpsestStacks(app, { bundling: false, ...options });
  app.synth();
  const templates = readdirSync(outdir)
    .filter((name) => name.endsWith(".template.json"))
    .map((name) => path.join(outdir, name));
  assert.equal(templates.length, 2, "storage and service templates");

  const run = spawnSync(
    "cfn-lint",
    ["--format", "json", "--ignore-checks", ...IGNORED_RULES, "--", ...templates],
    { encoding: "utf8", timeout: 120_000 },
  );
  assert.equal(run.error, undefined, `cfn-lint could not run: ${run.error?.message}`);
  // Exit status is a bit mask (2 errors, 4 warnings, 8 informational); 1 means cfn-lint itself failed.
  assert.notEqual(run.status, 1, `cfn-lint failed: ${run.stderr}`);
  const matches = JSON.parse(run.stdout || "[]") as CfnLintMatch[];
  const render = (m: CfnLintMatch) =>
    `${m.Rule.Id} ${path.basename(m.Filename)} ${m.Location.Path.join("/")}: ${m.Message}`;
  for (const warning of matches.filter((m) => m.Level !== "Error"))
    console.log(`cfn-lint: ${render(warning)}`);
  const errors = matches.filter((m) => m.Level === "Error");
  assert.deepEqual(errors.map(render), [], "cfn-lint errors");
}
