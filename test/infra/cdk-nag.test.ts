/**
 * Runs cdk-nag's AwsSolutions checks over both stacks (bundling off). Any unacknowledged error
 * fails the test; warnings are printed. Acknowledgements live next to the resources they concern
 * (`Validations.of(construct).acknowledge(...)` in infra/constructs), each with its reason.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { type App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { addPalimpsestStacks } from "../../infra/palimpsest-app.ts";
import { PalimpsestServiceStack } from "../../infra/stacks/service-stack.ts";
import { PalimpsestStorageStack } from "../../infra/stacks/storage-stack.ts";
import { newApp } from "./synth.ts";

interface ValidationReport {
  pluginReports: Array<{
    pluginName: string;
    violations: Array<{
      ruleName: string;
      description: string;
      severity: string;
      violatingConstructs: Array<{ constructPath: string }>;
    }>;
  }>;
}

const outdir = mkdtempSync(path.join(tmpdir(), "palimpsest-cdk-nag-"));
after(() => rmSync(outdir, { recursive: true, force: true }));

test("cdk-nag AwsSolutions finds no unacknowledged error in either stack", () => {
  const app = newApp({ outdir });
  const { storage, service } = addPalimpsestStacks(app, { bundling: false });
  checkWithNag(app, [storage.stackName, service.stackName], outdir);
});

test("cdk-nag stays clean with every optional feature on: backup, public domain, trail reads", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "palimpsest-cdk-nag-all-"));
  try {
    const app = newApp({ outdir: dir });
    const storage = new PalimpsestStorageStack(app, "PalimpsestStorage", {
      backup: { lockMode: "compliance" },
      trail: { includeReads: true },
      publicDomain: {
        domainName: "archive.example.org",
        hostedZone: { hostedZoneId: "Z0123456789ABCDEFGHIJ", zoneName: "example.org" },
      },
    });
    const service = new PalimpsestServiceStack(app, "PalimpsestService", {
      storage,
      bundling: false,
      apiFunction: { reservedConcurrency: 20 },
      sweeperFunction: { reservedConcurrency: 1 },
    });
    checkWithNag(app, [storage.stackName, service.stackName], dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("cdk-nag stays clean with the edge cache, on its own name and on a public domain", () => {
  for (const publicDomain of [
    undefined,
    {
      domainName: "archive.example.org",
      hostedZone: { hostedZoneId: "Z0123456789ABCDEFGHIJ", zoneName: "example.org" },
    },
  ]) {
    const dir = mkdtempSync(path.join(tmpdir(), "palimpsest-cdk-nag-edge-"));
    try {
      const app = newApp({ outdir: dir });
      const { storage, service } = addPalimpsestStacks(app, {
        bundling: false,
        edgeCache: true,
        ...(publicDomain ? { publicDomain } : {}),
      });
      checkWithNag(app, [storage.stackName, service.stackName], dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

/** Synthesizes `app` with cdk-nag's AwsSolutions checks and fails on any unacknowledged error. */
function checkWithNag(app: App, stacks: string[], outdir: string): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

  // CDK's validation interrupts synthesis on any violation, warnings included, after writing
  // its report; the report is what this test judges.
  let synthError: unknown;
  try {
    app.synth();
  } catch (err) {
    synthError = err;
  }
  let report: ValidationReport | undefined;
  try {
    report = JSON.parse(
      readFileSync(path.join(outdir, "validation-report.json"), "utf8"),
    ) as ValidationReport;
  } catch {
    // No report: either nothing was violated (synth passed) or synth failed for another reason.
    if (synthError) throw synthError;
  }
  const nag = report?.pluginReports.filter((r) => r.pluginName === "AwsSolutions") ?? [];
  const violations = nag.flatMap((r) =>
    r.violations.flatMap((v) => v.violatingConstructs.map((c) => ({ ...v, path: c.constructPath }))),
  );
  for (const warning of violations.filter((v) => v.severity !== "error")) {
    console.log(`cdk-nag warning: ${warning.ruleName} ${warning.path}: ${warning.description}`);
  }
  assert.ok(
    violations.every((v) => stacks.some((name) => v.path.startsWith(`${name}/`))),
    "violations belong to the two stacks",
  );
  // Warnings that the design answers rather than acknowledges: the API stage is behind the web ACL.
  assert.deepEqual(
    violations.filter((v) => v.ruleName === "AwsSolutions-APIG3").map((v) => v.path),
    [],
    "the REST API stage is associated with a WAF web ACL",
  );
  assert.deepEqual(
    violations.filter((v) => v.severity === "error").map((v) => `${v.ruleName} ${v.path}: ${v.description}`),
    [],
    "unacknowledged cdk-nag errors",
  );
}
