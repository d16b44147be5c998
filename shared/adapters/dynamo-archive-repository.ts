/**
 * The archive's records in one DynamoDB table (see table-schema.ts for the key design).
 * Every write that could race or be repeated by an SQS redelivery is conditional, so retries
 * never double-count or duplicate versions. No Transact* calls: dynalite lacks them.
 */
import {
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  type CaptureRecord,
  type Edit,
  type EditEntry,
  inRecordedOrder,
  type RecapturePolicy,
  type UrlRecord,
  type VersionRecord,
} from "../domain/model.ts";
import type { ArchiveRepository, Page } from "../ports.ts";
import {
  addSchedule,
  createDueIndexOperations,
  decodeCursor,
  encodeCursor,
  isConditionFailure,
  noClauses,
  type UpdateClauses,
  updateExpression,
} from "./dynamo-due-index.ts";
import { dynamoNoiseRuleMethods } from "./dynamo-noise-rules.ts";
import { listPartition, queryListing } from "./dynamo-sharded-list.ts";

export { decodeCursor, dueShard, encodeCursor, isConditionFailure } from "./dynamo-due-index.ts";

const urlKey = (urlId: string) => ({ PK: `URL#${urlId}`, SK: "URL" });
const captureKey = (captureId: string) => ({ PK: `CAPTURE#${captureId}`, SK: "CAPTURE" });
const versionKey = (urlId: string, versionId: string) => ({ PK: `URL#${urlId}`, SK: `VERSION#${versionId}` });

const EDITS_PARTITION = "EDITS";
const CAPTURES_PARTITION = "CAPTURES";

const KEY_ATTRIBUTES = ["PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK", "entity"];

function captureItem(capture: CaptureRecord): Record<string, unknown> {
  return {
    ...captureKey(capture.captureId),
    entity: "capture",
    GSI2PK: `URL#${capture.urlId}`,
    GSI2SK: `CAPTURE#${capture.requestedAt}#${capture.captureId}`,
    // Recent captures across the archive share the time-ordered index with edits, under their own
    // keys, sharded by id so the listing's writes spread over partitions (dynamo-sharded-list.ts).
    GSI3PK: listPartition(CAPTURES_PARTITION, capture.captureId),
    GSI3SK: `${capture.requestedAt}#${capture.captureId}`,
    ...capture,
  };
}

function stripKeys<T>(item: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (!KEY_ATTRIBUTES.includes(k)) out[k] = v;
  return out as T;
}

/** The fields a finish decides; the others (identity, request, attempts) stay as stored. */
const FINISH_FIELDS = [
  "status",
  "finishedAt",
  "versionId",
  "changed",
  "edit",
  "finalUrl",
  "httpStatus",
  "removed",
  "validity",
  "validityReason",
  "error",
  "artifacts",
  "evidence",
  "timings",
  "consent",
  "extraction",
  "method",
  "probe",
  "challengeRetried",
] as const satisfies ReadonlyArray<keyof CaptureRecord>;

/** The condition that a URL's recapture policy is still `policy` (a string, or every N minutes). */
function samePolicy(policy: RecapturePolicy, values: Record<string, unknown>): string {
  if (typeof policy === "string") {
    values[":seenPolicy"] = policy;
    return "recapture = :seenPolicy";
  }
  values[":seenEvery"] = policy.everyMinutes;
  return "recapture.everyMinutes = :seenEvery";
}

