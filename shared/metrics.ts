/**
 * The archive's business metrics, written by Powertools for AWS Lambda's Metrics as CloudWatch
 * embedded-metric-format (EMF) lines on stdout: on Lambda, CloudWatch turns them into metrics with
 * no API call; under `npm start` they are log lines like any other. The dashboard
 * (infra/constructs/operations-dashboard.ts) graphs exactly these names.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { ProcessOutcome } from "./domain/capture/types.ts";
import { METRIC, METRICS_SERVICE } from "./metric-names.ts";

export { METRIC, METRICS_SERVICE };

/** The outcome dimension's values: how the delivery ended (edits are counted on their own). */
export type CaptureOutcomeName = ProcessOutcome["kind"];

/** What the functions measure. The capture handler and the sweeper are its only callers. */
export interface ArchiveMetrics {
  /** One capture message handled, and how long it had waited in the queue (when known). */
  captureHandled(outcome: ProcessOutcome, queueWaitMs: number | undefined): void;
  /** One sweep's end; `held`: back-pressure kept it from claiming new recaptures. */
  sweepFinished(result: { enqueued: number; polls: number; held: boolean }): void;
}

/** The outcome dimension for one handled message. */
export function outcomeName(outcome: ProcessOutcome): CaptureOutcomeName {
  return outcome.kind;
}

/** How long the capture itself took: its recorded total, else start to finish. */
function captureDurationMs(outcome: ProcessOutcome): number | undefined {
  if (outcome.kind !== "succeeded" && outcome.kind !== "failed") return undefined;
  const { timings, startedAt, finishedAt } = outcome.capture;
  if (typeof timings?.total === "number") return timings.total;
  if (!startedAt || !finishedAt) return undefined;
  const ms = Date.parse(finishedAt) - Date.parse(startedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

function failureCode(outcome: ProcessOutcome): string | undefined {
  if (outcome.kind === "failed") return outcome.capture.error?.code ?? "unknown";
  if (outcome.kind === "retry") return outcome.error.code;
  return undefined;
}

/**
 * Metrics written as EMF lines in `namespace`. Each datum is its own line (`singleMetric`), because
 * each carries its own dimensions (outcome, code…) and a Lambda batch may hold several captures.
 */
export function createEmfMetrics(options: { namespace: string }): ArchiveMetrics {
  const metrics = new Metrics({ namespace: options.namespace, serviceName: METRICS_SERVICE });
  const emit = (
    name: string,
    unit: (typeof MetricUnit)[keyof typeof MetricUnit],
    value: number,
    dimensions: Record<string, string> = {},
  ) => {
    const single = metrics.singleMetric();
    for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
    single.addMetric(name, unit, value);
  };
  return {
    captureHandled(outcome, queueWaitMs) {
      emit(METRIC.captures, MetricUnit.Count, 1, { outcome: outcomeName(outcome) });
      const code = failureCode(outcome);
      if (code) emit(METRIC.captureFailures, MetricUnit.Count, 1, { code });
      const edit = outcome.kind === "succeeded" ? outcome.capture.edit : undefined;
      if (edit) {
        emit(METRIC.edits, MetricUnit.Count, 1, {
          significance: edit.significance,
          stealth: String(edit.stealth),
        });
      }
      const missing = outcome.kind === "succeeded" ? outcome.capture.evidence : undefined;
      if (missing) emit(METRIC.evidenceMissing, MetricUnit.Count, 1, { code: missing.code });
      const duration = captureDurationMs(outcome);
      if (duration !== undefined) emit(METRIC.captureDuration, MetricUnit.Milliseconds, duration);
      if (queueWaitMs !== undefined) emit(METRIC.queueWait, MetricUnit.Milliseconds, queueWaitMs);
    },
    sweepFinished(result) {
      emit(METRIC.sweepEnqueued, MetricUnit.Count, result.enqueued);
      emit(METRIC.sweepPolls, MetricUnit.Count, result.polls);
      // 0 or 1 every sweep, so a period's minimum of 1 means every sweep in it was held.
      emit(METRIC.sweepHeld, MetricUnit.Count, result.held ? 1 : 0);
    },
  };
}

/** No metrics at all: benches and tests that measure other things. */
export const noMetrics: ArchiveMetrics = {
  captureHandled: () => undefined,
  sweepFinished: () => undefined,
};
