/**
 * The names of Palimpsest's own metrics and their dimensions: the functions write them
 * (shared/metrics.ts) and the dashboard graphs them (infra/constructs/operations-dashboard.ts).
 * Kept apart from the writer so the CDK app imports names, not Powertools.
 */
export { METRICS_NAMESPACE } from "./env-names.ts";

/** Metric names, shared with the dashboard so a rename cannot leave a graph empty. */
export const METRIC = {
  /** One per capture message handled; dimension `outcome`. */
  captures: "Captures",
  /** One per failed or retried capture; dimension `code` (the failure's stable snake_case code). */
  captureFailures: "CaptureFailures",
  /** One per flagged edit; dimensions `significance` and `stealth`. */
  edits: "Edits",
  /** A finished capture's own time, start to end of the browser capture and its storage. */
  captureDuration: "CaptureDuration",
  /** Time a capture message waited in the queue before a worker took it. */
  queueWait: "QueueWait",
  /** One per version kept without its evidence package; dimension `code` (signing_failed, packaging_failed, storage_error). */
  evidenceMissing: "EvidenceMissing",
  /** Captures one sweep enqueued. */
  sweepEnqueued: "SweepEnqueued",
  /** Poll jobs one sweep enqueued. */
  sweepPolls: "SweepPolls",
  /** 1 for a sweep back-pressure held from claiming new recaptures, 0 for one it did not. */
  sweepHeld: "SweepHeld",
} as const;

/** The service dimension every Palimpsest metric carries (the dashboard searches on it). */
export const METRICS_SERVICE = "palimpsest";

/** The dimensions each metric carries besides `service` (in the dashboard's SEARCH schemas). */
export const METRIC_DIMENSIONS = {
  captures: ["outcome"],
  captureFailures: ["code"],
  edits: ["significance", "stealth"],
  evidenceMissing: ["code"],
} as const;
