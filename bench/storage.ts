/**
 * What a capture costs in storage requests and bytes: each fixture page submitted through the API's
 * domain (`submitCapture`), captured once, then re-captured unchanged through the sweeper
 * (`sweepDueUrls`) and the worker — on the embedded S3 and DynamoDB. Counts the bytes actually
 * added to the embedded S3 server's directory, the S3 requests, and the read and write capacity
 * units DynamoDB reports (`ReturnConsumedCapacity`), which is what on-demand mode bills.
 *
 *   node bench/storage.ts
 */
import { loadCaptureConfig } from "../shared/config.ts";
import { startFixtureSite } from "../test/support/fixture-site.ts";
import { BENCH_PAGES, pageUrl, registerSyntheticPages } from "./bench-pages.ts";
import { type AwsCounters, directoryBytes, startCaptureRig } from "./capture-rig.ts";
import type { BenchReport } from "./extraction.ts";
import { bytes, median, verdict } from "./stats.ts";

/** The target: an unchanged recapture adds at most this much to S3. */
export const RECAPTURE_TARGET_BYTES = 2 * 1024;

interface Usage {
  s3Bytes: number;
  puts: number;
  heads: number;
  gets: number;
  rcu: number;
  wcu: number;
  /** Estimated write units of the global secondary indexes on AWS (dynalite counts the table only). */
  indexWcu: number;
}

export interface StorageFigures {
  pages: Array<{ name: string; first: Usage; recapture: Usage; artifacts: Record<string, number> }>;
  /** DynamoDB capacity of `POST /v1/captures` (per first capture) and of the sweep (per recapture). */
  submit: Usage;
  sweepPerUrl: Usage;
}

const S3 = { put: ["PutObjectCommand"], head: ["HeadObjectCommand"], get: ["GetObjectCommand"] };

function usage(counters: AwsCounters, s3Bytes: number): Usage {
  return {
    s3Bytes,
    puts: counters.total(...S3.put),
    heads: counters.total(...S3.head),
    gets: counters.total(...S3.get),
    rcu: counters.readCapacityUnits,
    wcu: counters.writeCapacityUnits,
    indexWcu: counters.indexWriteUnits,
  };
}

export async function measureStorage(): Promise<StorageFigures> {
  const site = await startFixtureSite();
  registerSyntheticPages(site);
  const rig = await startCaptureRig({
    allowedHost: new URL(site.origin).host,
    config: loadCaptureConfig({}),
  });
  try {
    const pages: StorageFigures["pages"] = [];
    const submits: Usage[] = [];
    const captureIds = new Map<string, string>();
    const byUrl = new Map<string, StorageFigures["pages"][number]>();
    for (const page of BENCH_PAGES) {
      rig.counters.reset();
      // Adaptive, as a user submits by default, so that the sweeper has something due later.
      const captureId = await rig.submit(pageUrl(site, page, "storage"), "adaptive");
      submits.push(usage(rig.counters, 0));
      captureIds.set(page.name, captureId);
    }
    for (const page of BENCH_PAGES) {
      const before = await directoryBytes(rig.s3Directory);
      rig.counters.reset();
      const outcome = await rig.process(captureIds.get(page.name) as string);
      if (outcome.kind !== "succeeded")
        throw new Error(`first capture of ${page.name} ended ${outcome.kind}`);
      const first = usage(rig.counters, (await directoryBytes(rig.s3Directory)) - before);
      const artifacts = Object.fromEntries(
        Object.entries(outcome.capture.artifacts ?? {}).map(([name, ref]) => [name, ref.bytes]),
      );
      const entry = { name: page.name, first, recapture: first, artifacts };
      pages.push(entry);
      byUrl.set(outcome.capture.url, entry);
    }

    // A week later every URL is due again: the sweeper queues one capture each.
    rig.counters.reset();
    const recaptures = await rig.sweep(new Date(Date.now() + 7 * 24 * 3600_000));
    if (recaptures.length !== BENCH_PAGES.length) {
      throw new Error(`the sweep queued ${recaptures.length} captures for ${BENCH_PAGES.length} URLs`);
    }
    const sweep = usage(rig.counters, 0);
    const sweepPerUrl: Usage = {
      ...sweep,
      rcu: sweep.rcu / recaptures.length,
      wcu: sweep.wcu / recaptures.length,
      indexWcu: sweep.indexWcu / recaptures.length,
    };
    for (const captureId of recaptures) {
      const record = await rig.repository.getCapture(captureId);
      const entry = record ? byUrl.get(record.url) : undefined;
      const before = await directoryBytes(rig.s3Directory);
      rig.counters.reset();
      const outcome = await rig.process(captureId);
      if (outcome.kind !== "succeeded") throw new Error(`recapture ended ${outcome.kind}`);
      if (outcome.capture.changed) throw new Error(`recapture of ${record?.url} found a change`);
      if (entry) entry.recapture = usage(rig.counters, (await directoryBytes(rig.s3Directory)) - before);
    }
    const mid = (pick: (u: Usage) => number) => median(submits.map(pick));
    return {
      pages,
      submit: {
        s3Bytes: 0,
        puts: 0,
        heads: 0,
        gets: 0,
        rcu: mid((u) => u.rcu),
        wcu: mid((u) => u.wcu),
        indexWcu: mid((u) => u.indexWcu),
      },
      sweepPerUrl,
    };
  } finally {
    await rig.close();
    await site.close();
  }
}

