/**
 * The evidence package of a capture (evidence-package.ts), through `processCapture` on the
 * embedded S3 and DynamoDB: a capture that makes a version stores a signed WACZ and names it
 * `wacz` on the capture and the version; an unchanged recapture stores no package; a signer that
 * fails sends the capture back to the queue without recording anything, and on the last attempt
 * the version is kept without a package rather than lost.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WARCParser } from "warcio";
import { type ProcessCaptureDeps, processCapture } from "../../shared/domain/capture/index.ts";
import { verifyWacz } from "../../shared/domain/evidence/verify-wacz.ts";
import { WARC_PATH } from "../../shared/domain/evidence/wacz-layout.ts";
import { readZip } from "../../shared/domain/evidence/zip-container.ts";
import { urlIdFor } from "../../shared/domain/ids.ts";
import { SigningError } from "../../shared/errors.ts";
import type { BlobStore, EvidenceSigner, PageCapture, PageCapturer } from "../../shared/ports.ts";
import { testCaptureOptions } from "../support/capture-options.ts";
import {
  captureDeps,
  type EmbeddedStorage,
  queuedCapture,
  startEmbeddedStorage,
} from "../support/embedded-storage.ts";
import { evidenceInput, testSigner } from "../support/evidence-fixture.ts";

const OPTIONS = testCaptureOptions();
const encoder = new TextEncoder();

let storage: EmbeddedStorage;
before(async () => {
  storage = await startEmbeddedStorage();
});
after(async () => {
  await storage.close();
});

function articlePage(homes: number): string {
  return (
    "<html><head><title>Harbour homes</title></head><body><article><h1>Harbour homes approved</h1>" +
    `<p>The council approved ${homes} new homes by the harbour on Tuesday evening after a long debate.</p>` +
    "<p>Residents had asked for more parking and a new footpath along the sea wall for years.</p>".repeat(6) +
    "</article></body></html>"
  );
}

/** A browser's capture of `html` at `url`, with the exchanges a recorder would have kept. */
function capturer(html: () => string): PageCapturer {
  return {
    async capture(url) {
      const body = encoder.encode(html());
      const recorded = evidenceInput();
      const exchanges = recorded.exchanges.map((e, i) =>
        i === 1 ? { ...e, url, response: { ...e.response, body } } : e,
      );
      const page: PageCapture = {
        finalUrl: url,
        httpStatus: 200,
        raw: { body, contentType: "text/html; charset=utf-8" },
        renderedHtml: html(),
        snapshotHtml: html(),
        screenshot: { body: encoder.encode(`jpeg of ${html()}`), contentType: "image/jpeg" },
        timings: { navigate: 120 },
        traffic: {
          exchanges,
          hosts: recorded.provenance.hosts.map((h) => ({ ...h })),
          userAgent: recorded.provenance.userAgent,
          browserVersion: recorded.provenance.browserVersion,
          recordedBytes: 1000,
          maxBytes: 50 * 1024 * 1024,
          truncated: [],
        },
      };
      return page;
    },
    close: async () => {},
  };
}

/** The blob store, noting every file name stored and its size. */
function countingBlobs(stored: { fileName: string; bytes: number }[]): BlobStore {
  return {
    ...storage.blobs,
    putBlob: (body, meta, options) => {
      stored.push({ fileName: meta.fileName, bytes: body.length });
      return storage.blobs.putBlob(body, meta, options);
    },
  };
}

function deps(
  html: () => string,
  signer: EvidenceSigner,
  extra: Partial<ProcessCaptureDeps> = {},
): ProcessCaptureDeps {
  return captureDeps(storage, capturer(html), OPTIONS, {
    evidence: { signer, palimpsestVersion: "0.1.0-test" },
    ...extra,
  });
}

/** A signer whose key is unreachable (KMS down). */
const unreachable: EvidenceSigner = {
  publicKey: async () => {
    throw new SigningError("KMS did not give the public key.");
  },
  sign: async () => {
    throw new SigningError("KMS did not sign.");
  },
};

