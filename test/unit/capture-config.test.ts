import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { composeBrowserCapturer } from "../../functions/compose/capture-worker.ts";
import type { createChromiumPageCapturer } from "../../shared/adapters/chromium/page-capturer.ts";
import { loadCaptureConfig, loadEnvironScrub } from "../../shared/config.ts";
import { ENV } from "../../shared/env-names.ts";
import { ConfigError } from "../../shared/errors.ts";

describe("capture config: limits on one capture", () => {
  it("defaults to 90 s in all, 10 redirects and 200,000 elements", () => {
    const config = loadCaptureConfig({});
    assert.equal(config.totalTimeoutMs, 90_000);
    assert.equal(config.maxRedirects, 10);
    assert.equal(config.maxDomElements, 200_000);
    assert.ok(config.totalTimeoutMs > config.navigationTimeoutMs + config.idleTimeoutMs);
  });

  it("reads the variables, trimmed", () => {
    const config = loadCaptureConfig({
      [ENV.captureTotalTimeoutMs]: " 45000 ",
      [ENV.captureMaxRedirects]: "0",
      [ENV.captureMaxDomElements]: "50000",
    });
    assert.equal(config.totalTimeoutMs, 45_000);
    assert.equal(config.maxRedirects, 0);
    assert.equal(config.maxDomElements, 50_000);
  });

  it("treats empty values as unset", () => {
    const config = loadCaptureConfig({
      [ENV.captureTotalTimeoutMs]: "",
      [ENV.captureMaxRedirects]: " ",
      [ENV.captureMaxDomElements]: "",
    });
    assert.equal(config.totalTimeoutMs, 90_000);
    assert.equal(config.maxRedirects, 10);
    assert.equal(config.maxDomElements, 200_000);
  });

  for (const [name, raw] of [
    [ENV.captureTotalTimeoutMs, "1999"],
    [ENV.captureTotalTimeoutMs, "900001"],
    [ENV.captureTotalTimeoutMs, "90s"],
    [ENV.captureTotalTimeoutMs, "90000.5"],
    [ENV.captureMaxRedirects, "-1"],
    [ENV.captureMaxRedirects, "21"],
    [ENV.captureMaxRedirects, "ten"],
    [ENV.captureMaxDomElements, "999"],
    [ENV.captureMaxDomElements, "10000001"],
    [ENV.captureMaxDomElements, "2e5x"],
  ] as const) {
    it(`refuses ${name}=${JSON.stringify(raw)}, naming the variable and its range`, () => {
      assert.throws(
        () => loadCaptureConfig({ [name]: raw }),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.message.includes(name) &&
          /must be an integer from/.test(err.message),
      );
    });
  }

  it("accepts the ends of each range", () => {
    assert.equal(loadCaptureConfig({ [ENV.captureMaxRedirects]: "20" }).maxRedirects, 20);
    assert.equal(loadCaptureConfig({ [ENV.captureMaxDomElements]: "1000" }).maxDomElements, 1_000);
    assert.equal(loadCaptureConfig({ [ENV.captureTotalTimeoutMs]: "900000" }).totalTimeoutMs, 900_000);
    const shortest = loadCaptureConfig({
      [ENV.captureTotalTimeoutMs]: "2000",
      [ENV.navigationTimeoutMs]: "1000",
    });
    assert.equal(shortest.totalTimeoutMs, 2_000);
  });

  it("refuses a total cap no longer than the navigation timeout, naming both variables", () => {
    for (const env of [
      { [ENV.captureTotalTimeoutMs]: "30000" }, // equal to the default navigation timeout
      { [ENV.captureTotalTimeoutMs]: "20000" },
      { [ENV.navigationTimeoutMs]: "100000" }, // the default total is 90 s
    ]) {
      assert.throws(
        () => loadCaptureConfig(env),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.message.includes(ENV.captureTotalTimeoutMs) &&
          err.message.includes(ENV.navigationTimeoutMs) &&
          /must be longer than/.test(err.message),
        JSON.stringify(env),
      );
    }
    const longer = loadCaptureConfig({
      [ENV.navigationTimeoutMs]: "100000",
      [ENV.captureTotalTimeoutMs]: "100001",
    });
    assert.equal(longer.totalTimeoutMs, 100_001);
  });
});