export async function runStorageBench(): Promise<BenchReport> {
  const f = await measureStorage();
  const row = (name: string, u: Usage) =>
    `| ${name} | ${bytes(u.s3Bytes)} | ${u.puts} | ${u.heads} | ${u.gets} | ${fmt(u.rcu)} | ${fmt(u.wcu)} | ${fmt(u.indexWcu)} |`;
  const firstBytes = median(f.pages.map((p) => p.first.s3Bytes));
  const recaptureBytes = median(f.pages.map((p) => p.recapture.s3Bytes));
  const worstRecapture = Math.max(...f.pages.map((p) => p.recapture.s3Bytes));
  const markdown = [
    "## Storage per capture",
    "",
    "Each page submitted (`submitCapture`, what `POST /v1/captures` runs), captured, then, a week",
    "later by the clock, swept (`sweepDueUrls`) and captured again unchanged — on the embedded S3 and",
    "DynamoDB. *S3 bytes* are the bytes added to the embedded S3 server's directory (objects and their",
    "metadata files); artifacts are stored under the SHA-256 of their bytes, so identical ones are",
    "stored once. Capacity units are those the embedded DynamoDB reports per request",
    "(`ReturnConsumedCapacity`), as on-demand mode bills them, for the table; it does not count the",
    "global secondary indexes, which DynamoDB bills as well: *index write units* estimates them from",
    "each written item's indexes (captures are in two, a scheduled URL in one), each index write counted",
    "at the table write's units: exact for GSI2 and GSI3, which project every attribute, an upper bound for",
    "the due index (GSI1), which projects only what the sweeper reads. Politeness is shaped before a",
    "capture is queued and the worker takes no gate; this rig submits and sweeps without a shaper, so",
    "the host schedule's write (one per host per page of due URLs) is not counted.",
    "",
    "| page — first capture | S3 bytes | PUT | HEAD | GET | read units | write units | + index write units |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...f.pages.map((p) => row(p.name, p.first)),
    "",
    "| page — unchanged recapture | S3 bytes | PUT | HEAD | GET | read units | write units | + index write units |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...f.pages.map((p) => row(p.name, p.recapture)),
    "",
    `Per capture, besides the worker: the submission ${fmt(f.submit.rcu)} read / ${fmt(f.submit.wcu)} + ${fmt(f.submit.indexWcu)} index write units (first captures), the sweep ${fmt(f.sweepPerUrl.rcu)} read / ${fmt(f.sweepPerUrl.wcu)} + ${fmt(f.sweepPerUrl.indexWcu)} index write units per URL it queues (recaptures).`,
    "",
    `Median S3 bytes per first capture: ${bytes(firstBytes)}; per unchanged recapture: ${bytes(recaptureBytes)} (largest ${bytes(worstRecapture)}). Target ≤ ${bytes(RECAPTURE_TARGET_BYTES)} per unchanged recapture: ${verdict(worstRecapture <= RECAPTURE_TARGET_BYTES)}.`,
    "",
    "Artifact sizes of the first capture:",
    "",
    "| page | snapshot | screenshot | raw | article | text |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...f.pages.map(
      (p) =>
        `| ${p.name} | ${["snapshot", "screenshot", "raw", "article", "text"].map((a) => bytes(p.artifacts[a] ?? 0)).join(" | ")} |`,
    ),
  ].join("\n");
  const figures: Record<string, number> = {
    firstCaptureS3BytesMedian: firstBytes,
    recaptureS3BytesMedian: recaptureBytes,
    recaptureS3BytesMax: worstRecapture,
    submitWcu: f.submit.wcu,
    submitIndexWcu: f.submit.indexWcu,
    sweepIndexWcuPerUrl: f.sweepPerUrl.indexWcu,
    firstIndexWcuMedian: median(f.pages.map((p) => p.first.indexWcu)),
    recaptureIndexWcuMedian: median(f.pages.map((p) => p.recapture.indexWcu)),
    submitRcu: f.submit.rcu,
    sweepWcuPerUrl: f.sweepPerUrl.wcu,
    sweepRcuPerUrl: f.sweepPerUrl.rcu,
    firstWcuMedian: median(f.pages.map((p) => p.first.wcu)),
    firstRcuMedian: median(f.pages.map((p) => p.first.rcu)),
    recaptureWcuMedian: median(f.pages.map((p) => p.recapture.wcu)),
    recaptureRcuMedian: median(f.pages.map((p) => p.recapture.rcu)),
    firstPuts: median(f.pages.map((p) => p.first.puts)),
    firstHeads: median(f.pages.map((p) => p.first.heads)),
    recapturePuts: median(f.pages.map((p) => p.recapture.puts)),
    recaptureHeads: median(f.pages.map((p) => p.recapture.heads)),
    recaptureGets: median(f.pages.map((p) => p.recapture.gets)),
  };
  return { markdown, figures };
}

const fmt = (units: number) => (Number.isInteger(units) ? String(units) : units.toFixed(1));

if (import.meta.main) {
  const report = await runStorageBench();
  console.log(report.markdown);
  console.log(JSON.stringify(report.figures));
}
