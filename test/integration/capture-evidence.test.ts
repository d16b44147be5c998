/**
 * The evidence package of a capture (evidence-package.ts), through `processCapture` on the
 * embedded S3 and DynamoDB: a capture that makes a version stores a signed WACZ and names it
 * `wacz` on the capture and the version; an unchanged recapture stores no package; a signer or a
 * store that fails is tried again within the delivery, and one that keeps failing leaves the
 * version recorded without its package, with the reason on the version and the capture: the
 * browser never runs twice for a package.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WARCParser } from "warcio";
import { type ProcessCaptureDeps, processCapture } from "../../shared/domain/capture/index.ts";
import { verifyWacz } from "../../shared/domain/evidence/verify-wacz.ts";
import { WARC_PATH } from "../../shared/domain/evidence/wacz-layout.ts";
import { readZip } from "../../shared/domain/evidence/zip-container.ts";
import { urlIdFor } from "../../shared/domain/ids.ts";
import { urlView } from "../../shared/domain/read/views.ts";
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
function capturer(html: () => string, runs?: { count: number }): PageCapturer {
  return {
    async capture(url) {
      if (runs) runs.count++;
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
  runs?: { count: number },
): ProcessCaptureDeps {
  return captureDeps(storage, capturer(html, runs), OPTIONS, {
    // Short waits between tries: the test is about what is tried, not how long it waits.
    evidence: { signer, palimpsestVersion: "0.1.0-test", retryDelaysMs: [5, 5] },
    ...extra,
  });
}

/** A signer that fails its first `failures` signatures, then signs; counting every call. */
function flakySigner(failures: number): EvidenceSigner & { calls: number } {
  const real = testSigner();
  const flaky = {
    calls: 0,
    publicKey: () => real.publicKey(),
    sign: async (message: Uint8Array) => {
      flaky.calls++;
      if (flaky.calls <= failures) throw new SigningError("KMS throttled the request.");
      return real.sign(message);
    },
  };
  return flaky;
}

/** The blob store, failing every store of a package the first `failures` times. */
function failingPackageStore(failures: number): BlobStore & { failed: number } {
  const store = {
    ...storage.blobs,
    failed: 0,
    putBlob: (
      body: Uint8Array,
      meta: Parameters<BlobStore["putBlob"]>[1],
      options?: Parameters<BlobStore["putBlob"]>[2],
    ) => {
      if (meta.fileName === "capture.wacz" && store.failed < failures) {
        store.failed++;
        return Promise.reject(new Error("S3 answered 503 Slow Down."));
      }
      return storage.blobs.putBlob(body, meta, options);
    },
  };
  return store;
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

  it("whose signer fails once is signed on the next try, in the same delivery: the browser runs once", async () => {
    const url = "https://news.example/harbour-homes-kms-blip";
    const captureId = await queuedCapture(storage.repository, url);
    const runs = { count: 0 };
    const signer = flakySigner(1);
    const outcome = await processCapture(
      deps(() => articlePage(3), signer, {}, runs),
      captureId,
    );
    assert.equal(outcome.kind, "succeeded", JSON.stringify(outcome));
    assert.equal(runs.count, 1);
    assert.equal(signer.calls, 2);
    const [version] = await storage.repository.listVersions(urlIdFor(url));
    assert.ok(version?.artifacts.wacz);
    assert.equal(version.evidence, undefined);
    const capture = await storage.repository.getCapture(captureId);
    assert.deepEqual(capture?.artifacts?.wacz, version.artifacts.wacz);
    assert.equal(capture?.evidence, undefined);
  });

  it("that cannot be signed at all keeps the version without it, says why, and runs the browser once", async () => {
    const url = "https://news.example/harbour-homes-kms-down";
    const captureId = await queuedCapture(storage.repository, url);
    const runs = { count: 0 };
    const outcome = await processCapture(
      deps(() => articlePage(3), unreachable, {}, runs),
      captureId,
    );
    assert.equal(outcome.kind, "succeeded", JSON.stringify(outcome));
    assert.equal(runs.count, 1, "no second browser run for a package");
    const [version] = await storage.repository.listVersions(urlIdFor(url));
    assert.ok(version, "the version is recorded on the first delivery");
    assert.equal(version.artifacts.wacz, undefined);
    assert.ok(version.artifacts.snapshot);
    assert.equal(version.evidence?.status, "missing");
    assert.equal(version.evidence?.code, "signing_failed");
    assert.match(version.evidence?.message ?? "", /could not be signed/);
    const capture = await storage.repository.getCapture(captureId);
    assert.deepEqual(capture?.evidence, version.evidence);
    const url0 = await storage.repository.getUrl(urlIdFor(url));
    assert.ok(url0);
    const shown = urlView(url0, await storage.repository.listVersions(urlIdFor(url)));
    assert.deepEqual((shown.versions as { evidence?: unknown }[])[0]?.evidence, version.evidence);
  });

  it("that cannot be stored keeps the version without it as storage_error; a store that fails once stores it", async () => {
    const url = "https://news.example/harbour-homes-s3-down";
    const captureId = await queuedCapture(storage.repository, url);
    const runs = { count: 0 };
    const down = failingPackageStore(Number.POSITIVE_INFINITY);
    const outcome = await processCapture(
      deps(() => articlePage(4), testSigner(), { blobs: down }, runs),
      captureId,
    );
    assert.equal(outcome.kind, "succeeded", JSON.stringify(outcome));
    assert.equal(runs.count, 1);
    assert.equal(down.failed, 3, "three tries");
    const [version] = await storage.repository.listVersions(urlIdFor(url));
    assert.equal(version?.artifacts.wacz, undefined);
    assert.equal(version?.evidence?.code, "storage_error");
    assert.equal((await storage.repository.getCapture(captureId))?.evidence?.code, "storage_error");

    const other = "https://news.example/harbour-homes-s3-blip";
    const second = await queuedCapture(storage.repository, other);
    const blip = failingPackageStore(1);
    assert.equal(
      (
        await processCapture(
          deps(() => articlePage(4), testSigner(), { blobs: blip }),
          second,
        )
      ).kind,
      "succeeded",
    );
    const [stored] = await storage.repository.listVersions(urlIdFor(other));
    assert.ok(stored?.artifacts.wacz);
    assert.equal(stored.evidence, undefined);
  });

  it("that cannot be built keeps the version without it as packaging_failed, not as a signing failure", async () => {
    const url = "https://news.example/harbour-homes-odd-exchange";
    const captureId = await queuedCapture(storage.repository, url);
    const signer = flakySigner(0);
    const base = capturer(() => articlePage(6));
    const odd: PageCapturer = {
      ...base,
      async capture(target, options, hooks) {
        const page = await base.capture(target, options, hooks);
        const traffic = page.traffic;
        assert.ok(traffic);
        // A target URI no WARC record can name: the build throws before anything is signed.
        const broken = { ...(traffic.exchanges[0] as (typeof traffic.exchanges)[number]), url: "not a url" };
        return { ...page, traffic: { ...traffic, exchanges: [...traffic.exchanges, broken] } };
      },
    };
    const outcome = await processCapture(
      captureDeps(storage, odd, OPTIONS, {
        evidence: { signer, palimpsestVersion: "0.1.0-test", retryDelaysMs: [5, 5] },
      }),
      captureId,
    );
    assert.equal(outcome.kind, "succeeded", JSON.stringify(outcome));
    const [version] = await storage.repository.listVersions(urlIdFor(url));
    assert.equal(version?.evidence?.code, "packaging_failed");
    assert.equal(signer.calls, 0);
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
});
