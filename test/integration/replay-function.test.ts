/**
 * The replay function as its function URL invokes it: ReplayWeb.page's files from its layer
 * (here the installed package), the replay site's policy naming the bucket's S3 host alone, and
 * nothing served but the site's files.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { replayFromEnvironment } from "../../functions/compose/replay.ts";
import { REPLAYWEBPAGE_DIR } from "../../local/replay-server.ts";

const STORAGE = "https://palimpsest-archive-1a2b3c.s3.eu-west-1.amazonaws.com";
const ENVIRONMENT = {
  REPLAY_STORAGE_ORIGIN: STORAGE,
  REPLAY_FRAME_ANCESTORS: "https://archive.example.org",
  REPLAY_ASSETS_DIR: REPLAYWEBPAGE_DIR,
};

function request(method: string, rawPath: string, rawQueryString = ""): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString,
    headers: { host: "abc123.lambda-url.eu-west-1.on.aws" },
    isBase64Encoded: false,
    requestContext: {
      accountId: "anonymous",
      apiId: "abc123",
      domainName: "abc123.lambda-url.eu-west-1.on.aws",
      domainPrefix: "abc123",
      http: { method, path: rawPath, protocol: "HTTP/1.1", sourceIp: "192.0.2.1", userAgent: "test" },
      requestId: "r1",
      routeKey: "$default",
      stage: "$default",
      time: "07/Dec/2026:16:00:00 +0000",
      timeEpoch: 1_796_659_200_000,
    },
  };
}

describe("replay function", () => {
  const handler = replayFromEnvironment(ENVIRONMENT);
  const invoke = async (method: string, path: string, query = "") =>
    (await handler(request(method, path, query))) as APIGatewayProxyStructuredResultV2;

  test("serves ReplayWeb.page's service worker byte for byte, under the site's policy", async () => {
    const answer = await invoke("GET", "/replay/sw.js");
    assert.equal(answer.statusCode, 200);
    assert.equal(answer.isBase64Encoded, true);
    assert.deepEqual(
      Buffer.from(answer.body ?? "", "base64"),
      readFileSync(join(REPLAYWEBPAGE_DIR, "sw.js")),
    );
    const policy = String(answer.headers?.["content-security-policy"]);
    assert.match(policy, new RegExp(`connect-src 'self' data: ${STORAGE.replace(/\./g, "\\.")}(;|$)`));
    assert.match(policy, /frame-ancestors 'self' https:\/\/archive\.example\.org(;|$)/);
  });

  test("the index page mounts the viewer from its query; other paths and methods are refused", async () => {
    const index = await invoke("GET", "/", "source=x&url=y");
    assert.equal(index.statusCode, 200);
    assert.match(Buffer.from(index.body ?? "", "base64").toString(), /<script src="\/replay\/ui\.js">/);
    for (const path of ["/index.html", "/replay/../package.json", "/v1/captures", "/replay/w/x"])
      assert.equal((await invoke("GET", path)).statusCode, 404, path);
    assert.equal((await invoke("POST", "/")).statusCode, 405);
  });

  test("a storage origin that is not one exact origin fails the cold start, naming the variable", () => {
    for (const bad of ["https://*.s3.amazonaws.com", "s3.amazonaws.com", "https://x.example/path"]) {
      assert.throws(
        () => replayFromEnvironment({ ...ENVIRONMENT, REPLAY_STORAGE_ORIGIN: bad }),
        /REPLAY_STORAGE_ORIGIN/,
        bad,
      );
    }
    assert.throws(
      () => replayFromEnvironment({ REPLAY_ASSETS_DIR: REPLAYWEBPAGE_DIR }),
      /REPLAY_STORAGE_ORIGIN/,
    );
  });

  test("a wildcard frame ancestor fails the cold start: only the UI's exact origin may frame the replay", () => {
    // `*.execute-api.<region>` would be every AWS customer's API in the region, not the archive's UI.
    for (const bad of ["https://*.execute-api.eu-west-1.amazonaws.com", "https://archive.example.org/ui"]) {
      assert.throws(
        () => replayFromEnvironment({ ...ENVIRONMENT, REPLAY_FRAME_ANCESTORS: bad }),
        /REPLAY_FRAME_ANCESTORS/,
        bad,
      );
    }
  });
});