export function createDynamoArchiveRepository(deps: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): ArchiveRepository {
  const { client, tableName: TableName } = deps;

  /** One page of an index query, newest first, with the opaque cursor for the next. */
  async function queryNewestFirst<T>(
    query: {
      IndexName: string;
      KeyConditionExpression: string;
      ExpressionAttributeValues: Record<string, unknown>;
    },
    options: { limit: number; cursor?: string },
  ): Promise<Page<T>> {
    const out = await client.send(
      new QueryCommand({
        TableName,
        ...query,
        ScanIndexForward: false,
        Limit: options.limit,
        ExclusiveStartKey: decodeCursor(options.cursor),
      }),
    );
    return {
      items: (out.Items ?? []).map((item) => stripKeys<T>(item)),
      cursor: encodeCursor(out.LastEvaluatedKey),
    };
  }

  const due = createDueIndexOperations(client, TableName);

  return {
    ...due,

    // Noise rules share the table and the URL partition (see dynamo-noise-rules.ts).
    ...dynamoNoiseRuleMethods(deps),
    async getUrl(urlId) {
      const out = await client.send(new GetCommand({ TableName, Key: urlKey(urlId), ConsistentRead: true }));
      return out.Item ? stripKeys<UrlRecord>(out.Item) : null;
    },

    async ensureUrl(url) {
      try {
        await client.send(
          new PutCommand({
            TableName,
            Item: { ...urlKey(url.urlId), entity: "url", ...url },
            ConditionExpression: "attribute_not_exists(PK)",
          }),
        );
        return url;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
      const existing = await this.getUrl(url.urlId);
      if (!existing) throw new Error(`URL ${url.urlId} exists and vanished during read`);
      return existing;
    },

    async putCapture(capture) {
      await client.send(
        new PutCommand({
          TableName,
          Item: captureItem(capture),
          ConditionExpression: "attribute_not_exists(PK)",
        }),
      );
    },

    async putCaptures(captures) {
      for (let i = 0; i < captures.length; i += 25) {
        let requests: Array<{ PutRequest: { Item: Record<string, unknown> } }> | undefined = captures
          .slice(i, i + 25)
          .map((capture) => ({ PutRequest: { Item: captureItem(capture) } }));
        for (let attempt = 0; requests && requests.length > 0; attempt++) {
          if (attempt > 0)
            await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** Math.min(attempt, 6)));
          if (attempt > 8) throw new Error(`DynamoDB left ${requests.length} capture writes unprocessed`);
          const out = await client.send(new BatchWriteCommand({ RequestItems: { [TableName]: requests } }));
          requests = out.UnprocessedItems?.[TableName] as typeof requests;
        }
      }
    },

    async getCapture(captureId) {
      const out = await client.send(
        new GetCommand({ TableName, Key: captureKey(captureId), ConsistentRead: true }),
      );
      return out.Item ? stripKeys<CaptureRecord>(out.Item) : null;
    },

    async startCapture(captureId, startedAt) {
      try {
        const out = await client.send(
          new UpdateCommand({
            TableName,
            Key: captureKey(captureId),
            UpdateExpression: "SET #status = :running, startedAt = :startedAt ADD attempts :one",
            ConditionExpression: "attribute_exists(PK) AND #status IN (:queued, :running)",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: {
              ":running": "running",
              ":queued": "queued",
              ":startedAt": startedAt,
              ":one": 1,
            },
            ReturnValues: "ALL_NEW",
          }),
        );
        return out.Attributes ? stripKeys<CaptureRecord>(out.Attributes) : null;
      } catch (err) {
        if (isConditionFailure(err)) return null;
        throw err;
      }
    },

    async finishCapture(capture) {
      // Only what the finish decides is written, so the item keeps its keys, its place in both
      // capture indexes (per URL, recent), and an attempt a duplicate worker counted meanwhile.
      const clauses = noClauses();
      const names: Record<string, string> = {};
      for (const field of FINISH_FIELDS) {
        names[`#${field}`] = field;
        if (capture[field] === undefined) {
          clauses.remove.push(`#${field}`);
        } else {
          clauses.set.push(`#${field} = :${field}`);
          clauses.values[`:${field}`] = capture[field];
        }
      }
      await client
        .send(
          new UpdateCommand({
            TableName,
            Key: captureKey(capture.captureId),
            UpdateExpression: updateExpression(clauses),
            // A finished capture is final: a late duplicate worker must not overwrite it.
            ConditionExpression: "attribute_exists(PK) AND #status IN (:queued, :running)",
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ...clauses.values, ":queued": "queued", ":running": "running" },
          }),
        )
        .catch((err: unknown) => {
          if (!isConditionFailure(err)) throw err;
        });
    },

    async listCaptures(urlId, options): Promise<Page<CaptureRecord>> {
      return queryNewestFirst<CaptureRecord>(
        {
          IndexName: "GSI2",
          KeyConditionExpression: "GSI2PK = :pk AND begins_with(GSI2SK, :prefix)",
          ExpressionAttributeValues: { ":pk": `URL#${urlId}`, ":prefix": "CAPTURE#" },
        },
        options,
      );
    },

    async getVersion(urlId, versionId) {
      const out = await client.send(
        new GetCommand({ TableName, Key: versionKey(urlId, versionId), ConsistentRead: true }),
      );
      return out.Item ? stripKeys<VersionRecord>(out.Item) : null;
    },

    async listVersions(urlId) {
      // The URL's latest pointer says where its history ends (see inRecordedOrder).
      const url = client.send(new GetCommand({ TableName, Key: urlKey(urlId), ConsistentRead: true }));
      url.catch(() => {}); // awaited below, after the query
      const items: VersionRecord[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const out = await client.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: "PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues: { ":pk": `URL#${urlId}`, ":prefix": "VERSION#" },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        );
        for (const item of out.Items ?? []) items.push(stripKeys<VersionRecord>(item));
        start = out.LastEvaluatedKey;
      } while (start);
      const latest = (await url).Item?.latestVersionId as string | undefined;
      return inRecordedOrder(items, latest);
    },

    async putVersion(version, options) {
      try {
        await client.send(
          new PutCommand({
            TableName,
            Item: {
              ...versionKey(version.urlId, version.versionId),
              entity: "version",
              // Only flagged edits enter the sparse edits index, sharded like recent captures.
              ...(version.edit
                ? {
                    GSI3PK: listPartition(EDITS_PARTITION, version.versionId),
                    GSI3SK: `${version.capturedAt}#${version.versionId}`,
                  }
                : {}),
              ...version,
            },
            ...(options?.replace ? {} : { ConditionExpression: "attribute_not_exists(PK)" }),
          }),
        );
        return true;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        return false;
      }
    },

    async withdrawVersion(urlId, versionId) {
      await client.send(new DeleteCommand({ TableName, Key: versionKey(urlId, versionId) }));
    },

    async setNextCapture(urlId, nextCaptureAt) {
      const clauses = addSchedule(noClauses(), urlId, nextCaptureAt);
      await client.send(
        new UpdateCommand({
          TableName,
          Key: urlKey(urlId),
          UpdateExpression: updateExpression(clauses),
          // DynamoDB refuses an empty value map, which a pure REMOVE would send.
          ...(nextCaptureAt === null ? {} : { ExpressionAttributeValues: clauses.values }),
        }),
      );
    },

    async setRecapture(urlId, policy, nextCaptureAt) {
      // While a capture is pending it owns the URL's place in the due index (its parked slot or
      // lease); its finish schedules the URL by the new policy. Only without one is it moved now.
      for (const withSchedule of [true, false]) {
        const clauses = withSchedule ? addSchedule(noClauses(), urlId, nextCaptureAt) : noClauses();
        clauses.set.unshift("recapture = :policy");
        try {
          const out = await client.send(
            new UpdateCommand({
              TableName,
              Key: urlKey(urlId),
              UpdateExpression: updateExpression(clauses),
              ConditionExpression: withSchedule
                ? "attribute_exists(PK) AND attribute_not_exists(pendingCaptureId)"
                : "attribute_exists(PK)",
              ExpressionAttributeValues: { ...clauses.values, ":policy": policy },
              ReturnValues: "ALL_NEW",
            }),
          );
          return out.Attributes ? stripKeys<UrlRecord>(out.Attributes) : null;
        } catch (err) {
          if (!isConditionFailure(err)) throw err;
        }
      }
      return null;
    },

    async listRecentCaptures(options): Promise<Page<CaptureRecord>> {
      const page = await queryListing(client, TableName, CAPTURES_PARTITION, options);
      return { ...page, items: page.items.map((item) => stripKeys<CaptureRecord>(item)) };
    },

    async listEdits(options): Promise<Page<EditEntry>> {
      const page = await queryListing(client, TableName, EDITS_PARTITION, options);
      const versions = page.items.map((item) => stripKeys<VersionRecord & { edit: Edit }>(item));
      const urls = new Map<string, UrlRecord | null>();
      for (const v of versions) if (!urls.has(v.urlId)) urls.set(v.urlId, await this.getUrl(v.urlId));
      return {
        items: versions.map((v) => ({
          urlId: v.urlId,
          url: urls.get(v.urlId)?.url ?? "",
          versionId: v.versionId,
          capturedAt: v.capturedAt,
          edit: v.edit,
          ...(v.previousVersionId ? { previousVersionId: v.previousVersionId } : {}),
          ...(v.title ? { title: v.title } : {}),
          ...(v.summary ? { summary: v.summary } : {}),
          ...(v.revertOf ? { revertOf: v.revertOf } : {}),
        })),
        ...(page.cursor ? { cursor: page.cursor } : {}),
      };
    },

    async recordCaptureOnUrl(update) {
      const { seen, version } = update;
      const conditions = ["attribute_exists(PK)"];
      let clauses: UpdateClauses;
      if (seen.pendingCaptureId === undefined || seen.pendingCaptureId === update.captureId) {
        // The URL's own pending capture (or none) ends here and sets the next time.
        clauses = addSchedule(noClauses(), seen.urlId, update.nextCaptureAt);
        conditions.push("(attribute_not_exists(pendingCaptureId) OR pendingCaptureId = :ownCapture)");
        clauses.values[":ownCapture"] = update.captureId;
      } else {
        // Another capture is pending (this one ran beside it): that one owns the schedule.
        clauses = noClauses();
        conditions.push("pendingCaptureId = :otherPending");
        clauses.values[":otherPending"] = seen.pendingCaptureId;
      }
      // The outcome was decided against `seen`'s latest version and the next time from its policy.
      if (seen.latestVersionId === undefined) {
        conditions.push("attribute_not_exists(latestVersionId)");
      } else {
        conditions.push("latestVersionId = :seenLatest");
        clauses.values[":seenLatest"] = seen.latestVersionId;
      }
      conditions.push(samePolicy(seen.recapture, clauses.values));
      if (version) {
        clauses.set.push(
          "latestVersionId = :v",
          "latestTextSha256 = :sha",
          "title = :title",
          "lastChangedAt = :changedAt",
        );
        clauses.add.push("versionCount :one");
        Object.assign(clauses.values, {
          ":v": version.versionId,
          ":sha": version.textSha256,
          ":title": version.title ?? null,
          ":changedAt": version.capturedAt,
          ":one": 1,
        });
      }
      if (update.validity) {
        clauses.set.push("lastValidity = :validity");
        clauses.values[":validity"] = update.validity;
        // A run of captures that are not ok keeps the time it began; an ok capture ends it.
        if (update.validity === "ok") {
          clauses.remove.push("notOkSince", "paywallsSinceOk");
        } else {
          if (update.validity === "paywall" && update.count) {
            clauses.add.push("paywallsSinceOk :onePaywall");
            clauses.values[":onePaywall"] = 1;
          }
          clauses.set.push("notOkSince = if_not_exists(notOkSince, :notOkAt)");
          clauses.values[":notOkAt"] = update.capturedAt;
        }
      }
      if (update.unconfirmedTextSha256 === null) {
        clauses.remove.push("unconfirmedTextSha256");
      } else if (update.unconfirmedTextSha256 !== undefined) {
        clauses.set.push("unconfirmedTextSha256 = :unconfirmed");
        clauses.values[":unconfirmed"] = update.unconfirmedTextSha256;
      }
      // The retry planned after a challenge (ChallengeRetry), written with the schedule it names.
      if (update.challengeRetry === null) {
        clauses.remove.push("challengeRetry");
      } else if (update.challengeRetry) {
        clauses.set.push("challengeRetry = :challengeRetry");
        clauses.values[":challengeRetry"] = update.challengeRetry;
      }
      const probe = update.probe;
      if (probe?.kind === "clear") {
        clauses.remove.push("probe");
      } else if (probe) {
        // What the capture learned for HTTP probes (UrlRecord.probe), in the same write, and only
        // over the learning it was made from (a probe) or no newer one (a browser capture): a
        // stale writer must never put back a serverRendered or a textSha256 that was superseded.
        clauses.set.push("probe = :probe");
        clauses.values[":probe"] = probe.state;
        if (probe.kind === "http") {
          conditions.push("probe.browserAt = :probeFrom AND probe.httpCount = :probeCount");
          clauses.values[":probeFrom"] = probe.from.browserAt;
          clauses.values[":probeCount"] = probe.from.httpCount;
        } else {
          conditions.push("(attribute_not_exists(probe) OR probe.browserAt <= :probeAt)");
          clauses.values[":probeAt"] = probe.state.browserAt;
        }
      }
      if (update.count) {
        // The last capture id makes counting idempotent: a redelivery of the same capture finds it.
        conditions.push("(attribute_not_exists(lastCaptureId) OR lastCaptureId <> :cid)");
        clauses.set.push(
          "lastCapturedAt = :at",
          "firstCapturedAt = if_not_exists(firstCapturedAt, :at)",
          "lastCaptureId = :cid",
        );
        clauses.add.push("captureCount :one");
        Object.assign(clauses.values, { ":at": update.capturedAt, ":cid": update.captureId, ":one": 1 });
      }
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: urlKey(seen.urlId),
            UpdateExpression: updateExpression(clauses),
            ConditionExpression: conditions.join(" AND "),
            ExpressionAttributeValues: clauses.values,
          }),
        );
        return { recorded: true };
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
      return { recorded: false, current: await this.getUrl(seen.urlId) };
    },
  };
}
