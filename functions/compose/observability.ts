/** The logger and the metrics a Lambda function gets, from LOG_LEVEL and the metrics namespace. */
import type { ObservabilityConfig } from "../../shared/config.ts";
import { createLogger, type Logger } from "../../shared/logger.ts";
import { type ArchiveMetrics, createEmfMetrics } from "../../shared/metrics.ts";

export interface Observability {
  logger: Logger;
  metrics: ArchiveMetrics;
}

/** One logger and one metrics writer per function (and per local runner). */
export function openObservability(config: ObservabilityConfig, service = "palimpsest"): Observability {
  return {
    logger: createLogger({ service }, config.logLevel),
    metrics: createEmfMetrics({ namespace: config.metricsNamespace }),
  };
}
