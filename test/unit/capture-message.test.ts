import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { encodeCaptureMessage, parseCaptureMessage } from "../../shared/domain/capture-message.ts";

describe("capture message codec", () => {
  test("round-trips a capture id, with and without a correlation id", () => {
    for (const message of [
      { captureId: "cap_01hzx" },
      { captureId: "cap_01hzx", correlationId: "c0ffee12-3456-4789-abcd-ef0123456789" },
    ]) {
      assert.deepEqual(parseCaptureMessage(encodeCaptureMessage(message)), message);
    }
  });

  test("reads the bodies the queues held before correlation ids existed", () => {
    assert.deepEqual(parseCaptureMessage('{"captureId":"cap_old"}'), { captureId: "cap_old" });
  });

  test("drops a correlation id that is not a plain request id, keeps the capture", () => {
    const body = JSON.stringify({ captureId: "cap_1", correlationId: "line\nbreak" });
    assert.deepEqual(parseCaptureMessage(body), { captureId: "cap_1" });
    assert.equal(
      encodeCaptureMessage({ captureId: "cap_1", correlationId: "x".repeat(500) }),
      '{"captureId":"cap_1"}',
    );
  });

  test("refuses what is not a capture message (null: acknowledged, never retried)", () => {
    for (const body of [
      "",
      "not json",
      "null",
      "[]",
      '{"captureId":7}',
      '{"kind":"poll","sourceId":"src_1"}',
    ]) {
      assert.equal(parseCaptureMessage(body), null, body);
    }
  });
});
