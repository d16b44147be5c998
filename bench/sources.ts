/**
 * Following outlets at scale: N sources (1,000 by default) with 50 entries each, all due, swept
 * once and polled — the real sweep (`sweepDueSources`), poll job (`pollSource`, the guarded
 * fetcher, `submitFoundUrl`) and DynamoDB adapters, on the embedded DynamoDB on disk, against RSS
 * feeds served from loopback. Captures are queued, not run (the capture benches measure those).
 * Then a second round at a later clock: every feed answers 304 to its conditional GET.
 *
 * Reports polls per second, new URLs per second, and DynamoDB writes per new article (requests,
 * and the write units dynalite reports for the table plus an estimate of the indexes').
 *
 *   node bench/sources.ts [--sources 1000] [--entries 50] [--concurrency 4]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ensureArchiveTable, startEmbeddedDynamo } from "../local/embedded-dynamodb.ts";
import { createDocumentClient } from "../shared/adapters/aws-clients.ts";
import { createDynamoArchiveRepository } from "../shared/adapters/dynamo-archive-repository.ts";
import { createDynamoSourceRepository } from "../shared/adapters/dynamo-source-repository.ts";
import { createGuardedHttpFetcher } from "../shared/adapters/guarded-http-fetcher.ts";
import { INDEX_SHARDS } from "../shared/adapters/table-schema.ts";
import { pollSource } from "../shared/domain/sources/poll-source.ts";
import { sweepDueSources } from "../shared/domain/sources/sweep-sources.ts";
import { runLimited } from "../shared/domain/sweep.ts";
import { parseAllowedPrivateHosts } from "../shared/domain/url.ts";
import { createLogger } from "../shared/logger.ts";
import type { PollMessage } from "../shared/ports.ts";
import type { BenchReport } from "./extraction.ts";

const TABLE = "bench-sources";

/** Write requests (items), table write units, and estimated index write units, by phase. */
class WriteCounter {
  requests = 0;
  tableUnits = 0;
  indexUnits = 0;
  reads = 0;
  snapshot() {
    return {
      requests: this.requests,
      tableUnits: this.tableUnits,
      indexUnits: this.indexUnits,
      reads: this.reads,
    };
  }
}

/**
 * How many global secondary indexes a write lands in, by the item it writes (all project every
 * attribute, so each costs the item's units again): a capture is in two, a source's link in one, a
 * new URL record in none until its first capture is held pending (`holdPending` sets its due-index
 * key: one entry), a source's update moves its due-index key (a delete and a put) and rewrites its
 * listing entry.
 */
function indexesOf(input: {
  Item?: Record<string, unknown>;
  Key?: Record<string, unknown>;
  UpdateExpression?: string;
}): number {
  const pk = String(input.Item?.PK ?? input.Key?.PK ?? "");
  const sk = String(input.Item?.SK ?? input.Key?.SK ?? "");
  if (pk.startsWith("CAPTURE#")) return 2;
  if (pk.startsWith("URL#") && sk === "URL" && /\bGSI1PK\b/.test(input.UpdateExpression ?? "")) return 1;
  if (pk.startsWith("SOURCE#") && sk.startsWith("LINK#")) return 1;
  if (pk.startsWith("SOURCE#") && sk === "SOURCE") return 3;
  return 0;
}

function countWrites(client: DynamoDBDocumentClient, counter: WriteCounter): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? "";
      const input = args.input as {
        ReturnConsumedCapacity?: string;
        Item?: Record<string, unknown>;
        Key?: Record<string, unknown>;
        UpdateExpression?: string;
      };
      const isWrite = /^(Put|Update|Delete|BatchWrite)/.test(command);
      input.ReturnConsumedCapacity ??= "TOTAL";
      const result = await next(args);
      const consumed = (
        result.output as { ConsumedCapacity?: { CapacityUnits?: number } | Array<{ CapacityUnits?: number }> }
      ).ConsumedCapacity;
      const units = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce(
        (sum, c) => sum + (c.CapacityUnits ?? 0),
        0,
      );
      if (isWrite) {
        counter.requests++;
        counter.tableUnits += units;
        counter.indexUnits += units * indexesOf(input);
      } else if (/^(Get|Query)/.test(command)) {
        counter.reads += units;
      }
      return result;
    },
    { step: "initialize", name: "benchCountWrites" },
  );
}

