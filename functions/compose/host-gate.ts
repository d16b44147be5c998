/** The per-host politeness gate on the table, shared by captures and polls. */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createDynamoHostGate } from "../../shared/adapters/dynamo-host-gate.ts";
import type { CaptureConfig } from "../../shared/config.ts";
import type { HostGate } from "../../shared/ports.ts";

/** How long a capture holds its host's slot at most (a capture never runs longer on Lambda). */
export const CAPTURE_HOST_LEASE_MS = 15 * 60_000;

export function composeHostGate(
  archive: { documents: DynamoDBDocumentClient; tableName: string },
  config: Pick<CaptureConfig, "hostMaxConcurrency" | "hostMinGapMs">,
  leaseMs = CAPTURE_HOST_LEASE_MS,
): HostGate {
  return createDynamoHostGate({
    client: archive.documents,
    tableName: archive.tableName,
    maxConcurrent: config.hostMaxConcurrency,
    minGapMs: config.hostMinGapMs,
    leaseMs,
  });
}
