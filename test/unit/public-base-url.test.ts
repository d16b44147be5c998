/** PUBLIC_BASE_URL: where absolute links point, read once at start, never from a request. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadApiConfig } from "../../shared/config.ts";
import { ConfigError } from "../../shared/errors.ts";

describe("PUBLIC_BASE_URL", () => {
  it("is an http(s) origin with an optional path prefix, without its trailing slash", () => {
    assert.equal(loadApiConfig({}).publicBaseUrl, undefined);
    assert.equal(
      loadApiConfig({ PUBLIC_BASE_URL: "https://Archive.Example.org/" }).publicBaseUrl,
      "https://archive.example.org",
    );
    assert.equal(
      loadApiConfig({ PUBLIC_BASE_URL: "https://news.example/archive/" }).publicBaseUrl,
      "https://news.example/archive",
    );
    assert.equal(
      loadApiConfig({ PUBLIC_BASE_URL: "http://127.0.0.1:3000" }).publicBaseUrl,
      "http://127.0.0.1:3000",
    );
  });

  it("fails fast, naming the variable, on anything else", () => {
    for (const bad of [
      "archive.example.org",
      "ftp://archive.example.org",
      "https://a.example/?x=1",
      "https://u:p@a.example",
    ]) {
      assert.throws(
        () => loadApiConfig({ PUBLIC_BASE_URL: bad }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.match(err.message, /PUBLIC_BASE_URL/);
          return true;
        },
      );
    }
  });
});
