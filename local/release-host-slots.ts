/**
 * Frees the host slots a previous local process left leased. Local only: it scans the table, which
 * no AWS function may do (the stack grants no dynamodb:Scan).
 */
import { type DynamoDBDocumentClient, ScanCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";

function isConditionFailure(err: unknown): boolean {
  return (err as { name?: string })?.name === "ConditionalCheckFailedException";
}

/**
 * Frees every leased host slot. Only for a single process that owns the table and has just
 * started (the local runner, holding its DATA_DIR lock): any lease then belongs to a capture that
 * died with the previous process. Returns how many slots were freed.
 */
export async function releaseAllHostSlots(
  client: DynamoDBDocumentClient,
  tableName: string,
): Promise<number> {
  let freed = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: "begins_with(PK, :host) AND begins_with(SK, :slot) AND attribute_exists(holder)",
        ExpressionAttributeValues: { ":host": "HOST#", ":slot": "SLOT#" },
        ProjectionExpression: "PK, SK, holder",
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { PK: item.PK, SK: item.SK },
            UpdateExpression: "REMOVE leaseUntil, holder",
            ConditionExpression: "holder = :holder",
            ExpressionAttributeValues: { ":holder": item.holder },
          }),
        );
        freed++;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return freed;
}
