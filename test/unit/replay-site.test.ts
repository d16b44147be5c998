/** The replay origin's policy, its links, and the web UI's side of it (frames, download names). */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { contentSecurityPolicy } from "../../functions/api/web-ui/layout.ts";
import { evidenceFileName } from "../../functions/api/web-ui/replay-page.ts";
import {
  answerReplayRequest,
  REPLAY_INDEX_HTML,
  replaySiteFiles,
  replaySitePolicy,
  replayViewUrl,
} from "../../shared/http/replay-site.ts";

const directive = (policy: string, name: string) =>
  policy
    .split("; ")
    .find((d) => d.startsWith(`${name} `))
    ?.slice(name.length + 1);

describe("replay site", () => {
  test("connects to itself and the storage origin only; runs only its own scripts and the inline bootstrap", () => {
    const policy = replaySitePolicy({
      storageOrigins: [
        "https://bucket.s3.eu-west-1.amazonaws.com/blobs/x?X-Amz-Signature=1",
        "javascript:alert(1)",
      ],
      frameAncestors: ["https://archive.example.org/", "https://*.execute-api.eu-west-1.amazonaws.com"],
    });
    assert.equal(directive(policy, "default-src"), "'none'");
    assert.equal(directive(policy, "connect-src"), "'self' data: https://bucket.s3.eu-west-1.amazonaws.com");
    // A wildcard would let anyone's API Gateway in the region frame the replay: it is dropped.
    assert.equal(directive(policy, "frame-ancestors"), "'self' https://archive.example.org");
    const inline = /<script>([\s\S]*?)<\/script>/.exec(REPLAY_INDEX_HTML)?.[1] ?? "";
    const hash = `'sha256-${createHash("sha256").update(inline).digest("base64")}'`;
    assert.equal(
      directive(policy, "script-src"),
      `'self' ${hash}`,
      "the index page's one inline script, by hash",
    );
    assert.doesNotMatch(policy, /unsafe-eval|script-src[^;]*unsafe-inline/);
  });

  test("a replay link carries the presigned source, the page and the capture time as 14 digits", () => {
    const source = "https://bucket.s3.eu-west-1.amazonaws.com/blobs/sha256/ab?X-Amz-Signature=1&x=2";
    const link = new URL(
      replayViewUrl("https://replay.example.org/", {
        source,
        url: "https://news.example/a?b=c",
        capturedAt: "2026-03-03T09:40:00.120Z",
      }),
    );
    assert.equal(link.origin + link.pathname, "https://replay.example.org/");
    assert.equal(link.searchParams.get("source"), source);
    assert.equal(link.searchParams.get("url"), "https://news.example/a?b=c");
    assert.equal(link.searchParams.get("ts"), "20260303094000");
  });

  test("serves its files by path alone, and nothing else", () => {
    const files = replaySiteFiles({ ui: new Uint8Array([1]), sw: new Uint8Array([2, 3]) });
    const sw = answerReplayRequest(files, { "x-test": "1" }, "GET", "/replay/sw.js");
    assert.equal(sw.status, 200);
    assert.deepEqual([...sw.body], [2, 3]);
    assert.equal(sw.headers["x-test"], "1");
    assert.equal(answerReplayRequest(files, {}, "HEAD", "/replay/ui.js").body.length, 0);
    assert.equal(answerReplayRequest(files, {}, "GET", "/ui.js").status, 404);
    assert.equal(answerReplayRequest(files, {}, "PUT", "/").status, 405);
  });
});

describe("web UI and the replay origin", () => {
  test("a page frames exactly the origins it names, and nothing when it names none", () => {
    assert.equal(directive(contentSecurityPolicy(), "frame-src"), undefined);
    const policy = contentSecurityPolicy([], ["http://127.0.0.1:3001", "https://r.example/path", "data:"]);
    assert.equal(directive(policy, "frame-src"), "http://127.0.0.1:3001");
  });

  test("a downloaded WACZ is named by its URL and capture time", () => {
    assert.equal(
      evidenceFileName("url_abc", "2026-03-03T09:40:00.120Z"),
      "palimpsest-url_abc-20260303094000.wacz",
    );
  });
});
