/**
 * The due index (GSI1) as the URL side of the archive uses it: when each URL is next due, and the
 * capture it waits for. A URL is in one of two states, each under its own partition keys:
 * - on its schedule: `nextCaptureAt`, due key `DUE#<shard>` / `<nextCaptureAt>#<urlId>`, no
 *   pending capture;
 * - with a pending capture (`pendingCaptureId`): `nextCaptureAt` says when that capture starts,
 *   and the due key `PENDING#<shard>` / `<dueAt>#<urlId>` is either its parked slot (`parked`: its
 *   message is not sent yet; the sweep that finds it due sends it) or a lease after which a sweep
 *   checks on it (its message may have expired). The capture's end (`releasePending`,
 *   `recordCaptureOnUrl`) puts the URL back on its schedule. A sweep claims only URLs without a
 *   pending capture, so a capture that waits long in the queue is never enqueued twice.
 *
 * Pending captures have partitions of their own so a sweep reaches them without reading the
 * scheduled backlog: while back-pressure holds new claims, unclaimed due URLs pile up under
 * `DUE#`, and parked slots (due in the look-ahead, so after every overdue URL in key order) would
 * otherwise lie behind all of them. Entries written before this split keep `DUE#` until a sweep
 * extends or replaces their capture (see `listDue`).
 */
import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { InvalidRequestError } from "../errors.ts";
import type { ArchiveRepository, DueClaim, DueUrl, Page } from "../ports.ts";
import { INDEX_SHARDS } from "./table-schema.ts";

const urlKey = (urlId: string) => ({ PK: `URL#${urlId}`, SK: "URL" });

/** True for a write whose condition did not hold. */
export function isConditionFailure(err: unknown): boolean {
  return (err as { name?: string })?.name === "ConditionalCheckFailedException";
}

/** An opaque cursor from a query's LastEvaluatedKey. */
export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString("base64url") : undefined;
}

/** The key an opaque cursor stands for; a cursor this API never issued is the caller's error. */
export function decodeCursor(cursor: string | undefined): Record<string, unknown> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  // Cursors are opaque to callers; a malformed one is the caller's error.
  throw new InvalidRequestError("invalid_cursor", "The cursor is not one this API issued.");
}

/** The URL's shard in the due index: spreads the sweeper's reads over partitions. */
export function dueShard(urlId: string): number {
  let hash = 0;
  for (let i = 0; i < urlId.length; i++) hash = (hash * 31 + urlId.charCodeAt(i)) >>> 0;
  return hash % INDEX_SHARDS;
}

/** The due-index partition of a URL on its schedule, or of one with a pending capture. */
export function duePartition(urlId: string, pending: boolean): string {
  return `${pending ? "PENDING" : "DUE"}#${dueShard(urlId)}`;
}

/** The clauses of one UpdateExpression, joined by `updateExpression`. */
export interface UpdateClauses {
  set: string[];
  add: string[];
  remove: string[];
  values: Record<string, unknown>;
}

export const noClauses = (): UpdateClauses => ({ set: [], add: [], remove: [], values: {} });

export function updateExpression(clauses: UpdateClauses): string {
  return [
    clauses.set.length > 0 ? `SET ${clauses.set.join(", ")}` : "",
    clauses.add.length > 0 ? `ADD ${clauses.add.join(", ")}` : "",
    clauses.remove.length > 0 ? `REMOVE ${clauses.remove.join(", ")}` : "",
  ]
    .filter(Boolean)
    .join(" ");
}

/** Adds what puts a URL in the sparse due index at `nextCaptureAt`, or takes it out. */
export function addSchedule(
  clauses: UpdateClauses,
  urlId: string,
  nextCaptureAt: string | null,
): UpdateClauses {
  // A URL on its schedule has no pending capture (see `claimDue`).
  clauses.remove.push("pendingCaptureId", "parked");
  if (nextCaptureAt === null) {
    clauses.remove.push("nextCaptureAt", "GSI1PK", "GSI1SK");
  } else {
    clauses.set.push("nextCaptureAt = :next", "GSI1PK = :shard", "GSI1SK = :sk");
    Object.assign(clauses.values, {
      ":next": nextCaptureAt,
      ":shard": duePartition(urlId, false),
      ":sk": `${nextCaptureAt}#${urlId}`,
    });
  }
  return clauses;
}

