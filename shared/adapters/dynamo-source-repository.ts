/**
 * Sources in the archive's single DynamoDB table (keys in table-schema.ts): the source item, the
 * item that makes one source per polled URL, and one link item per URL a source found. Writes that
 * could race (two follows of one URL, two sweeps, a poll finishing after a delete) are conditional.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { urlIdFor } from "../domain/ids.ts";
import type { SourceLink, SourceRecord } from "../domain/sources/model.ts";
import type { DueSource, Page, SourceRepository } from "../ports.ts";
import { decodeCursor, dueShard, encodeCursor, isConditionFailure } from "./dynamo-archive-repository.ts";
import { SOURCE_CLAIM_KEY_PREFIX, SOURCE_KEY_PREFIX } from "./table-schema.ts";

const sourceKey = (sourceId: string) => ({ PK: `${SOURCE_KEY_PREFIX}${sourceId}`, SK: "SOURCE" });
const claimKey = (url: string) => ({ PK: `${SOURCE_CLAIM_KEY_PREFIX}${urlIdFor(url)}`, SK: "SOURCEURL" });
const linkKey = (sourceId: string, urlId: string) => ({ PK: `SOURCE#${sourceId}`, SK: `LINK#${urlId}` });

const SOURCES_PARTITION = "SOURCES";
const KEY_ATTRIBUTES = new Set([
  "PK",
  "SK",
  "GSI1PK",
  "GSI1SK",
  "GSI2PK",
  "GSI2SK",
  "GSI3PK",
  "GSI3SK",
  "entity",
]);

function stripKeys<T>(item: Record<string, unknown>): T {
  return Object.fromEntries(Object.entries(item).filter(([k]) => !KEY_ATTRIBUTES.has(k))) as T;
}

/** The due-index attributes of a source due at `nextPollAt` (its own partitions beside URLs'). */
function scheduleOf(sourceId: string, nextPollAt: string) {
  return { GSI1PK: `POLL#${dueShard(sourceId)}`, GSI1SK: `${nextPollAt}#${sourceId}` };
}

