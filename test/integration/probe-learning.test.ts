/**
 * What a URL learned for HTTP probes never goes back in time (the repository adapter's guards on
 * `UrlRecord.probe`, against the embedded DynamoDB): two writers that read the URL at once, one
 * of them stale — an older browser capture finishing late, a probe whose learning a browser
 * capture replaced meanwhile, two probes counting from the same state — and only the one whose
 * learning is current may write it. The whole capture write fails with it, and the caller decides
 * again against the URL as it is now (record-on-url.ts, probe-capture.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { urlIdFor } from "../../shared/domain/ids.ts";
import type { UrlProbeState, UrlRecord } from "../../shared/domain/model.ts";
import type { ProbeWrite } from "../../shared/ports.ts";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";

let storage: EmbeddedStorage;

before(async () => {
  storage = await startEmbeddedStorage();
});

after(async () => {
  await storage?.close();
});

const URL_ = "https://news.example/2026/12/pipes";
const T1 = "2026-12-07T10:00:00.000Z";
const T2 = "2026-12-07T10:00:05.000Z";

function learned(browserAt: string, serverRendered: boolean, httpCount = 0): UrlProbeState {
  return {
    serverRendered,
    ...(serverRendered ? {} : { reason: "scripts write or change it" }),
    textSha256: serverRendered ? "old-text" : "rendered-text",
    versionId: "ver_1",
    rulesKey: "rules",
    httpStatus: 200,
    finalUrl: URL_,
    browserAt,
    httpCount,
  };
}

async function freshUrl(suffix: string): Promise<UrlRecord> {
  const url = `${URL_}/${suffix}`;
  const urlId = urlIdFor(url);
  await storage.repository.ensureUrl({
    urlId,
    url,
    captureCount: 0,
    versionCount: 0,
    recapture: "adaptive",
    createdAt: T1,
  });
  const record = await storage.repository.getUrl(urlId);
  assert.ok(record);
  return record;
}

/** One capture's write on the URL as `seen` read it, with its probe change. */
function write(seen: UrlRecord, captureId: string, capturedAt: string, probe: ProbeWrite) {
  return storage.repository.recordCaptureOnUrl({
    seen,
    captureId,
    capturedAt,
    count: true,
    validity: "ok",
    nextCaptureAt: "2026-12-08T10:00:00.000Z",
    probe,
  });
}

describe("learning for probes under two writers", () => {
  it("keeps a newer browser capture's learning over an older one that finishes later", async () => {
    const seen = await freshUrl("browsers");
    // Both read the URL before either wrote; the newer (T2) writes first.
    const newer = await write(seen, "cap_newer", T2, { kind: "browser", state: learned(T2, false) });
    assert.equal(newer.recorded, true);
    const older = await write(seen, "cap_older", T1, { kind: "browser", state: learned(T1, true) });
    assert.equal(older.recorded, false, "the older learning is refused");
    assert.equal(older.current?.probe?.browserAt, T2);
    assert.equal(older.current?.probe?.serverRendered, false);
    // Decided again without a probe change, the older capture is still recorded.
    const retried = await storage.repository.recordCaptureOnUrl({
      seen: older.current as UrlRecord,
      captureId: "cap_older",
      capturedAt: T1,
      count: true,
      validity: "ok",
      nextCaptureAt: "2026-12-08T10:00:00.000Z",
    });
    assert.equal(retried.recorded, true);
    const after = await storage.repository.getUrl(seen.urlId);
    assert.equal(after?.captureCount, 2);
    assert.deepEqual(after?.probe, learned(T2, false));
  });

  it("refuses a probe whose learning a browser capture replaced while it ran, and a second probe counting from the same state", async () => {
    const first = await freshUrl("probes");
    assert.equal(
      (await write(first, "cap_b1", T1, { kind: "browser", state: learned(T1, true) })).recorded,
      true,
    );
    const seenByProbe = await storage.repository.getUrl(first.urlId);
    assert.ok(seenByProbe?.probe);
    const from = { browserAt: T1, httpCount: 0 };
    // A person's browser capture learns that the page is no longer server-rendered…
    assert.equal(
      (await write(seenByProbe, "cap_b2", T2, { kind: "browser", state: learned(T2, false) })).recorded,
      true,
    );
    // …and the probe that read the earlier learning may not write its state back.
    const stale = await write(seenByProbe, "cap_p1", T2, {
      kind: "http",
      state: learned(T1, true, 1),
      from,
    });
    assert.equal(stale.recorded, false);
    assert.equal(stale.current?.probe?.serverRendered, false, "the newer learning stands");

    // From the current learning, one probe counts; another that read the same state is refused.
    const current = stale.current as UrlRecord;
    const now = { browserAt: T2, httpCount: 0 };
    const one = await write(current, "cap_p2", T2, { kind: "http", state: learned(T2, false, 1), from: now });
    assert.equal(one.recorded, true);
    const two = await write(current, "cap_p3", T2, { kind: "http", state: learned(T2, false, 1), from: now });
    assert.equal(two.recorded, false);
    assert.equal((await storage.repository.getUrl(first.urlId))?.probe?.httpCount, 1);
  });

  it("clears the learning", async () => {
    const seen = await freshUrl("cleared");
    await write(seen, "cap_c1", T1, { kind: "browser", state: learned(T1, true) });
    const current = await storage.repository.getUrl(seen.urlId);
    assert.ok(current?.probe);
    assert.equal((await write(current, "cap_c2", T2, { kind: "clear" })).recorded, true);
    assert.equal((await storage.repository.getUrl(seen.urlId))?.probe, undefined);
  });
});
