/** A first capture is a first version, not "no change" (issue 12: first impressions). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeOutcome } from "../../cli/capture-command.ts";
import type { CaptureRecord, VersionRecord } from "../../shared/domain/model.ts";
import { captureOutcome } from "../../shared/domain/read/views.ts";

const capture = (overrides: Partial<CaptureRecord> = {}): CaptureRecord => ({
  captureId: "cap_2",
  urlId: "url_1",
  url: "https://news.example/a",
  status: "succeeded",
  requestedAt: "2026-03-03T10:00:00.000Z",
  attempts: 1,
  versionId: "ver_1",
  ...overrides,
});

const version = (overrides: Partial<VersionRecord> = {}): VersionRecord => ({
  versionId: "ver_1",
  urlId: "url_1",
  captureId: "cap_2",
  capturedAt: "2026-03-03T10:00:05.000Z",
  textSha256: "a",
  artifacts: {},
  ...overrides,
});

describe("captureOutcome", () => {
  it("names the first version, a new one, an unchanged text, a removal and no version", () => {
    assert.equal(captureOutcome(capture(), version()), "first_version");
    assert.equal(captureOutcome(capture(), version({ previousVersionId: "ver_0" })), "new_version");
    assert.equal(captureOutcome(capture(), version({ captureId: "cap_1" })), "unchanged");
    assert.equal(captureOutcome(capture({ removed: true }), version()), "removed");
    assert.equal(captureOutcome(capture({ versionId: undefined }), null), "no_version");
    assert.equal(captureOutcome(capture({ status: "running" }), null), undefined);
  });
});

describe("palimpsest capture's last line", () => {
  it("says first version for a first capture, and no change only when there was a comparison", () => {
    const view = { captureId: "cap_2", url: "https://news.example/a", versionId: "ver_1" };
    assert.equal(
      describeOutcome({ ...view, status: "succeeded", outcome: "first_version" }),
      "succeeded, first version ver_1",
    );
    assert.equal(
      describeOutcome({ ...view, status: "succeeded", outcome: "unchanged" }),
      "succeeded, version ver_1, no change",
    );
  });
});