/** What a claim (or a submission's hold) writes on the URL: its pending capture and due key. */
const PENDING_UPDATE =
  "SET nextCaptureAt = :start, GSI1PK = :pendingPk, GSI1SK = :sk, pendingCaptureId = :cid, parked = :parked";

function pendingValues(claim: Omit<DueClaim, "seen">): Record<string, unknown> {
  return {
    ":start": claim.startAt,
    ":pendingPk": duePartition(claim.urlId, true),
    ":sk": `${claim.dueAt}#${claim.urlId}`,
    ":cid": claim.captureId,
    ":parked": claim.parked,
  };
}

/** The due-index operations of the archive repository. */
export function createDueIndexOperations(
  client: DynamoDBDocumentClient,
  TableName: string,
): Pick<ArchiveRepository, "listDue" | "claimDue" | "holdPending" | "extendPending" | "releasePending"> {
  /** An UpdateItem on the URL record that says whether its condition held. */
  async function conditionalUpdate(
    urlId: string,
    update: string,
    condition: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      await client.send(
        new UpdateCommand({
          TableName,
          Key: urlKey(urlId),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  return {
    async listDue(shard, dueBy, options): Promise<Page<DueUrl>> {
      const partition = options.pending ? "PENDING" : "DUE";
      const out = await client.send(
        new QueryCommand({
          TableName,
          IndexName: "GSI1",
          KeyConditionExpression: "GSI1PK = :pk AND GSI1SK <= :due",
          // "~" sorts after every id character, so URLs due exactly at `dueBy` are included.
          ExpressionAttributeValues: { ":pk": `${partition}#${shard}`, ":due": `${dueBy}#~` },
          ProjectionExpression: "urlId, #url, GSI1SK, pendingCaptureId, parked",
          ExpressionAttributeNames: { "#url": "url" },
          Limit: options.limit,
          ExclusiveStartKey: decodeCursor(options.cursor),
        }),
      );
      return {
        items: (out.Items ?? []).map((item) => ({
          urlId: String(item.urlId),
          url: String(item.url),
          dueAt: String(item.GSI1SK).split("#")[0] as string,
          ...(item.pendingCaptureId ? { pendingCaptureId: String(item.pendingCaptureId) } : {}),
          ...(item.parked === true ? { parked: true } : {}),
        })),
        cursor: encodeCursor(out.LastEvaluatedKey),
      };
    },

    async claimDue(claim) {
      const { seen } = claim;
      const values: Record<string, unknown> = {
        ":seenSk": `${seen.dueAt}#${claim.urlId}`,
        ...pendingValues(claim),
      };
      let condition = "GSI1SK = :seenSk AND ";
      if (seen.pendingCaptureId === undefined) {
        condition += "attribute_not_exists(pendingCaptureId)";
      } else {
        condition += "pendingCaptureId = :seenPending";
        values[":seenPending"] = seen.pendingCaptureId;
      }
      return conditionalUpdate(claim.urlId, PENDING_UPDATE, condition, values);
    },

    async holdPending(claim) {
      return conditionalUpdate(
        claim.urlId,
        PENDING_UPDATE,
        "attribute_exists(PK) AND attribute_not_exists(pendingCaptureId)",
        pendingValues(claim),
      );
    },

    async extendPending(urlId, captureId, seenDueAt, dueAt) {
      return conditionalUpdate(
        urlId,
        // Also moves an entry written before the split out of the scheduled partition.
        "SET GSI1PK = :pendingPk, GSI1SK = :sk, parked = :false",
        "pendingCaptureId = :cid AND GSI1SK = :seenSk",
        {
          ":pendingPk": duePartition(urlId, true),
          ":sk": `${dueAt}#${urlId}`,
          ":false": false,
          ":cid": captureId,
          ":seenSk": `${seenDueAt}#${urlId}`,
        },
      );
    },

    async releasePending(urlId, captureId, nextCaptureAt) {
      const clauses = addSchedule(noClauses(), urlId, nextCaptureAt);
      return conditionalUpdate(
        urlId,
        updateExpression(clauses),
        "attribute_exists(PK) AND (attribute_not_exists(pendingCaptureId) OR pendingCaptureId = :cid)",
        { ...clauses.values, ":cid": captureId },
      );
    },
  };
}
