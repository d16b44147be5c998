/**
 * The archive-wide, newest-first listings (recent captures, flagged edits) on GSI3, written across
 * `LIST_SHARDS` partition keys and merged on read. One constant partition key takes every write of
 * the listing, and a time-ordered sort key defeats DynamoDB's split-for-heat (every write lands at
 * the tail), so one key caps the listing at one partition's 1,000 writes a second; N keys spread
 * the writes N ways. A page queries every shard for the items past the cursor, merges them by sort
 * key and keeps the newest `limit`; the cursor is the last sort key returned, so the order is the
 * same as one partition's and a cursor stays valid whatever was written since.
 */
import { type DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { InvalidRequestError } from "../errors.ts";
import type { Page } from "../ports.ts";
import { LIST_SHARDS } from "./table-schema.ts";

/** The shard of an id (a capture or version id) in an archive-wide listing. */
export function listShard(id: string): number {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) >>> 0;
  return hash % LIST_SHARDS;
}

/** The GSI3 partition key of an item of `listing` (`CAPTURES`, `EDITS`) with that id. */
export function listPartition(listing: string, id: string): string {
  return `${listing}#${listShard(id)}`;
}

/**
 * Every partition key of `listing`: its shards, and the unsharded key items written before the
 * listing was sharded (an archive kept on disk keeps them), so older items are still listed.
 */
function partitionsOf(listing: string): string[] {
  return [listing, ...Array.from({ length: LIST_SHARDS }, (_, i) => `${listing}#${i}`)];
}

function encodeAfter(sortKey: string): string {
  return Buffer.from(JSON.stringify({ after: sortKey })).toString("base64url");
}

/** The sort key a cursor continues after; also reads the cursors of the unsharded listing. */
function decodeAfter(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as Record<string, unknown>;
    const after = parsed?.after ?? parsed?.GSI3SK;
    if (typeof after === "string") return after;
  } catch {
    // reported below
  }
  throw new InvalidRequestError("invalid_cursor", "The cursor is not one this API issued.");
}

/** One page of `listing`, newest first, merged across its shards; items as stored (with keys). */
export async function queryListing(
  client: DynamoDBDocumentClient,
  tableName: string,
  listing: string,
  options: { limit: number; cursor?: string },
): Promise<Page<Record<string, unknown>>> {
  const after = decodeAfter(options.cursor);
  const pages = await Promise.all(
    partitionsOf(listing).map((pk) =>
      client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: "GSI3",
          KeyConditionExpression: after === undefined ? "GSI3PK = :pk" : "GSI3PK = :pk AND GSI3SK < :after",
          ExpressionAttributeValues: { ":pk": pk, ...(after === undefined ? {} : { ":after": after }) },
          ScanIndexForward: false,
          Limit: options.limit,
        }),
      ),
    ),
  );
  const merged = pages
    .flatMap((page) => page.Items ?? [])
    .sort((a, b) => (String(a.GSI3SK) < String(b.GSI3SK) ? 1 : -1));
  const items = merged.slice(0, options.limit);
  const more = merged.length > options.limit || pages.some((page) => page.LastEvaluatedKey !== undefined);
  const last = items.at(-1);
  return { items, ...(more && last ? { cursor: encodeAfter(String(last.GSI3SK)) } : {}) };
}