describe("a capture's evidence package", () => {
  it("is stored when the capture makes a version, signed, and named on the capture and the version", async () => {
    const signer = testSigner();
    const url = "https://news.example/harbour-homes-evidence";
    const stored: { fileName: string; bytes: number }[] = [];
    const captureId = await queuedCapture(storage.repository, url);
    const outcome = await processCapture(
      deps(() => articlePage(12), signer, { blobs: countingBlobs(stored) }),
      captureId,
    );
    assert.equal(outcome.kind, "succeeded", JSON.stringify(outcome));
    const capture = await storage.repository.getCapture(captureId);
    const wacz = capture?.artifacts?.wacz;
    assert.ok(wacz, "the capture names its package");
    assert.equal(wacz.contentType, "application/wacz");
    const [version] = await storage.repository.listVersions(urlIdFor(url));
    assert.deepEqual(version?.artifacts.wacz, wacz, "the version names the same package");

    const bytes = await storage.blobs.getBlob(wacz);
    const verification = await verifyWacz(bytes, { expectedPublicKey: signer.publicKeyDer });
    assert.deepEqual(verification.problems, []);
    assert.equal(verification.mainPageUrl, url);
    // warcinfo, 6 exchanges × 2, snapshot, screenshot, article, provenance.
    assert.equal(verification.records, 1 + 12 + 3 + 1);
    assert.deepEqual(
      stored.filter((s) => s.fileName === "capture.wacz").map((s) => s.bytes),
      [bytes.length],
    );
    // The provenance record: the verdict, the hosts, the versions, the capture's ids.
    const warc = (await readZip(bytes)).files.get(WARC_PATH);
    assert.ok(warc);
    let provenance: Record<string, unknown> | undefined;
    for await (const record of new WARCParser([warc])) {
      if (record.warcType === "metadata") provenance = JSON.parse(await record.contentText());
    }
    assert.deepEqual(provenance?.validity, { verdict: "ok", reason: capture?.validityReason });
    assert.equal(provenance?.captureId, captureId);
    assert.equal(provenance?.palimpsestVersion, "0.1.0-test");
    assert.deepEqual(provenance?.hosts, [
      {
        host: "news.example",
        addresses: ["192.0.2.10"],
        tlsCertificateChain: ["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"],
      },
    ]);
  });

  it("is not stored again by an unchanged recapture, which points at the version: 0 bytes", async () => {
    const signer = testSigner();
    const url = "https://news.example/harbour-homes-unchanged";
    const first = await queuedCapture(storage.repository, url);
    assert.equal(
      (
        await processCapture(
          deps(() => articlePage(7), signer),
          first,
        )
      ).kind,
      "succeeded",
    );
    const stored: { fileName: string; bytes: number }[] = [];
    const again = await queuedCapture(storage.repository, url);
    const outcome = await processCapture(
      deps(() => articlePage(7), signer, { blobs: countingBlobs(stored) }),
      again,
    );
    assert.equal(outcome.kind, "succeeded");
    const capture = await storage.repository.getCapture(again);
    assert.equal(capture?.changed, false);
    assert.equal(capture?.artifacts?.wacz, undefined, "the package is the version's, not this capture's");
    assert.deepEqual(
      stored.filter((s) => s.fileName === "capture.wacz"),
      [],
    );
    const [version] = await storage.repository.listVersions(urlIdFor(url));
    assert.ok(version?.artifacts.wacz, "the version it points at has its package");
  });

  it("that cannot be signed sends the capture back to the queue, recording nothing; the next attempt stores it", async () => {
    const url = "https://news.example/harbour-homes-kms-down";
    const captureId = await queuedCapture(storage.repository, url);
    const outcome = await processCapture(
      deps(() => articlePage(3), unreachable),
      captureId,
    );
    assert.equal(outcome.kind, "retry");
    assert.equal(outcome.kind === "retry" && outcome.error.code, "storage_error");
    assert.deepEqual(await storage.repository.listVersions(urlIdFor(url)), []);
    assert.equal((await storage.repository.getUrl(urlIdFor(url)))?.latestVersionId, undefined);

    const retried = await processCapture(
      deps(() => articlePage(3), testSigner()),
      captureId,
    );
    assert.equal(retried.kind, "succeeded");
    const [version] = await storage.repository.listVersions(urlIdFor(url));
    assert.ok(version?.artifacts.wacz);
    assert.deepEqual(
      (await storage.repository.getCapture(captureId))?.artifacts?.wacz,
      version.artifacts.wacz,
    );
  });

  it("is named on a capture whose earlier delivery committed the version and died before finishing", async () => {
    const url = "https://news.example/harbour-homes-redelivered";
    const captureId = await queuedCapture(storage.repository, url);
    let dies = true;
    const dying = {
      ...storage.repository,
      finishCapture: async (record: Parameters<typeof storage.repository.finishCapture>[0]) => {
        if (dies) {
          dies = false;
          throw new Error("the worker died before it finished the capture");
        }
        return storage.repository.finishCapture(record);
      },
    };
    const signer = testSigner();
    const first = await processCapture(
      deps(() => articlePage(9), signer, { repository: dying }),
      captureId,
    );
    assert.equal(first.kind, "retry");
    const [committed] = await storage.repository.listVersions(urlIdFor(url));
    assert.ok(committed?.artifacts.wacz, "the first delivery committed the version with its package");

    const again = await processCapture(
      deps(() => articlePage(9), signer, { repository: dying }),
      captureId,
    );
    assert.equal(again.kind, "succeeded");
    assert.deepEqual(
      (await storage.repository.getCapture(captureId))?.artifacts?.wacz,
      committed.artifacts.wacz,
    );
  });

  it("that cannot be signed on the last attempt leaves the version without a package, not lost", async () => {
    const url = "https://news.example/harbour-homes-kms-gone";
    const captureId = await queuedCapture(storage.repository, url);
    const outcome = await processCapture(
      deps(() => articlePage(5), unreachable, { maxAttempts: 1 }),
      captureId,
    );
    assert.equal(outcome.kind, "succeeded");
    const [version] = await storage.repository.listVersions(urlIdFor(url));
    assert.ok(version, "the version is recorded");
    assert.equal(version.artifacts.wacz, undefined);
    assert.ok(version.artifacts.snapshot);
  });
});
