/** The logger and the metrics a Lambda function gets, from LOG_LEVEL, METRICS and the metrics namespace. */
import type { LogLevel, ObservabilityConfig } from "../../shared/config.ts";
import { createLogger, type Logger } from "../../shared/logger.ts";
import { type ArchiveMetrics, createEmfMetrics, noMetrics } from "../../shared/metrics.ts";

export interface Observability {
  logger: Logger;
  metrics: ArchiveMetrics;
}

/**
 * Whether metrics are written: as METRICS says when set; otherwise always on Lambda, where the
 * alarms and the dashboard read them whatever the log level, and elsewhere (`npm start`, tests)
 * as the log, so a silent test prints no embedded-metric-format lines either.
 */
export function metricsEnabled(config: ObservabilityConfig, logLevel: LogLevel = config.logLevel): boolean {
  return config.metrics ?? (config.onLambda || logLevel !== "silent");
}

/** The metrics writer `config` asks for: EMF lines in its namespace, or none. */
export function openMetrics(
  config: ObservabilityConfig,
  logLevel: LogLevel = config.logLevel,
): ArchiveMetrics {
  return metricsEnabled(config, logLevel)
    ? createEmfMetrics({ namespace: config.metricsNamespace })
    : noMetrics;
}

/** One logger and one metrics writer per function (and per local runner). */
export function openObservability(config: ObservabilityConfig, service = "palimpsest"): Observability {
  return {
    logger: createLogger({ service }, config.logLevel),
    metrics: openMetrics(config),
  };
}
