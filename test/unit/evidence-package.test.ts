/**
 * `captureEvidence` (evidence-package.ts) on its own: the package carries the verdict the version
 * is finally recorded with, and a package started early that no version takes is given up (its
 * build settles) without being signed or stored.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WARCParser } from "warcio";
import {
  type CaptureEvidenceContext,
  captureEvidence,
} from "../../shared/domain/capture/evidence-package.ts";
import type { CapturedArticle, Decision } from "../../shared/domain/capture/types.ts";
import { WARC_PATH } from "../../shared/domain/evidence/wacz-layout.ts";
import { readZip } from "../../shared/domain/evidence/zip-container.ts";
import type { ArtifactRef, VersionRecord } from "../../shared/domain/model.ts";
import type { Logger } from "../../shared/logger.ts";
import type { EvidenceSigner } from "../../shared/ports.ts";
import { evidenceInput, PAGE_URL, testSigner } from "../support/evidence-fixture.ts";

const encoder = new TextEncoder();

/** A logger that keeps its debug lines. */
function keepingLogger(lines: string[]): Logger {
  const logger: Logger = {
    level: "debug",
    debug: (msg) => void lines.push(msg),
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    child: () => logger,
  };
  return logger;
}

function setup() {
  const real = testSigner();
  const signer: EvidenceSigner & { calls: number } = {
    calls: 0,
    publicKey: () => real.publicKey(),
    sign: (message) => {
      signer.calls++;
      return real.sign(message);
    },
  };
  const stored = new Map<string, Uint8Array>();
  const lines: string[] = [];
  const recorded = evidenceInput();
  const context: CaptureEvidenceContext = {
    evidence: { signer, palimpsestVersion: "0.1.0-test", retryDelaysMs: [5, 5] },
    capture: {
      captureId: "cap-1",
      urlId: "url-1",
      url: PAGE_URL,
      status: "running",
      requestedAt: recorded.capturedAt,
      attempts: 1,
    },
    page: {
      finalUrl: PAGE_URL,
      httpStatus: 200,
      raw: { body: encoder.encode("<html></html>"), contentType: "text/html" },
      renderedHtml: "<html></html>",
      snapshotHtml: "<html></html>",
      screenshot: { body: encoder.encode("jpeg"), contentType: "image/jpeg" },
      timings: { navigate: 100 },
      traffic: {
        exchanges: [...recorded.exchanges],
        hosts: [...recorded.provenance.hosts],
        userAgent: recorded.provenance.userAgent,
        browserVersion: recorded.provenance.browserVersion,
        recordedBytes: 100,
        maxBytes: 1_000_000,
        truncated: [],
      },
    },
    captured: { article: { title: "Harbour", text: "Harbour bridge" } } as unknown as CapturedArticle,
    articleJson: encoder.encode("{}"),
    put: async (body, contentType, fileName): Promise<ArtifactRef> => {
      const sha256 = `sha-${stored.size}`;
      stored.set(sha256, body);
      return { key: sha256, sha256, bytes: body.length, contentType, fileName } as unknown as ArtifactRef;
    },
    now: () => new Date("2026-03-03T09:40:02.000Z"),
    log: keepingLogger(lines),
  };
  return { context, signer, stored, lines };
}

function versionDecision(validity: "ok" | "paywall", reason: string): Decision {
  return {
    versionId: "v-1",
    verdict: { validity, validityReason: reason },
    commit: {
      versionId: "v-1",
      urlId: "url-1",
      captureId: "cap-1",
      artifacts: {},
    } as unknown as VersionRecord,
  };
}

async function provenanceValidity(bytes: Uint8Array | undefined): Promise<unknown> {
  assert.ok(bytes);
  const warc = (await readZip(bytes)).files.get(WARC_PATH);
  assert.ok(warc);
  for await (const record of new WARCParser([warc])) {
    if (record.warcType === "metadata") return JSON.parse(await record.contentText()).validity;
  }
  return undefined;
}

describe("a capture's evidence package, decided", () => {
  it("carries the final verdict when a re-decided outcome changes it", async () => {
    const { context, stored } = setup();
    const evidence = captureEvidence(context);
    evidence.startEarly();
    const first = await evidence.attach(versionDecision("ok", "The article was found."));
    const again = await evidence.attach(versionDecision("ok", "The article was found."));
    assert.deepEqual(again.commit?.artifacts.wacz, first.commit?.artifacts.wacz, "built once per verdict");
    const final = await evidence.attach(versionDecision("paywall", "Only the teaser was shown."));
    const wacz = final.commit?.artifacts.wacz;
    assert.ok(wacz);
    assert.notEqual(wacz.sha256, first.commit?.artifacts.wacz?.sha256);
    assert.deepEqual(await provenanceValidity(stored.get(wacz.sha256)), {
      verdict: "paywall",
      reason: "Only the teaser was shown.",
    });
  });

  it("started early and taken by no version is given up: it settles, unsigned and unstored", async () => {
    const { context, signer, stored, lines } = setup();
    const evidence = captureEvidence(context);
    evidence.startEarly();
    const unchanged: Decision = {
      versionId: "v-0",
      verdict: { validity: "ok", validityReason: "Same text." },
    };
    assert.equal(await evidence.attach(unchanged), unchanged);
    for (let i = 0; i < 50 && !lines.includes("evidence package given up: no version takes it"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(lines.includes("evidence package given up: no version takes it"), "the build settled");
    assert.equal(signer.calls, 0);
    assert.equal(stored.size, 0);
  });

  it("started early and left undecided (the recording failed) settles when the capture gives it up", async () => {
    const { context, lines } = setup();
    const evidence = captureEvidence(context);
    evidence.startEarly();
    evidence.settle();
    for (let i = 0; i < 50 && !lines.includes("evidence package given up: no version takes it"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(lines.includes("evidence package given up: no version takes it"));
  });
});
