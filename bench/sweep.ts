/**
 * The sweeper at scale: a synthetic table of N due URLs (100,000 by default) in the embedded
 * DynamoDB on disk, swept once into the file-backed queue, as the local runner would. Reports the
 * time to seed, to sweep, URLs enqueued per second, and that a second sweep enqueues nothing.
 *
 *   node bench/sweep.ts [--urls 100000]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BatchWriteItemCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ensureArchiveTable, startEmbeddedDynamo } from "../local/embedded-dynamodb.ts";
import { FileQueue } from "../local/file-queue.ts";
import { createDocumentClient } from "../shared/adapters/aws-clients.ts";
import { createDynamoArchiveRepository, dueShard } from "../shared/adapters/dynamo-archive-repository.ts";
import { INDEX_SHARDS } from "../shared/adapters/table-schema.ts";
import { urlIdFor } from "../shared/domain/ids.ts";
import { runLimited, sweepDueUrls } from "../shared/domain/sweep.ts";
import { createLogger } from "../shared/logger.ts";
import type { BenchReport } from "./extraction.ts";

const TABLE = "bench-sweep";

export async function runSweepBench(options: { urls?: number } = {}): Promise<BenchReport> {
  const total = options.urls ?? 100_000;
  process.env.AWS_REGION ??= "us-east-1";
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  const dir = await mkdtemp(join(tmpdir(), "palimpsest-sweep-bench-"));
  const dynamo = await startEmbeddedDynamo({ directory: join(dir, "dynamodb") });
  try {
    const raw = new DynamoDBClient({ endpoint: dynamo.endpoint });
    await ensureArchiveTable(raw, TABLE);
    const now = new Date("2026-06-01T12:00:00Z");

    const seedStarted = performance.now();
    const batches: number[] = [];
    for (let i = 0; i < total; i += 25) batches.push(i);
    await runLimited(batches, 8, async (start) => {
      const items = [];
      for (let i = start; i < Math.min(start + 25, total); i++) {
        const url = `https://news.example/${i}`;
        const urlId = urlIdFor(url);
        const next = new Date(now.getTime() - (i % 3600) * 1000).toISOString();
        items.push({
          PutRequest: {
            Item: {
              PK: { S: `URL#${urlId}` },
              SK: { S: "URL" },
              urlId: { S: urlId },
              url: { S: url },
              recapture: { S: "adaptive" },
              nextCaptureAt: { S: next },
              GSI1PK: { S: `DUE#${dueShard(urlId)}` },
              GSI1SK: { S: `${next}#${urlId}` },
            },
          },
        });
      }
      let unprocessed: Record<string, unknown[]> | undefined = { [TABLE]: items };
      while (unprocessed && Object.keys(unprocessed).length > 0) {
        const out = await raw.send(new BatchWriteItemCommand({ RequestItems: unprocessed as never }));
        unprocessed = out.UnprocessedItems as Record<string, unknown[]> | undefined;
      }
    });
    const seedMs = performance.now() - seedStarted;

    const queue = await FileQueue.open({
      directory: join(dir, "queue"),
      visibilityTimeoutMs: 60_000,
      maxReceiveCount: 3,
    });
    const repository = createDynamoArchiveRepository({
      client: createDocumentClient({ dynamodbEndpoint: dynamo.endpoint }),
      tableName: TABLE,
    });
    const deps = {
      repository,
      shards: INDEX_SHARDS,
      logger: createLogger({}, "silent"),
      queue: {
        enqueue: async (message: { captureId: string }) => void (await queue.send(JSON.stringify(message))),
      },
    };
    const sweepStarted = performance.now();
    const first = await sweepDueUrls(deps, now);
    const sweepMs = performance.now() - sweepStarted;
    const second = await sweepDueUrls(deps, now);

    const figures = {
      urls: total,
      seedMs: Math.round(seedMs),
      sweepMs: Math.round(sweepMs),
      enqueued: first.enqueued,
      urlsPerSecond: Math.round(first.enqueued / (sweepMs / 1000)),
      secondSweepEnqueued: second.enqueued,
      queueSize: queue.size,
    };
    const markdown = [
      `A synthetic table of ${total.toLocaleString("en")} URLs, all due, in the embedded DynamoDB (dynalite on LevelDB, on disk), swept once into the file-backed queue — the local runner's path. On AWS the same code talks to DynamoDB and SQS, which scale far past dynalite's single thread; this is the floor, not the ceiling.`,
      "",
      "| figure | value | target |",
      "|---|---|---|",
      `| URLs due | ${total.toLocaleString("en")} | 100,000 |`,
      `| sweep time (claim, record capture, enqueue each) | ${(sweepMs / 1000).toFixed(1)} s | within one invocation (15 min), or continues |`,
      `| URLs enqueued per second | ${figures.urlsPerSecond.toLocaleString("en")} | |`,
      `| enqueued by the first sweep | ${first.enqueued.toLocaleString("en")} | every due URL |`,
      `| enqueued by a second sweep at the same time | ${second.enqueued} | 0 (claims hold) |`,
      `| messages in the queue | ${queue.size.toLocaleString("en")} | one per URL |`,
      `| seeding the table | ${(seedMs / 1000).toFixed(1)} s | (setup) |`,
    ].join("\n");
    return { markdown, figures };
  } finally {
    await dynamo.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { urls: { type: "string" } } });
  const report = await runSweepBench(values.urls ? { urls: Number(values.urls) } : {});
  console.log(report.markdown);
}
