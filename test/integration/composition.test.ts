/**
 * The composition root as `npm start` runs it: one capture through the local runner writes the
 * business metrics as EMF lines on stdout, and the worker's log lines carry the correlation id of
 * the API request that asked for the capture. And the Lambda entries wire at import, so bad config
 * fails the cold start.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type LocalRunner, startLocalRunner } from "../../local/runner.ts";
import { captureUntilDone } from "../support/capture-client.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";

const ARTICLE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Ferry timetable changes</title></head>
<body><article><h1>Ferry timetable changes</h1><p class="byline">By Maria Costa</p>
<p>The island ferry will leave half an hour earlier on weekdays from next month, the operator said on Tuesday.</p>
<p>Weekend sailings stay as they are, and the last boat back will still leave the harbour at eleven in the evening.</p>
<p>Passengers with season tickets will be told of the change by letter before it takes effect.</p>
</article></body></html>`;

let site: FixtureSite;
let runner: LocalRunner;
let dataDir: string;

/** Every JSON line written to stdout or stderr while `work` runs; output still reaches the terminal. */
async function jsonLinesOf(work: () => Promise<void>): Promise<Array<Record<string, unknown>>> {
  const chunks: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: unknown, ...rest: never[]) => {
    chunks.push(String(chunk));
    return out(chunk as string, ...rest);
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: unknown, ...rest: never[]) => {
    chunks.push(String(chunk));
    return err(chunk as string, ...rest);
  }) as typeof process.stderr.write;
  try {
    await work();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  return chunks
    .join("")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

before(async () => {
  site = await startFixtureSite();
  site.setPage("/ferry", ARTICLE);
  dataDir = await mkdtemp(join(tmpdir(), "palimpsest-compose-"));
  // No logger or metrics passed: the runner composes its own, at LOG_LEVEL, as `npm start` does.
  runner = await startLocalRunner({
    dataDir,
    port: 0,
    sweepIntervalMs: 0,
    env: {
      ALLOW_PRIVATE_HOSTS: new URL(site.origin).host,
      CAPTURE_NAVIGATION_TIMEOUT_MS: "5000",
      CAPTURE_IDLE_TIMEOUT_MS: "1000",
      LOG_LEVEL: "info",
    },
  });
});

after(async () => {
  await runner?.close();
  await site?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe("composition root under the local runner", () => {
  it("logs embedded metrics for a capture, and the worker's lines carry the API request's correlation id", async () => {
    let captureId = "";
    const lines = await jsonLinesOf(async () => {
      const capture = await captureUntilDone(runner.url, site.url("/ferry"));
      captureId = String(capture.captureId);
      await runner.drain(30_000);
    });

    const emf = lines.filter((line) => line._aws !== undefined);
    const captures = emf.find((line) => line.Captures === 1);
    assert.ok(captures, `an EMF line counts the capture: ${JSON.stringify(emf)}`);
    assert.equal(captures.outcome, "succeeded");
    assert.equal(
      (captures._aws as { CloudWatchMetrics: Array<{ Namespace: string }> }).CloudWatchMetrics[0]?.Namespace,
      "Palimpsest",
    );
    assert.ok(emf.some((line) => typeof line.CaptureDuration === "number" && line.CaptureDuration > 0));
    assert.ok(emf.some((line) => typeof line.QueueWait === "number"));

    const handled = lines.find(
      (line) => line.message === "capture message handled" && line.captureId === captureId,
    );
    assert.ok(handled, "the worker logged the capture");
    assert.equal(handled.function_name, "palimpsest-capture");
    assert.equal(typeof handled.urlId, "string");
    assert.equal(typeof handled.cold_start, "boolean");
    // The correlation id is the API request's id (the local API Gateway event's requestId).
    assert.match(String(handled.correlation_id), /^[0-9a-f-]{36}$/);
  });
});

describe("Lambda entries wire at import", () => {
  const entry = (name: string) => new URL(`../../functions/${name}/handler.ts`, import.meta.url).pathname;
  const importWith = (name: string, env: Record<string, string>) =>
    spawnSync(
      process.execPath,
      ["--input-type=module", "-e", `await import(${JSON.stringify(entry(name))})`],
      {
        env: { PATH: process.env.PATH ?? "", ...env },
        encoding: "utf8",
      },
    );
  const resources = {
    TABLE_NAME: "palimpsest-test",
    BUCKET_NAME: "palimpsest-test",
    QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/captures",
    INTERACTIVE_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/interactive-captures",
    POLL_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/polls",
    AWS_REGION: "us-east-1",
  };

  it("a missing resource name fails the cold start, naming the variable", () => {
    // The capture entry fails before it unpacks Chromium: config is parsed first.
    for (const name of ["api", "capture", "sweeper", "poll", "dead-letter"]) {
      const { TABLE_NAME: _, ...withoutTable } = resources;
      const result = importWith(name, withoutTable);
      assert.notEqual(result.status, 0, `${name} started without TABLE_NAME`);
      assert.match(result.stderr, /TABLE_NAME must be set/, name);
    }
  });

  it("a bad value fails the cold start, before any request", () => {
    const api = importWith("api", { ...resources, PRESIGNED_URL_TTL_SECONDS: "forever" });
    assert.match(api.stderr, /PRESIGNED_URL_TTL_SECONDS/);
    // Parsed at init now, not when the first capture is scheduled with it.
    const cadence = importWith("api", { ...resources, RECAPTURE_CADENCE: "soon" });
    assert.notEqual(cadence.status, 0);
    assert.match(cadence.stderr, /RECAPTURE_CADENCE/);
    const capture = importWith("capture", { ...resources, CAPTURE_NAVIGATION_TIMEOUT_MS: "forever" });
    assert.notEqual(capture.status, 0);
    assert.match(capture.stderr, /CAPTURE_NAVIGATION_TIMEOUT_MS/);
    const good = importWith("sweeper", resources);
    assert.equal(good.status, 0, good.stderr);
    // A local Chromium (never launched here) so init does not unpack the bundled one.
    const goodCapture = importWith("capture", { ...resources, CHROMIUM_PATH: "/nonexistent/chromium" });
    assert.equal(goodCapture.status, 0, goodCapture.stderr);
  });
});