/** RSS feeds on loopback: `/feed/<i>.xml` lists 50 articles of outlet i, with an ETag honoured on 304. */
async function startFeedServer(
  entries: number,
): Promise<{ server: Server; origin: string; served: { full: number; notModified: number } }> {
  const served = { full: 0, notModified: 0 };
  const server = createServer((req, res) => {
    const match = /^\/feed\/(\d+)\.xml$/.exec(req.url ?? "");
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    const i = Number(match[1]);
    const etag = `"feed-${i}-v1"`;
    if (req.headers["if-none-match"] === etag) {
      served.notModified++;
      res.writeHead(304, { etag }).end();
      return;
    }
    served.full++;
    const items = Array.from(
      { length: entries },
      (_, j) =>
        `<item><title>Outlet ${i}: story ${j} &amp; its follow-up</title><link>https://outlet${i}.example/2026/03/03/story-${j}?utm_source=rss</link><guid>https://outlet${i}.example/2026/03/03/story-${j}</guid><pubDate>Tue, 03 Mar 2026 09:${String(j % 60).padStart(2, "0")}:00 GMT</pubDate><description>&lt;p&gt;${"Lorem ipsum dolor sit amet. ".repeat(8)}&lt;/p&gt;</description></item>`,
    ).join("");
    res
      .writeHead(200, { "content-type": "application/rss+xml; charset=utf-8", etag })
      .end(
        `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Outlet ${i}</title><link>https://outlet${i}.example/</link>${items}</channel></rss>`,
      );
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, served };
}

/** What one run measures (the JSON line `npm run bench` prints). */
export type SourcesFigures = {
  sources: number;
  entriesPerSource: number;
  concurrency: number;
  seedMs: number;
  sweepMs: number;
  pollMs: number;
  polls: number;
  pollsPerSecond: number;
  newUrls: number;
  newUrlsPerSecond: number;
  writeRequestsPerNewArticle: number;
  tableWriteUnitsPerNewArticle: number;
  indexWriteUnitsPerNewArticle: number;
  readUnitsPerNewArticle: number;
  unchangedPolls: number;
  unchangedPollMs: number;
  unchangedPollsPerSecond: number;
  unchangedNewUrls: number;
  notModifiedAnswers: number;
  writeRequestsPerUnchangedPoll: number;
  writeUnitsPerUnchangedPoll: number;
  readUnitsPerUnchangedPoll: number;
  /** The 1-minute load average before and after the run, and its peak, sampled every 5 s. */
  loadBefore: number;
  loadAfter: number;
  loadPeak: number;
  cores: number;
};

/** The section's markdown from its figures. Rates under 10 keep a decimal: a slow machine reads 0.4, not 0. */
export function renderSourcesReport(f: SourcesFigures): string {
  const { sources: total, entriesPerSource: entries, concurrency } = f;
  const rate = (n: number) => (n < 10 ? n.toFixed(2) : Math.round(n).toLocaleString("en"));
  return [
    `## Following outlets`,
    "",
    `${total.toLocaleString("en")} sources, each an RSS feed of ${entries} articles served from loopback, all due, swept once (\`sweepDueSources\`) and polled ${concurrency} at a time with the real poll job (\`pollSource\`: the guarded fetcher, the full feed parser, \`submitFoundUrl\`) on the embedded DynamoDB (dynalite on disk). Every article is new to the archive, so each is linked to its source and submitted as a capture (queued, not run). A second round 20 minutes later finds every feed unchanged: each answers 304 to the poll's conditional GET. On AWS the polls run in parallel Lambdas against DynamoDB, and a fetch from a real outlet takes far longer than from loopback: these are the work's own costs, not a forecast of wall time.`,
    "",
    "| figure | value |",
    "|---|---|",
    `| sources swept and polled | ${f.polls.toLocaleString("en")} |`,
    `| sweep (claim each, enqueue its poll) | ${(f.sweepMs / 1000).toFixed(1)} s |`,
    `| polls (fetch, parse, link, submit) | ${(f.pollMs / 1000).toFixed(1)} s |`,
    `| **polls per second** | **${rate(f.pollsPerSecond)}** |`,
    `| new URLs submitted | ${f.newUrls.toLocaleString("en")} |`,
    `| **new URLs per second** | **${rate(f.newUrlsPerSecond)}** |`,
    `| **DynamoDB write requests per new article** (sweep and poll) | **${f.writeRequestsPerNewArticle}** |`,
    `| table write units per new article | ${f.tableWriteUnitsPerNewArticle} |`,
    `| + index write units per new article (estimated) | ${f.indexWriteUnitsPerNewArticle} |`,
    `| read units per new article | ${f.readUnitsPerNewArticle} |`,
    `| unchanged round: polls per second | ${rate(f.unchangedPollsPerSecond)} |`,
    `| unchanged round: 304 answers / new URLs | ${f.notModifiedAnswers.toLocaleString("en")} / ${f.unchangedNewUrls} |`,
    `| unchanged round: write requests per poll (claim and poll record) | ${f.writeRequestsPerUnchangedPoll} |`,
    `| unchanged round: write units per poll, indexes included (estimated) | ${f.writeUnitsPerUnchangedPoll} |`,
    `| unchanged round: read units per poll (the source's read, a share of the sweep's due-index query) | ${f.readUnitsPerUnchangedPoll} |`,
    `| seeding the sources | ${(f.seedMs / 1000).toFixed(1)} s (setup) |`,
    "",
    `Load average (1 min) ${f.loadBefore.toFixed(1)} before, ${f.loadAfter.toFixed(1)} after, ${f.loadPeak.toFixed(1)} at its peak, on ${f.cores} cores.${
      f.loadPeak > f.cores
        ? ` The machine was loaded past its cores while this ran (other work shared them): the rates above are low; the counts per article and per poll do not depend on load.`
        : ""
    }`,
    "",
    "Per new article the writes are its URL record, its queued capture, the hold of that capture on the URL record (`holdPending`, which puts the URL in the due index), its link to the source, and a share of the source's claim and poll record; index units are estimated as in the storage section (a capture is in two indexes, a link and a held URL in one, a source's update moves its due-index key and rewrites its listing entry). An unchanged poll still writes twice: the sweep's claim and the poll record (its time, validators, next due time).",
  ].join("\n");
}

export async function runSourcesBench(
  options: { sources?: number; entries?: number; concurrency?: number } = {},
): Promise<BenchReport> {
  const total = options.sources ?? 1000;
  const entries = options.entries ?? 50;
  const concurrency = options.concurrency ?? 4;
  process.env.AWS_REGION ??= "us-east-1";
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  const loadBefore = loadavg()[0] ?? 0;
  let loadPeak = loadBefore;
  const sampler = setInterval(() => {
    loadPeak = Math.max(loadPeak, loadavg()[0] ?? 0);
  }, 5000);
  const dir = await mkdtemp(join(tmpdir(), "palimpsest-sources-bench-"));
  const dynamo = await startEmbeddedDynamo({ directory: join(dir, "dynamodb") });
  const feeds = await startFeedServer(entries);
  try {
    await ensureArchiveTable(new DynamoDBClient({ endpoint: dynamo.endpoint }), TABLE);
    const documents = createDocumentClient({ dynamodbEndpoint: dynamo.endpoint });
    const counter = new WriteCounter();
    countWrites(documents, counter);
    const sources = createDynamoSourceRepository({ client: documents, tableName: TABLE });
    const repository = createDynamoArchiveRepository({ client: documents, tableName: TABLE });
    const allowedPrivateHosts = parseAllowedPrivateHosts(new URL(feeds.origin).host);
    // Article hosts resolve to a public address through this table; nothing connects to them.
    const resolveHost = async (host: string) => (host.endsWith(".example") ? ["93.184.215.14"] : [host]);
    let captures = 0;
    const logger = createLogger({}, "silent");
    const pollDeps = {
      sources,
      submit: {
        repository,
        queue: { enqueue: async () => void captures++ },
        resolveHost,
        allowedPrivateHosts,
      },
      fetcher: createGuardedHttpFetcher({ allowedPrivateHosts }),
      logger,
    };

    const start = new Date("2026-03-03T10:00:00Z");
    const seedStarted = performance.now();
    await runLimited(
      Array.from({ length: total }, (_, i) => i),
      8,
      async (i) => {
        await sources.createSource({
          sourceId: `src_bench${String(i).padStart(6, "0")}`,
          url: `${feeds.origin}/feed/${i}.xml`,
          kind: "feed",
          title: null,
          pollEveryMinutes: 15,
          recapture: "adaptive",
          paused: false,
          createdAt: start.toISOString(),
          articleCount: 0,
          nextPollAt: start.toISOString(),
        });
      },
    );
    const seedMs = performance.now() - seedStarted;

    const round = async (now: Date) => {
      const messages: PollMessage[] = [];
      const before = counter.snapshot();
      const capturesBefore = captures;
      const sweepStarted = performance.now();
      const sweep = await sweepDueSources(
        { sources, pollQueue: { enqueue: async (m) => void messages.push(m) }, shards: INDEX_SHARDS, logger },
        now,
      );
      const sweepMs = performance.now() - sweepStarted;
      const afterSweep = counter.snapshot();
      let linked = 0;
      const pollStarted = performance.now();
      await runLimited(messages, concurrency, async (message) => {
        const outcome = await pollSource({ ...pollDeps, now: () => now }, message.sourceId, message.lease);
        if (outcome.kind === "polled") linked += outcome.linked;
      });
      const pollMs = performance.now() - pollStarted;
      const after = counter.snapshot();
      return {
        polls: sweep.polls,
        sweepMs,
        pollMs,
        linked,
        submitted: captures - capturesBefore,
        sweepWrites: afterSweep.requests - before.requests,
        pollWrites: after.requests - afterSweep.requests,
        pollTableUnits: after.tableUnits - afterSweep.tableUnits,
        pollIndexUnits: after.indexUnits - afterSweep.indexUnits,
        sweepTableUnits: afterSweep.tableUnits - before.tableUnits,
        sweepIndexUnits: afterSweep.indexUnits - before.indexUnits,
        sweepReadUnits: afterSweep.reads - before.reads,
        pollReadUnits: after.reads - afterSweep.reads,
      };
    };

    const first = await round(new Date(start.getTime() + 60_000));
    const second = await round(new Date(start.getTime() + 20 * 60_000));

    const perNew = (n: number) => (first.submitted > 0 ? n / first.submitted : 0);
    const figures: SourcesFigures = {
      sources: total,
      entriesPerSource: entries,
      concurrency,
      seedMs: Math.round(seedMs),
      sweepMs: Math.round(first.sweepMs),
      pollMs: Math.round(first.pollMs),
      polls: first.polls,
      pollsPerSecond: Number((first.polls / (first.pollMs / 1000)).toFixed(2)),
      newUrls: first.submitted,
      newUrlsPerSecond: Number((first.submitted / (first.pollMs / 1000)).toFixed(2)),
      writeRequestsPerNewArticle: Number(perNew(first.pollWrites + first.sweepWrites).toFixed(2)),
      tableWriteUnitsPerNewArticle: Number(perNew(first.pollTableUnits + first.sweepTableUnits).toFixed(2)),
      indexWriteUnitsPerNewArticle: Number(perNew(first.pollIndexUnits + first.sweepIndexUnits).toFixed(2)),
      readUnitsPerNewArticle: Number(perNew(first.pollReadUnits).toFixed(2)),
      unchangedPolls: second.polls,
      unchangedPollMs: Math.round(second.pollMs),
      unchangedPollsPerSecond: Number((second.polls / (second.pollMs / 1000)).toFixed(2)),
      unchangedNewUrls: second.submitted,
      notModifiedAnswers: feeds.served.notModified,
      writeRequestsPerUnchangedPoll: Number(
        ((second.pollWrites + second.sweepWrites) / Math.max(1, second.polls)).toFixed(2),
      ),
      writeUnitsPerUnchangedPoll: Number(
        (
          (second.pollTableUnits + second.sweepTableUnits + second.pollIndexUnits + second.sweepIndexUnits) /
          Math.max(1, second.polls)
        ).toFixed(2),
      ),
      readUnitsPerUnchangedPoll: Number(
        ((second.pollReadUnits + second.sweepReadUnits) / Math.max(1, second.polls)).toFixed(2),
      ),
      loadBefore,
      loadAfter: loadavg()[0] ?? 0,
      loadPeak: Math.max(loadPeak, loadavg()[0] ?? 0),
      cores: cpus().length,
    };
    return { markdown: renderSourcesReport(figures), figures };
  } finally {
    clearInterval(sampler);
    feeds.server.closeAllConnections();
    await new Promise((done) => feeds.server.close(done));
    await dynamo.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { sources: { type: "string" }, entries: { type: "string" }, concurrency: { type: "string" } },
  });
  const report = await runSourcesBench({
    ...(values.sources ? { sources: Number(values.sources) } : {}),
    ...(values.entries ? { entries: Number(values.entries) } : {}),
    ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
  });
  console.log(report.markdown);
  console.log(JSON.stringify(report.figures));
}
