/**
 * The single DynamoDB table's physical schema, shared by the CDK construct, the embedded local
 * table and the repository adapter so the three can never drift apart.
 *
 * Items (PK / SK):
 * - URL record            `URL#<urlId>`     / `URL` (with a map `probe`: what the last browser capture
 *                         learned for HTTP probes, `UrlProbeState` in shared/domain/model.ts; and,
 *                         while its last capture met a bot challenge and its one retry is to come,
 *                         a map `challengeRetry`: `{at, afterCaptureId}`, `ChallengeRetry`)
 * - a capture that retried a challenged page carries a map `challengeRetried`:
 *                         `{afterCaptureId, freshContext, stillChallenged?}` (`ChallengeRetried`)
 * - version of a URL      `URL#<urlId>`     / `VERSION#<versionId>`   (versionIds sort by time)
 * - capture               `CAPTURE#<id>`    / `CAPTURE`
 * - source                `SOURCE#<id>`     / `SOURCE`
 * - a URL found by it     `SOURCE#<id>`     / `LINK#<urlId>`           (once per source and URL)
 * - who follows a URL     `SOURCEURL#<hash>` / `SOURCEURL`            (one source per polled URL)
 * - noise rules           `URL#<urlId>` or `SOURCE#<id>` / `NOISE`; a source's, as they apply to a
 *                         URL it found, `URL#<urlId>` / `NOISE#SOURCE#<id>` (see dynamo-noise-rules.ts)
 *
 * - host schedule       `HOST#<host>`     / `SCHEDULE`               (next free starts, host-shaping.ts)
 *
 * Indexes (all sparse: only items that carry the attributes are projected):
 * - GSI1 "due":      GSI1PK `DUE#<shard>`          GSI1SK `<nextCaptureAt>#<urlId>` — URLs on their
 *   schedule, due for re-capture;
 *   and `PENDING#<shard>` / `<dueAt>#<urlId>` — URLs with a pending capture: its parked slot or its
 *   lease (see `claimDue`), apart so a sweep reads them without the scheduled backlog
 *   (dynamo-due-index.ts);
 *   and `POLL#<shard>` / `<nextPollAt>#<sourceId>` — sources due for a poll (absent while paused).
 *   It projects only what the sweeps read (INCLUDE), so a claim rewrites a small index entry.
 * - GSI2 "byUrl":    GSI2PK `URL#<urlId>`          GSI2SK `CAPTURE#<requestedAt>#<id>` — a URL's captures in time order
 *   and `SOURCE#<id>` / `FOUND#<foundAt>#<urlId>` — the URLs a source found, in time order
 * - GSI3 "edits":    GSI3PK `EDITS#<n>`            GSI3SK `<capturedAt>#<versionId>` — flagged edits, newest first
 *   and `CAPTURES#<n>` / `<requestedAt>#<captureId>` — recent captures across the archive
 *   (n < LIST_SHARDS, from the id: merged on read, see dynamo-sharded-list.ts; items written before
 *   the split keep the bare `EDITS` / `CAPTURES` key and are merged in too)
 *   and `SOURCES` / `<createdAt>#<sourceId>` — every source, newest first (few writes: one key)
 */
export const TABLE_KEY = { partitionKey: "PK", sortKey: "SK" } as const;

/**
 * Partition-key prefixes of a followed source's own items (the source, its links and noise rules;
 * who follows a URL). Unfollowing deletes them; they are the only items the API may delete.
 */
export const SOURCE_KEY_PREFIX = "SOURCE#";
export const SOURCE_CLAIM_KEY_PREFIX = "SOURCEURL#";

/** What the due index carries besides its keys: what the URL and source sweeps read, nothing more. */
export const DUE_INDEX_ATTRIBUTES = ["urlId", "url", "pendingCaptureId", "parked", "sourceId", "nextPollAt"];

export const TABLE_INDEXES = [
  { indexName: "GSI1", partitionKey: "GSI1PK", sortKey: "GSI1SK", include: DUE_INDEX_ATTRIBUTES },
  { indexName: "GSI2", partitionKey: "GSI2PK", sortKey: "GSI2SK" },
  { indexName: "GSI3", partitionKey: "GSI3PK", sortKey: "GSI3SK" },
] as const satisfies ReadonlyArray<{
  indexName: string;
  partitionKey: string;
  sortKey: string;
  /** Non-key attributes projected (INCLUDE); absent projects ALL (listings render whole records). */
  include?: readonly string[];
}>;

/** Number of shards for the time-ordered sparse indexes (spreads hot partitions). */
export const INDEX_SHARDS = 16;

/**
 * Partition keys of each archive-wide listing on GSI3 (recent captures, edits). Eight spread about
 * 8,000 writes a second; a page reads eight partitions (see dynamo-sharded-list.ts).
 */
export const LIST_SHARDS = 8;
