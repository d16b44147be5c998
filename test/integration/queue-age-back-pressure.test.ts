/**
 * Back-pressure on the age of the capture queue's oldest message: read from moto_server's
 * CloudWatch as the sweeper Lambda reads it (depth the fallback while no datapoint exists), and
 * from the file queue under `npm start`, where the composed sweeper holds its recaptures while a
 * message has waited too long.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import type { Context } from "aws-lambda";
import { composeSweeper } from "../../functions/compose/sweeper.ts";
import { FileQueue } from "../../local/file-queue.ts";
import { fileCaptureQueue, fileQueueAge } from "../../local/queue-ports.ts";
import { createCloudWatchQueueAge } from "../../shared/adapters/cloudwatch-queue-age.ts";
import { loadSweepBackPressureConfig } from "../../shared/config.ts";
import { readBackPressure } from "../../shared/domain/back-pressure.ts";
import { urlIdFor } from "../../shared/domain/ids.ts";
import { createLogger } from "../../shared/logger.ts";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";
import { type MotoServer, motoServerUnavailable, startMotoServer } from "../support/local-account.ts";

const silent = createLogger({}, "silent");
const QUEUE_URL = "http://127.0.0.1:1/123456789012/palimpsest-captures";

describe("the queue's age from CloudWatch", { skip: motoServerUnavailable() }, () => {
  let moto: MotoServer;
  let client: CloudWatchClient;
  before(async () => {
    moto = await startMotoServer();
    client = new CloudWatchClient({
      endpoint: moto.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
  });
  after(async () => {
    client?.destroy();
    await moto?.close();
  });

  it("falls back to depth with no datapoint, and holds on the age once SQS's metric says the oldest waited too long", async () => {
    const queue = { depth: async () => 3 };
    const limits = { maxAgeSeconds: 1800, maxDepth: 2 };
    let clock = Date.now();
    const age = createCloudWatchQueueAge({ client, queueUrl: QUEUE_URL, now: () => clock });

    // No datapoint yet: depth decides (3 ≥ 2).
    assert.deepEqual(await readBackPressure({ ...limits, age, queue }), {
      hold: true,
      basis: "depth",
      value: 3,
    });

    // Another queue's datapoint is not this one's; this queue's oldest message at 2,400 s is.
    for (const [name, value] of [
      ["other-queue", 99_999],
      ["palimpsest-captures", 2400],
    ] as const) {
      await client.send(
        new PutMetricDataCommand({
          Namespace: "AWS/SQS",
          MetricData: [
            {
              MetricName: "ApproximateAgeOfOldestMessage",
              Dimensions: [{ Name: "QueueName", Value: name }],
              Timestamp: new Date(clock - 60_000),
              Value: value,
              Unit: "Seconds",
            },
          ],
        }),
      );
    }
    // The first reading is cached for a minute; a minute later the datapoint is read.
    assert.equal((await readBackPressure({ ...limits, age, queue })).basis, "depth");
    clock += 61_000;
    assert.deepEqual(await readBackPressure({ ...limits, age, queue }), {
      hold: true,
      basis: "age",
      value: 2400,
    });
    // On the age, depth no longer matters: a young queue is not held however deep.
    assert.deepEqual(await readBackPressure({ maxAgeSeconds: 3600, maxDepth: 1, age, queue }), {
      hold: false,
      basis: "age",
      value: 2400,
    });
  });

  it("an unreachable CloudWatch is an unknown age, reported, and depth decides", async () => {
    const errors: unknown[] = [];
    const unreachable = new CloudWatchClient({
      endpoint: "http://127.0.0.1:9",
      region: "us-east-1",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      maxAttempts: 1,
    });
    const age = createCloudWatchQueueAge({
      client: unreachable,
      queueUrl: QUEUE_URL,
      onError: (err) => errors.push(err),
    });
    const pressure = await readBackPressure({
      maxAgeSeconds: 60,
      maxDepth: 10,
      age,
      queue: { depth: async () => 4 },
    });
    assert.deepEqual(pressure, { hold: false, basis: "depth", value: 4 });
    assert.equal(errors.length, 1);
    unreachable.destroy();
  });
});

describe("the local runner's sweeper on the file queue's age", () => {
  let storage: EmbeddedStorage;
  let dir: string;
  before(async () => {
    storage = await startEmbeddedStorage();
    dir = await mkdtemp(join(tmpdir(), "palimpsest-age-"));
  });
  after(async () => {
    await storage?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("holds recaptures while the oldest message has waited MAX_QUEUE_AGE_SECONDS, and sweeps once it has gone", async () => {
    let clock = Date.now();
    const queue = await FileQueue.open({
      directory: dir,
      visibilityTimeoutMs: 60_000,
      maxReceiveCount: 3,
      now: () => clock,
    });
    const url = "https://news.example/held";
    const urlId = urlIdFor(url);
    const createdAt = new Date(clock).toISOString();
    await storage.repository.ensureUrl({
      urlId,
      url,
      captureCount: 1,
      versionCount: 1,
      recapture: "adaptive",
      createdAt,
    });
    await storage.repository.setNextCapture(urlId, createdAt);
    const sweeper = composeSweeper({
      archive: storage,
      queue: fileCaptureQueue(queue),
      pollQueue: { enqueue: async () => {} },
      backPressure: {
        ...loadSweepBackPressureConfig({ MAX_QUEUE_AGE_SECONDS: "600" }),
        age: fileQueueAge(queue),
      },
      logger: silent,
    });
    const context = { awsRequestId: "t", getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

    // A message sent 11 minutes ago, never taken: the queue is backed up.
    const stuck = await queue.send(JSON.stringify({ captureId: "cap_stuck" }));
    clock += 11 * 60_000;
    assert.equal(queue.oldestAgeMs(), 11 * 60_000);
    const held = await sweeper({ time: new Date(clock).toISOString() }, context);
    assert.equal(held.held, "age");
    assert.equal(held.enqueued, 0);
    assert.equal(queue.size, 1, "nothing was added to the backlog");

    // The backlog drained: the same URL is swept.
    await queue.delete(stuck);
    const swept = await sweeper({ time: new Date(clock).toISOString() }, context);
    assert.equal(swept.held, undefined);
    assert.equal(swept.enqueued, 1);
  });
});
