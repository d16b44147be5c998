/**
 * The archive-wide listings (recent captures, flagged edits) are written across several GSI3 keys
 * and merged on read: the same newest-first order and working cursors as one partition, and items
 * written under the old single key still listed.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { createDocumentClient } from "../../shared/adapters/aws-clients.ts";
import { LIST_SHARDS } from "../../shared/adapters/table-schema.ts";
import { urlIdFor } from "../../shared/domain/ids.ts";
import type { CaptureRecord, Edit } from "../../shared/domain/model.ts";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";

let storage: EmbeddedStorage;
let documents: ReturnType<typeof createDocumentClient>;

before(async () => {
  storage = await startEmbeddedStorage();
  documents = createDocumentClient({ dynamodbEndpoint: storage.dynamodbEndpoint });
});
after(async () => {
  await storage.close();
});

const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();

function capture(i: number): CaptureRecord {
  const url = `https://news.example/story-${i % 7}`;
  return {
    captureId: `cap_${String(i).padStart(4, "0")}`,
    urlId: urlIdFor(url),
    url,
    status: "queued",
    requestedAt: at(i),
    attempts: 0,
  };
}

const EDIT: Edit = {
  significance: "major",
  kinds: ["added"],
  stealth: true,
  stats: {
    sentencesBefore: 1,
    sentencesAfter: 2,
    sentencesAdded: 1,
    sentencesRemoved: 0,
    sentencesChanged: 0,
    sentencesMoved: 0,
    wordsBefore: 5,
    wordsAfter: 10,
    wordsInserted: 5,
    wordsDeleted: 0,
    changeRatio: 0.3333,
  },
};

async function pagesOf<T>(list: (cursor?: string) => Promise<{ items: T[]; cursor?: string }>) {
  const pages: T[][] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    pages.push(page.items);
    cursor = page.cursor;
  } while (cursor);
  return pages;
}

describe("sharded archive-wide listings", () => {
  it("spreads recent captures over the shards and lists them newest first, page by page", async () => {
    const captures = Array.from({ length: 60 }, (_, i) => capture(i));
    await storage.repository.putCaptures(captures);
    // One written before the listing was sharded, under the bare key: still listed in its place.
    const legacy = { ...capture(60), captureId: "cap_legacy" };
    await documents.send(
      new PutCommand({
        TableName: storage.tableName,
        Item: {
          PK: `CAPTURE#${legacy.captureId}`,
          SK: "CAPTURE",
          entity: "capture",
          GSI3PK: "CAPTURES",
          GSI3SK: `${legacy.requestedAt}#${legacy.captureId}`,
          ...legacy,
        },
      }),
    );

    const used = new Set<number>();
    for (let shard = 0; shard < LIST_SHARDS; shard++) {
      const out = await documents.send(
        new QueryCommand({
          TableName: storage.tableName,
          IndexName: "GSI3",
          KeyConditionExpression: "GSI3PK = :pk",
          ExpressionAttributeValues: { ":pk": `CAPTURES#${shard}` },
          Select: "COUNT",
        }),
      );
      if ((out.Count ?? 0) > 0) used.add(shard);
    }
    assert.ok(used.size >= LIST_SHARDS - 1, `writes spread over ${used.size} of ${LIST_SHARDS} keys`);

    const pages = await pagesOf((cursor) =>
      storage.repository.listRecentCaptures({ limit: 7, ...(cursor ? { cursor } : {}) }),
    );
    const listed = pages.flat().map((c) => c.captureId);
    const expected = [legacy, ...captures.slice().reverse()].map((c) => c.captureId);
    assert.deepEqual(listed, expected, "newest first, each once, across pages");
    assert.ok(
      pages.slice(0, -1).every((p) => p.length === 7),
      "full pages until the last",
    );
    assert.equal(pages.flat()[0]?.url, legacy.url, "records come back without their keys' noise");
    assert.equal((pages.flat()[0] as unknown as Record<string, unknown>).GSI3PK, undefined);
  });

  it("keeps a cursor valid while newer captures are written", async () => {
    const first = await storage.repository.listRecentCaptures({ limit: 5 });
    await storage.repository.putCaptures([{ ...capture(99), captureId: "cap_newer", requestedAt: at(99) }]);
    const second = await storage.repository.listRecentCaptures({ limit: 5, cursor: first.cursor as string });
    const last = first.items.at(-1)?.requestedAt as string;
    assert.ok(
      second.items.every((c) => c.requestedAt < last),
      "the next page continues after the first",
    );
    await assert.rejects(
      storage.repository.listRecentCaptures({ limit: 5, cursor: "not-a-cursor" }),
      /cursor/,
    );
  });

  it("lists flagged edits from every shard, newest first", async () => {
    const urlId = urlIdFor("https://news.example/edited");
    await storage.repository.ensureUrl({
      urlId,
      url: "https://news.example/edited",
      captureCount: 0,
      versionCount: 0,
      recapture: "off",
      createdAt: at(0),
    });
    for (let i = 0; i < 25; i++) {
      await storage.repository.putVersion({
        versionId: `ver_${String(i).padStart(3, "0")}`,
        urlId,
        captureId: `cap_e${i}`,
        capturedAt: at(i),
        textSha256: `sha${i}`,
        edit: EDIT,
        artifacts: {},
      });
    }
    const pages = await pagesOf((cursor) =>
      storage.repository.listEdits({ limit: 10, ...(cursor ? { cursor } : {}) }),
    );
    assert.deepEqual(
      pages.flat().map((e) => e.versionId),
      Array.from({ length: 25 }, (_, i) => `ver_${String(24 - i).padStart(3, "0")}`),
    );
    assert.equal(pages.flat()[0]?.url, "https://news.example/edited");
  });
});
