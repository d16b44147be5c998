/**
 * The dead-letter consumer, composed once for its Lambda entry (from the environment) and the
 * local runner.
 */
import { loadObservabilityConfig, loadTableConfig } from "../../shared/config.ts";
import type { Logger } from "../../shared/logger.ts";
import { createDeadLetterHandler } from "../dead-letter/dead-letter-batch.ts";
import { type Archive, openArchive } from "./archive.ts";
import { openObservability } from "./observability.ts";

type Env = Record<string, string | undefined>;

/** The dead-letter consumer: each capture SQS gave up on is recorded as failed. */
export function composeDeadLetter(parts: { archive: Pick<Archive, "repository">; logger: Logger }) {
  return createDeadLetterHandler({ repository: parts.archive.repository, logger: parts.logger });
}

/** The dead-letter Lambda from its environment: the table only. */
export function deadLetterFromEnvironment(env: Env = process.env) {
  return composeDeadLetter({
    archive: openArchive(loadTableConfig(env)),
    logger: openObservability(loadObservabilityConfig(env)).logger,
  });
}