export function createDynamoSourceRepository(deps: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): SourceRepository {
  const { client, tableName: TableName } = deps;

  async function getSource(sourceId: string): Promise<SourceRecord | null> {
    const out = await client.send(
      new GetCommand({ TableName, Key: sourceKey(sourceId), ConsistentRead: true }),
    );
    return out.Item ? stripKeys<SourceRecord>(out.Item) : null;
  }

  /** Sets the fields in `set`, removes those in `remove`, with the due index following `nextPollAt`. */
  async function update(
    sourceId: string,
    set: Record<string, unknown>,
    remove: string[],
    add: Record<string, number>,
    condition: string,
    conditionValues: Record<string, unknown> = {},
  ): Promise<SourceRecord | null> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ...conditionValues };
    const sets: string[] = [];
    const adds: string[] = [];
    let n = 0;
    for (const [field, value] of Object.entries(set)) {
      names[`#f${n}`] = field;
      values[`:v${n}`] = value;
      sets.push(`#f${n} = :v${n}`);
      n++;
    }
    for (const [field, value] of Object.entries(add)) {
      names[`#f${n}`] = field;
      values[`:v${n}`] = value;
      adds.push(`#f${n} :v${n}`);
      n++;
    }
    const removes = remove.map((field) => {
      names[`#f${n}`] = field;
      return `#f${n++}`;
    });
    const expression = [
      sets.length ? `SET ${sets.join(", ")}` : "",
      adds.length ? `ADD ${adds.join(", ")}` : "",
      removes.length ? `REMOVE ${removes.join(", ")}` : "",
    ]
      .filter(Boolean)
      .join(" ");
    try {
      const out = await client.send(
        new UpdateCommand({
          TableName,
          Key: sourceKey(sourceId),
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
          ReturnValues: "ALL_NEW",
        }),
      );
      return out.Attributes ? stripKeys<SourceRecord>(out.Attributes) : null;
    } catch (err) {
      if (isConditionFailure(err)) return null;
      throw err;
    }
  }

  return {
    getSource,

    async createSource(source) {
      try {
        await client.send(
          new PutCommand({
            TableName,
            Item: {
              ...claimKey(source.url),
              entity: "sourceUrl",
              sourceId: source.sourceId,
              url: source.url,
            },
            ConditionExpression: "attribute_not_exists(PK)",
          }),
        );
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        const out = await client.send(
          new GetCommand({ TableName, Key: claimKey(source.url), ConsistentRead: true }),
        );
        return { created: false, existingSourceId: String(out.Item?.sourceId ?? "") };
      }
      await client.send(
        new PutCommand({
          TableName,
          Item: {
            ...sourceKey(source.sourceId),
            entity: "source",
            GSI3PK: SOURCES_PARTITION,
            GSI3SK: `${source.createdAt}#${source.sourceId}`,
            ...(source.nextPollAt && !source.paused ? scheduleOf(source.sourceId, source.nextPollAt) : {}),
            ...source,
          },
          ConditionExpression: "attribute_not_exists(PK)",
        }),
      );
      return { created: true };
    },

    async listSources(options) {
      const out = await client.send(
        new QueryCommand({
          TableName,
          IndexName: "GSI3",
          KeyConditionExpression: "GSI3PK = :pk",
          ExpressionAttributeValues: { ":pk": SOURCES_PARTITION },
          ScanIndexForward: false,
          Limit: options.limit,
          ExclusiveStartKey: decodeCursor(options.cursor),
        }),
      );
      return {
        items: (out.Items ?? []).map((item) => stripKeys<SourceRecord>(item)),
        cursor: encodeCursor(out.LastEvaluatedKey),
      };
    },

    async updateSource(sourceId, settings, nextPollAt) {
      const set: Record<string, unknown> = {};
      const remove: string[] = [];
      for (const [field, value] of Object.entries(settings)) if (value !== undefined) set[field] = value;
      // A new pattern picks other links from the same document: the next poll must read it whole,
      // not be answered 304 (or match the digest) by the validators of the last read.
      if (settings.linkPattern !== undefined) remove.push("etag", "lastModified", "bodySha256");
      if (nextPollAt === null) remove.push("nextPollAt", "GSI1PK", "GSI1SK");
      else Object.assign(set, { nextPollAt, ...scheduleOf(sourceId, nextPollAt) });
      return update(sourceId, set, remove, {}, "attribute_exists(PK)");
    },

    async deleteSource(sourceId) {
      let old: Record<string, unknown> | undefined;
      try {
        const out = await client.send(
          new DeleteCommand({
            TableName,
            Key: sourceKey(sourceId),
            ConditionExpression: "attribute_exists(PK)",
            ReturnValues: "ALL_OLD",
          }),
        );
        old = out.Attributes;
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
      // The URL may be followed again, as a new source. The found URLs' links stay (see README).
      if (typeof old?.url === "string") {
        await client
          .send(
            new DeleteCommand({
              TableName,
              Key: claimKey(old.url),
              ConditionExpression: "sourceId = :id",
              ExpressionAttributeValues: { ":id": sourceId },
            }),
          )
          .catch((err: unknown) => {
            if (!isConditionFailure(err)) throw err;
          });
      }
      return true;
    },

    async listDueSources(shard, dueBy, options): Promise<Page<DueSource>> {
      const out = await client.send(
        new QueryCommand({
          TableName,
          IndexName: "GSI1",
          KeyConditionExpression: "GSI1PK = :pk AND GSI1SK <= :due",
          // "~" sorts after every id character, so sources due exactly at `dueBy` are included.
          ExpressionAttributeValues: { ":pk": `POLL#${shard}`, ":due": `${dueBy}#~` },
          ProjectionExpression: "sourceId, nextPollAt",
          Limit: options.limit,
          ExclusiveStartKey: decodeCursor(options.cursor),
        }),
      );
      return { items: (out.Items ?? []) as DueSource[], cursor: encodeCursor(out.LastEvaluatedKey) };
    },

    async claimDueSource(sourceId, seenNextPollAt, leaseUntil) {
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: sourceKey(sourceId),
            UpdateExpression: "SET nextPollAt = :lease, GSI1SK = :sk",
            ConditionExpression: "nextPollAt = :seen AND paused = :false",
            ExpressionAttributeValues: {
              ":lease": leaseUntil,
              ":sk": `${leaseUntil}#${sourceId}`,
              ":seen": seenNextPollAt,
              ":false": false,
            },
          }),
        );
        return true;
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
    },

    async recordPoll(sourceId, record) {
      const { etag, lastModified, bodySha256, ...learned } = record.set ?? {};
      const validators = Object.fromEntries(
        Object.entries({ etag, lastModified, bodySha256 }).filter(([, v]) => v !== undefined),
      );
      const set: Record<string, unknown> = { lastPolledAt: record.polledAt, ...learned };
      const remove: string[] = [];
      if (record.error) set.lastError = record.error;
      else remove.push("lastError");
      const add: Record<string, number> = record.linked > 0 ? { articleCount: record.linked } : {};
      // One write in the usual case. When it is refused, the source as it is now says which parts
      // still hold: the schedule (not paused, still at the lease) and the validators (same pattern).
      let schedule: "set" | "keep" | "remove" = "set";
      let withValidators = Object.keys(validators).length > 0;
      for (let attempt = 0; attempt < 3; attempt++) {
        const conditions = ["attribute_exists(PK)"];
        const values: Record<string, unknown> = {};
        const fields = { ...set, ...(withValidators ? validators : {}) };
        const removes = [...remove];
        if (schedule === "set") {
          Object.assign(fields, {
            nextPollAt: record.nextPollAt,
            ...scheduleOf(sourceId, record.nextPollAt),
          });
          conditions.push("paused = :false");
          values[":false"] = false;
          if (record.lease !== undefined) {
            conditions.push("nextPollAt = :lease");
            values[":lease"] = record.lease;
          }
        } else if (schedule === "remove") removes.push("nextPollAt", "GSI1PK", "GSI1SK");
        if (withValidators) {
          if (record.linkPattern === null) conditions.push("attribute_not_exists(linkPattern)");
          else {
            conditions.push("linkPattern = :seenPattern");
            values[":seenPattern"] = record.linkPattern;
          }
        }
        if (await update(sourceId, fields, removes, add, conditions.join(" AND "), values)) return true;
        const now = await getSource(sourceId);
        if (!now) return false;
        // Paused during the poll: it stays off the schedule. Moved off the lease (a PATCH, a
        // resume, another delivery's poll): that schedule stands.
        if (now.paused) schedule = "remove";
        else if (record.lease !== undefined && now.nextPollAt !== record.lease) schedule = "keep";
        if ((now.linkPattern ?? null) !== record.linkPattern) withValidators = false;
      }
      throw new Error(`Could not record the poll of ${sourceId}: the source kept changing`);
    },

    async deferPoll(sourceId, nextPollAt, lease) {
      const deferred = await update(
        sourceId,
        { nextPollAt, ...scheduleOf(sourceId, nextPollAt) },
        [],
        {},
        `attribute_exists(PK) AND paused = :false${lease === undefined ? "" : " AND nextPollAt = :lease"}`,
        { ":false": false, ...(lease === undefined ? {} : { ":lease": lease }) },
      );
      return deferred !== null;
    },

    async linkUrl(link) {
      try {
        await client.send(
          new PutCommand({
            TableName,
            Item: {
              ...linkKey(link.sourceId, link.urlId),
              entity: "sourceLink",
              GSI2PK: `SOURCE#${link.sourceId}`,
              GSI2SK: `FOUND#${link.foundAt}#${link.urlId}`,
              ...link,
            },
            ConditionExpression: "attribute_not_exists(PK)",
          }),
        );
        return true;
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
    },

    async listSourceUrls(sourceId, options): Promise<Page<SourceLink>> {
      const out = await client.send(
        new QueryCommand({
          TableName,
          IndexName: "GSI2",
          KeyConditionExpression: "GSI2PK = :pk AND begins_with(GSI2SK, :prefix)",
          ExpressionAttributeValues: { ":pk": `SOURCE#${sourceId}`, ":prefix": "FOUND#" },
          ScanIndexForward: false,
          Limit: options.limit,
          ExclusiveStartKey: decodeCursor(options.cursor),
        }),
      );
      return {
        items: (out.Items ?? []).map((item) => stripKeys<SourceLink>(item)),
        cursor: encodeCursor(out.LastEvaluatedKey),
      };
    },
  };
}
