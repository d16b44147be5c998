/**
 * The single DynamoDB table's physical schema, shared by the CDK construct, the embedded local
 * table and the repository adapter so the three can never drift apart.
 *
 * Items (PK / SK):
 * - URL record            `URL#<urlId>`     / `URL`
 * - version of a URL      `URL#<urlId>`     / `VERSION#<versionId>`   (versionIds sort by time)
 * - capture               `CAPTURE#<id>`    / `CAPTURE`
 * - source                `SOURCE#<id>`     / `SOURCE`
 * - a URL found by it     `SOURCE#<id>`     / `LINK#<urlId>`           (once per source and URL)
 * - who follows a URL     `SOURCEURL#<hash>` / `SOURCEURL`            (one source per polled URL)
 * - noise rules           `URL#<urlId>` or `SOURCE#<id>` / `NOISE`; a source's, as they apply to a
 *                         URL it found, `URL#<urlId>` / `NOISE#SOURCE#<id>` (see dynamo-noise-rules.ts)
 *
 * Indexes (all sparse: only items that carry the attributes are projected):
 * - GSI1 "due":      GSI1PK `DUE#<shard>`          GSI1SK `<nextCaptureAt>#<urlId>` — URLs due for re-capture
 *   and `POLL#<shard>` / `<nextPollAt>#<sourceId>` — sources due for a poll (absent while paused)
 * - GSI2 "byUrl":    GSI2PK `URL#<urlId>`          GSI2SK `CAPTURE#<requestedAt>#<id>` — a URL's captures in time order
 *   and `SOURCE#<id>` / `FOUND#<foundAt>#<urlId>` — the URLs a source found, in time order
 * - GSI3 "edits":    GSI3PK `EDITS`                GSI3SK `<capturedAt>#<versionId>` — flagged edits, newest first
 *   and `CAPTURES` / `<requestedAt>#<captureId>` — recent captures across the archive
 *   and `SOURCES` / `<createdAt>#<sourceId>` — every source, newest first
 *   (one partition each keeps paging simple; an index partition takes about 1,000 writes a second,
 *   which captures approach near 300 a second — past that, split CAPTURES by time bucket)
 */
export const TABLE_KEY = { partitionKey: "PK", sortKey: "SK" } as const;

export const TABLE_INDEXES = [
  { indexName: "GSI1", partitionKey: "GSI1PK", sortKey: "GSI1SK" },
  { indexName: "GSI2", partitionKey: "GSI2PK", sortKey: "GSI2SK" },
  { indexName: "GSI3", partitionKey: "GSI3PK", sortKey: "GSI3SK" },
] as const;

/** Number of shards for the time-ordered sparse indexes (spreads hot partitions). */
export const INDEX_SHARDS = 16;
