import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inRecordedOrder, type VersionRecord } from "../../shared/domain/model.ts";

function version(versionId: string, previousVersionId?: string): VersionRecord {
  return {
    versionId,
    urlId: "url_1",
    captureId: `cap_${versionId}`,
    capturedAt: "2026-11-25T00:00:00.000Z",
    textSha256: versionId,
    artifacts: {},
    ...(previousVersionId ? { previousVersionId } : {}),
  };
}

const ids = (versions: VersionRecord[]) => versions.map((v) => v.versionId);

describe("inRecordedOrder", () => {
  it("follows the chain of previous versions, not the ids", () => {
    // c was requested before b but committed after it.
    const versions = [version("a"), version("c", "b"), version("b", "a")];
    assert.deepEqual(ids(inRecordedOrder(versions)), ["a", "b", "c"]);
  });

  it("is the chain from the URL's latest version: a version never committed is not history", () => {
    // o was stored on top of a by a capture that then lost the race to b (or died).
    const versions = [version("a"), version("b", "a"), version("o", "a")];
    assert.deepEqual(ids(inRecordedOrder(versions, "b")), ["a", "b"]);
    assert.deepEqual(ids(inRecordedOrder([version("c", "b"), version("a"), version("b", "a")], "c")), [
      "a",
      "b",
      "c",
    ]);
    // A latest that is not among them: nothing to follow.
    assert.deepEqual(ids(inRecordedOrder(versions, "zz")), ["a", "b", "o"]);
  });

  it("keeps id order for what is not one whole chain", () => {
    assert.deepEqual(ids(inRecordedOrder([])), []);
    assert.deepEqual(ids(inRecordedOrder([version("a")])), ["a"]);
    // Two versions nobody follows (two chains).
    assert.deepEqual(ids(inRecordedOrder([version("a"), version("b")])), ["a", "b"]);
    // A chain with a version missing in the middle.
    assert.deepEqual(ids(inRecordedOrder([version("a"), version("c", "b")])), ["a", "c"]);
    // A loop.
    assert.deepEqual(ids(inRecordedOrder([version("a", "b"), version("b", "a"), version("c", "a")])), [
      "a",
      "b",
      "c",
    ]);
  });
});
