/**
 * The logger and the metrics writer: Powertools' JSON log lines and embedded-metric-format lines,
 * as CloudWatch reads them. Both write to stdout, which each test captures.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { openMetrics, openObservability } from "../../functions/compose/observability.ts";
import { loadObservabilityConfig } from "../../shared/config.ts";
import type { CaptureRecord } from "../../shared/domain/model.ts";
import { CaptureError } from "../../shared/errors.ts";
import { createLogger, invocationLogger } from "../../shared/logger.ts";
import { METRICS_NAMESPACE } from "../../shared/metric-names.ts";
import { createEmfMetrics } from "../../shared/metrics.ts";

/** The JSON lines `work` writes to stdout and stderr. */
function linesOf(work: () => void): Array<Record<string, unknown>> {
  const written: string[] = [];
  const out = process.stdout.write;
  const err = process.stderr.write;
  const capture = (chunk: unknown) => {
    written.push(String(chunk));
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  try {
    work();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  return written
    .join("")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const capture = (extra: Partial<CaptureRecord>): CaptureRecord => ({
  captureId: "cap_1",
  urlId: "url_1",
  url: "https://news.example/a",
  status: "succeeded",
  requestedAt: "2026-12-01T10:00:00.000Z",
  startedAt: "2026-12-01T10:00:01.000Z",
  finishedAt: "2026-12-01T10:00:03.500Z",
  attempts: 1,
  ...extra,
});

describe("logger", () => {
  test("writes Powertools JSON lines with the service, the fields and the error's code and cause", () => {
    const [line] = linesOf(() =>
      createLogger({ service: "palimpsest-test", fn: "capture" }).error("capture failed", {
        captureId: "cap_1",
        err: new CaptureError("timeout", "too slow", { cause: new Error("socket") }),
      }),
    );
    assert.equal(line?.level, "ERROR");
    assert.equal(line?.message, "capture failed");
    assert.equal(line?.service, "palimpsest-test");
    assert.equal(line?.fn, "capture");
    assert.equal(line?.captureId, "cap_1");
    const err = line?.err as { code: string; cause: { message: string } };
    assert.equal(err.code, "timeout");
    assert.equal(err.cause.message, "socket");
    assert.ok(typeof line?.timestamp === "string");
  });

  test("silent writes nothing; children keep their parent's keys", () => {
    assert.deepEqual(
      linesOf(() => createLogger({}, "silent").error("hidden")),
      [],
    );
    const [line] = linesOf(() => createLogger({ fn: "api" }).child({ captureId: "cap_2" }).info("hello"));
    assert.equal(line?.fn, "api");
    assert.equal(line?.captureId, "cap_2");
  });

  test("marks the first invocation of the process as the cold start, and carries the correlation id", () => {
    const base = createLogger({ service: "palimpsest" });
    const context = { functionName: "palimpsest-capture", awsRequestId: "req-1" };
    const lines = linesOf(() => {
      invocationLogger(base, context, "api-req-9").info("first");
      invocationLogger(base, { ...context, awsRequestId: "req-2" }).info("second");
    });
    assert.equal(lines[0]?.cold_start, true);
    assert.equal(lines[0]?.correlation_id, "api-req-9");
    assert.equal(lines[0]?.function_request_id, "req-1");
    assert.equal(lines[1]?.cold_start, false);
    assert.equal(lines[1]?.correlation_id, undefined);
  });

  test("LOG_LEVEL is checked at cold start", () => {
    assert.equal(loadObservabilityConfig({ LOG_LEVEL: "DEBUG" }).logLevel, "debug");
    assert.throws(() => loadObservabilityConfig({ LOG_LEVEL: "verbose" }), /LOG_LEVEL/);
  });
});

describe("metrics (embedded metric format)", () => {
  /** The metric values of each EMF line, with its dimensions and namespace. */
  const emf = (lines: Array<Record<string, unknown>>) =>
    lines.map((line) => {
      const meta = (line._aws as { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> })
        .CloudWatchMetrics[0];
      return { namespace: meta?.Namespace, dimensions: meta?.Dimensions[0], line };
    });

  test("a capture that made a stealth edit: outcome, edit, duration and queue wait", () => {
    const metrics = createEmfMetrics({ namespace: METRICS_NAMESPACE });
    const written = emf(
      linesOf(() =>
        metrics.captureHandled(
          {
            kind: "succeeded",
            capture: capture({
              changed: true,
              edit: {
                significance: "major",
                kinds: [],
                stealth: true,
                stats: {} as never,
              },
              timings: { total: 2400 },
            }),
          },
          1800,
        ),
      ),
    );
    assert.ok(written.every((w) => w.namespace === "Palimpsest"));
    const byName = new Map(written.map((w) => [Object.keys(w.line).find((k) => /^[A-Z]/.test(k)), w]));
    assert.equal(byName.get("Captures")?.line.outcome, "succeeded");
    assert.deepEqual(byName.get("Captures")?.dimensions, ["service", "outcome"]);
    assert.equal(byName.get("Edits")?.line.significance, "major");
    assert.equal(byName.get("Edits")?.line.stealth, "true");
    assert.equal(byName.get("CaptureDuration")?.line.CaptureDuration, 2400);
    assert.equal(byName.get("QueueWait")?.line.QueueWait, 1800);
    assert.equal(byName.has("CaptureFailures"), false);
  });

  test("failed and retried captures count by failure code", () => {
    const metrics = createEmfMetrics({ namespace: METRICS_NAMESPACE });
    const written = emf(
      linesOf(() => {
        metrics.captureHandled(
          {
            kind: "failed",
            capture: capture({ status: "failed", error: { code: "http_error", message: "404" } }),
          },
          undefined,
        );
        metrics.captureHandled({ kind: "retry", error: new CaptureError("timeout", "slow") }, 5);
      }),
    );
    const failures = written.filter((w) => "CaptureFailures" in w.line).map((w) => w.line.code);
    assert.deepEqual(failures, ["http_error", "timeout"]);
    const outcomes = written.filter((w) => "Captures" in w.line).map((w) => w.line.outcome);
    assert.deepEqual(outcomes, ["failed", "retry"]);
  });

  test("a version kept without its evidence package is counted by reason", () => {
    const written = emf(
      linesOf(() => {
        const metrics = createEmfMetrics({ namespace: METRICS_NAMESPACE });
        metrics.captureHandled(
          {
            kind: "succeeded",
            capture: capture({
              evidence: { status: "missing", code: "signing_failed", message: "not signed" },
            }),
          },
          undefined,
        );
        metrics.captureHandled({ kind: "succeeded", capture: capture({}) }, undefined);
      }),
    );
    const missing = written.filter((w) => "EvidenceMissing" in w.line).map((w) => w.line.code);
    assert.deepEqual(missing, ["signing_failed"]);
  });

  test("a sweep reports what it enqueued, and whether back-pressure held it (0 or 1, every sweep)", () => {
    const written = emf(
      linesOf(() => {
        const metrics = createEmfMetrics({ namespace: METRICS_NAMESPACE });
        metrics.sweepFinished({ enqueued: 12, polls: 3, held: false });
        metrics.sweepFinished({ enqueued: 0, polls: 1, held: true });
      }),
    );
    assert.deepEqual(
      written.map((w) => [w.line.SweepEnqueued ?? w.line.SweepPolls ?? w.line.SweepHeld]),
      [[12], [3], [0], [0], [1], [1]],
    );
  });
});

describe("metrics follow the log, except on Lambda", () => {
  const sweepLines = (env: Record<string, string>, logLevel?: "silent" | "info") =>
    linesOf(() => {
      const config = loadObservabilityConfig(env);
      const metrics = logLevel ? openMetrics(config, logLevel) : openObservability(config).metrics;
      metrics.sweepFinished({ enqueued: 1, polls: 0, held: false });
    }).filter((line) => line._aws !== undefined).length;

  test("a silent log writes no embedded-metric-format lines; any other level does", () => {
    assert.equal(sweepLines({ LOG_LEVEL: "silent" }), 0);
    assert.equal(sweepLines({ LOG_LEVEL: "error" }), 3);
    assert.equal(sweepLines({}), 3);
  });

  test("on Lambda metrics are written whatever the log level: the alarms read them", () => {
    assert.equal(sweepLines({ LOG_LEVEL: "silent", AWS_LAMBDA_FUNCTION_NAME: "palimpsest-sweeper" }), 3);
  });

  test("METRICS=on/off decides over both, and anything else fails at start", () => {
    assert.equal(sweepLines({ LOG_LEVEL: "silent", METRICS: "on" }), 3);
    assert.equal(sweepLines({ AWS_LAMBDA_FUNCTION_NAME: "palimpsest-sweeper", METRICS: "off" }), 0);
    assert.throws(() => loadObservabilityConfig({ METRICS: "quiet" }), /METRICS must be "on" or "off"/);
  });

  test("the local runner's metrics follow the logger it was given (a test's silent one)", () => {
    assert.equal(createLogger({}, "silent").level, "silent");
    assert.equal(createLogger({}, "silent").child({ a: 1 }).level, "silent");
    assert.equal(sweepLines({ LOG_LEVEL: "info" }, "silent"), 0);
    assert.equal(sweepLines({ LOG_LEVEL: "silent" }, "info"), 3);
    assert.equal(sweepLines({ METRICS: "on" }, "silent"), 3);
  });
});
