/**
 * Per-host politeness in DynamoDB, so it holds across every concurrent Lambda:
 * - `HOST#<host>` / `SLOT#<i>`: one item per concurrent slot, leased to a capture until
 *   `leaseUntil` (a crashed worker's slot frees itself when the lease ends);
 * - `HOST#<host>` / `GAP`: the earliest time the next capture of the host may start.
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { HostGate } from "../ports.ts";

export interface HostGateOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  maxConcurrent: number;
  minGapMs: number;
  /** Longest a capture can hold a slot; past it the slot is free again. */
  leaseMs: number;
}

function isConditionFailure(err: unknown): boolean {
  return (err as { name?: string })?.name === "ConditionalCheckFailedException";
}

export function createDynamoHostGate(options: HostGateOptions): HostGate {
  const { client, tableName: TableName } = options;
  const slotKey = (host: string, slot: number) => ({ PK: `HOST#${host}`, SK: `SLOT#${slot}` });
  const gapKey = (host: string) => ({ PK: `HOST#${host}`, SK: "GAP" });

  async function takeSlot(host: string, captureId: string, now: Date): Promise<number | null> {
    const leaseUntil = new Date(now.getTime() + options.leaseMs).toISOString();
    for (let slot = 0; slot < options.maxConcurrent; slot++) {
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: slotKey(host, slot),
            UpdateExpression: "SET leaseUntil = :lease, holder = :holder",
            // A redelivered capture may take back its own slot.
            ConditionExpression: "attribute_not_exists(leaseUntil) OR leaseUntil < :now OR holder = :holder",
            ExpressionAttributeValues: {
              ":lease": leaseUntil,
              ":holder": captureId,
              ":now": now.toISOString(),
            },
          }),
        );
        return slot;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    }
    return null;
  }

  async function takeGap(host: string, now: Date): Promise<number> {
    if (options.minGapMs <= 0) return 0;
    try {
      await client.send(
        new UpdateCommand({
          TableName,
          Key: gapKey(host),
          UpdateExpression: "SET nextStartAt = :next",
          ConditionExpression: "attribute_not_exists(nextStartAt) OR nextStartAt <= :now",
          ExpressionAttributeValues: {
            ":next": new Date(now.getTime() + options.minGapMs).toISOString(),
            ":now": now.toISOString(),
          },
        }),
      );
      return 0;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    const out = await client.send(new GetCommand({ TableName, Key: gapKey(host), ConsistentRead: true }));
    const next = Date.parse(String(out.Item?.nextStartAt ?? ""));
    return Number.isNaN(next) ? options.minGapMs : Math.max(1, next - now.getTime());
  }

  const gate: HostGate = {
    async acquire(host, captureId, now) {
      const slot = await takeSlot(host, captureId, now);
      if (slot === null) return { granted: false, retryAfterMs: Math.max(options.minGapMs, 5_000) };
      const wait = await takeGap(host, now);
      if (wait > 0) {
        await gate.release(host, slot, captureId);
        return { granted: false, retryAfterMs: wait };
      }
      return { granted: true, slot };
    },

    async release(host, slot, captureId) {
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: slotKey(host, slot),
            UpdateExpression: "REMOVE leaseUntil, holder",
            ConditionExpression: "holder = :holder",
            ExpressionAttributeValues: { ":holder": captureId },
          }),
        );
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    },
  };
  return gate;
}
