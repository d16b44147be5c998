/**
 * Per-host politeness on the table: the shaper that gives each capture its start slot before its
 * message is sent (the API, the poll worker's submits and the sweeper), and the gate that spaces
 * polls of one host.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createDynamoHostGate } from "../../shared/adapters/dynamo-host-gate.ts";
import { createDynamoHostSlots } from "../../shared/adapters/dynamo-host-slots.ts";
import type { HostShapingConfig, PollConfig } from "../../shared/config.ts";
import { type HostShaper, hostLimitsFrom } from "../../shared/domain/host-shaping.ts";
import type { HostGate } from "../../shared/ports.ts";

/** The capture shaper on the table's host slots, with HOST_LIMITS over the default gap. */
export function composeHostShaper(
  archive: { documents: DynamoDBDocumentClient; tableName: string },
  config: HostShapingConfig,
): HostShaper {
  return {
    slots: createDynamoHostSlots({ client: archive.documents, tableName: archive.tableName }),
    limits: hostLimitsFrom(config),
  };
}

/** The gate a poll holds its host's slot through (captures have none: they are shaped). */
export function composeHostGate(
  archive: { documents: DynamoDBDocumentClient; tableName: string },
  config: Pick<PollConfig, "hostMaxConcurrency" | "hostMinGapMs">,
  leaseMs: number,
): HostGate {
  return createDynamoHostGate({
    client: archive.documents,
    tableName: archive.tableName,
    maxConcurrent: config.hostMaxConcurrency,
    minGapMs: config.hostMinGapMs,
    leaseMs,
  });
}
