/** The settings the composition root reads at cold start, all in shared/config.ts. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  loadApiConfig,
  loadCadence,
  loadCaptureQueueConfig,
  loadCliConfig,
  loadInteractiveQueueConfig,
  loadLocalConfig,
  loadPollQueueConfig,
  loadRegion,
  loadSweepBackPressureConfig,
} from "../../shared/config.ts";
import { DEFAULT_CADENCE } from "../../shared/domain/schedule.ts";
import { ConfigError } from "../../shared/errors.ts";

describe("runtime config", () => {
  test("queue URLs and the region are required, with the variable named", () => {
    assert.throws(
      () => loadCaptureQueueConfig({}),
      (err: Error) => err instanceof ConfigError && /QUEUE_URL/.test(err.message),
    );
    assert.throws(() => loadPollQueueConfig({ QUEUE_URL: "q" }), /POLL_QUEUE_URL/);
    assert.throws(() => loadRegion({ AWS_REGION: " " }), /AWS_REGION/);
    assert.deepEqual(loadCaptureQueueConfig({ QUEUE_URL: " https://sqs/q " }), { queueUrl: "https://sqs/q" });
    // The scheduled queue's URL is not the interactive one's: the API must be given its own.
    assert.throws(() => loadInteractiveQueueConfig({ QUEUE_URL: "q" }), /INTERACTIVE_QUEUE_URL/);
    assert.deepEqual(loadInteractiveQueueConfig({ INTERACTIVE_QUEUE_URL: " https://sqs/i " }), {
      interactiveQueueUrl: "https://sqs/i",
    });
  });

  test("the command line's API address and key: the local runner's by default, an http(s) URL or refused", () => {
    assert.deepEqual(loadCliConfig({}), { apiUrl: "http://127.0.0.1:3000", apiKey: undefined });
    assert.deepEqual(
      loadCliConfig({ PALIMPSEST_API: " https://archive.example.org/api/ ", PALIMPSEST_API_KEY: " k3y " }),
      { apiUrl: "https://archive.example.org/api", apiKey: "k3y" },
    );
    assert.deepEqual(loadCliConfig({ PALIMPSEST_API: "", PALIMPSEST_API_KEY: "" }), {
      apiUrl: "http://127.0.0.1:3000",
      apiKey: undefined,
    });
    assert.throws(
      () => loadCliConfig({ PALIMPSEST_API: "ftp://127.0.0.1" }),
      (err: Error) =>
        err instanceof ConfigError && /^PALIMPSEST_API must be an http\(s\) URL/.test(err.message),
    );
    assert.throws(
      () => loadCliConfig({ PALIMPSEST_API: "archive" }),
      /PALIMPSEST_API is not a URL: "archive"/,
    );
  });

  test("the cadence is parsed once: default when unset, refused when malformed", () => {
    assert.equal(loadCadence({}), DEFAULT_CADENCE);
    assert.throws(() => loadCadence({ RECAPTURE_CADENCE: "soon" }), /RECAPTURE_CADENCE/);
  });

  test("npm start's port, folder, workers and replay port, checked", () => {
    assert.deepEqual(loadLocalConfig({}), {
      port: 3000,
      dataDir: "./.palimpsest",
      workerConcurrency: 1,
      replayPort: 3001,
    });
    assert.deepEqual(loadLocalConfig({ PORT: "0", DATA_DIR: "/srv/archive", WORKER_CONCURRENCY: "0" }), {
      port: 0,
      dataDir: "/srv/archive",
      workerConcurrency: 0,
      // Any free port where the API's is any free port: the runner prints the one it got.
      replayPort: 0,
    });
    assert.equal(loadLocalConfig({ PORT: "8080", REPLAY_PORT: "9090" }).replayPort, 9090);
    assert.equal(loadLocalConfig({ PORT: "65535" }).replayPort, 0);
    assert.throws(() => loadLocalConfig({ PORT: "http" }), /PORT/);
    assert.throws(() => loadLocalConfig({ WORKER_CONCURRENCY: "-1" }), /WORKER_CONCURRENCY/);
    assert.throws(() => loadLocalConfig({ REPLAY_PORT: "70000" }), /REPLAY_PORT/);
  });

  test("the replay origin is an http(s) origin, never a path or a query", () => {
    assert.equal(loadApiConfig({}).publicReplayUrl, undefined);
    assert.equal(
      loadApiConfig({ PUBLIC_REPLAY_URL: "https://replay.example.org/" }).publicReplayUrl,
      "https://replay.example.org",
    );
    for (const bad of [
      "replay.example.org",
      "https://replay.example.org/replay",
      "https://r.example?x=1",
      "ftp://r.example",
    ])
      assert.throws(() => loadApiConfig({ PUBLIC_REPLAY_URL: bad }), /PUBLIC_REPLAY_URL/, bad);
  });
});

describe("sweep back-pressure against the queue's redelivery", () => {
  test("an age the queue's ordinary retries reach is refused; the default is above the local queue's", () => {
    // npm start's file queue: 3-minute visibility, 3 deliveries: 15 + 2 × 3 = 21 minutes.
    const local = { maxReceiveCount: 3, visibilityTimeoutMs: 180_000 };
    assert.equal(loadSweepBackPressureConfig({}, local).maxQueueAgeSeconds, 3600);
    assert.throws(
      () => loadSweepBackPressureConfig({ MAX_QUEUE_AGE_SECONDS: "1260" }, local),
      (err: unknown) => err instanceof ConfigError && /must be above 1260/.test(err.message),
    );
    assert.equal(
      loadSweepBackPressureConfig({ MAX_QUEUE_AGE_SECONDS: "1261" }, local).maxQueueAgeSeconds,
      1261,
    );
    // Without the queue's settings (tests of the parser alone) only the range applies.
    assert.equal(loadSweepBackPressureConfig({ MAX_QUEUE_AGE_SECONDS: "600" }).maxQueueAgeSeconds, 600);
  });
});
