import assert from "node:assert/strict";
import { it } from "node:test";
import { runLoad } from "../../bench/load.ts";

it("accepts or throttles every submission under load, finishes every accepted capture, and makes no duplicate version", async () => {
  const result = await runLoad({ submissions: 60, urls: 6, maxQueueDepth: 25, workers: 2 });
  assert.deepEqual(result.otherStatuses, [], "only 202 and 429");
  assert.ok(result.accepted >= 25, JSON.stringify(result));
  assert.ok(result.throttled > 0, "the queue saturated and the API pushed back");
  assert.equal(result.accepted + result.throttled, 60);
  assert.equal(result.throttledWithoutRetryAfter, 0);
  assert.equal(result.unfinished, 0);
  assert.equal(result.failed, 0);
  assert.equal(result.succeeded, result.accepted);
  assert.equal(result.duplicateVersions, 0);
});