describe("capture config: the evidence package's recording budget", () => {
  it("keeps 50 MiB of bodies per capture unless EVIDENCE_MAX_BYTES says otherwise", () => {
    assert.equal(loadCaptureConfig({}).evidenceMaxBytes, 50 * 1024 * 1024);
    assert.equal(
      loadCaptureConfig({ [ENV.evidenceMaxBytes]: "1048576" }).evidenceMaxBytes,
      1024 * 1024,
      "the least it keeps",
    );
  });

  for (const raw of ["1048575", "1073741825", "50MB"]) {
    it(`refuses EVIDENCE_MAX_BYTES=${JSON.stringify(raw)}, naming the variable`, () => {
      assert.throws(
        () => loadCaptureConfig({ [ENV.evidenceMaxBytes]: raw }),
        (err: unknown) => err instanceof ConfigError && err.message.includes("EVIDENCE_MAX_BYTES"),
      );
    });
  }
});

describe("capture config: scrubbing the secrets from the environment", () => {
  it("is on on Lambda and off elsewhere unless SCRUB_ENVIRON says otherwise", () => {
    assert.equal(loadEnvironScrub({}), false);
    assert.equal(loadEnvironScrub({ [ENV.lambdaFunctionName]: "palimpsest-capture" }), true);
    assert.equal(loadEnvironScrub({ [ENV.scrubEnviron]: "on" }), true);
    assert.equal(
      loadEnvironScrub({ [ENV.lambdaFunctionName]: "palimpsest-capture", [ENV.scrubEnviron]: "off" }),
      false,
    );
  });

  it("refuses anything but on or off, naming the variable", () => {
    assert.throws(
      () => loadEnvironScrub({ [ENV.scrubEnviron]: "yes" }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /SCRUB_ENVIRON/);
        return true;
      },
    );
  });
});

describe("capture config: the hostile-page limits of the browser", () => {
  it("defaults to a 20 s document deadline, a 10 s stall and 1 GiB per renderer", () => {
    const config = loadCaptureConfig({});
    assert.equal(config.documentDeadlineMs, 20_000);
    assert.equal(config.stallMs, 10_000);
    assert.equal(config.rendererMaxBytes, 1024 * 1024 * 1024);
  });

  it("reads them, and the browser capturer is built with them", () => {
    const config = loadCaptureConfig({
      [ENV.captureDocumentDeadlineMs]: "3000",
      [ENV.captureStallMs]: "1000",
      [ENV.captureRendererMaxMb]: "256",
    });
    let given: Parameters<typeof createChromiumPageCapturer>[0] | undefined;
    const capturer = composeBrowserCapturer(config, undefined, (options) => {
      given = options;
      return { capture: () => Promise.reject(new Error("not here")), close: async () => undefined };
    });
    assert.ok(capturer);
    assert.deepEqual(given?.responseLimits, { documentDeadlineMs: 3_000, stallMs: 1_000 });
    assert.equal(given?.maxRendererMemoryBytes, 256 * 1024 * 1024);
  });

  for (const [name, raw] of [
    [ENV.captureDocumentDeadlineMs, "999"],
    [ENV.captureStallMs, "499"],
    [ENV.captureRendererMaxMb, "127"],
    [ENV.captureRendererMaxMb, "1GB"],
  ] as const) {
    it(`refuses ${name}=${JSON.stringify(raw)}, naming the variable`, () => {
      assert.throws(
        () => loadCaptureConfig({ [name]: raw }),
        (err: unknown) => err instanceof ConfigError && err.message.includes(name),
      );
    });
  }
});
