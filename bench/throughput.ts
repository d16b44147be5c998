/**
 * Throughput of the local runner (`npm start`) at worker concurrency 1 and 2: N captures of
 * distinct URLs submitted through its HTTP API at once, timed from the first submission until the
 * queue has drained, with no politeness gap (`HOST_MIN_GAP_MS=0`, all pages are on one host) and
 * `HOST_MAX_CONCURRENCY` at the worker count. The browser is warmed by one capture first. Runs
 * alternate (1, 2, 2, 1…) so that machine noise falls on both.
 *
 *   node bench/throughput.ts [--captures 18] [--runs 2]
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startLocalRunner } from "../local/runner.ts";
import { createLogger } from "../shared/logger.ts";
import { type FixtureSite, startFixtureSite } from "../test/support/fixture-site.ts";
import { BENCH_PAGES, pageUrl, registerSyntheticPages } from "./bench-pages.ts";
import type { BenchReport } from "./extraction.ts";
import { median } from "./stats.ts";

const CONCURRENCIES = [1, 2] as const;

export interface ThroughputFigures {
  captures: number;
  runs: number;
  byConcurrency: Array<{ concurrency: number; perMinute: number[]; failed: number }>;
}

export async function measureThroughput(
  options: { captures?: number; runs?: number } = {},
): Promise<ThroughputFigures> {
  const captures = options.captures ?? 18;
  const runs = options.runs ?? 2;
  const site = await startFixtureSite();
  registerSyntheticPages(site);
  const results = new Map<number, { perMinute: number[]; failed: number }>(
    CONCURRENCIES.map((c) => [c, { perMinute: [], failed: 0 }]),
  );
  try {
    for (let run = 0; run < runs; run++) {
      const order = run % 2 === 0 ? CONCURRENCIES : [...CONCURRENCIES].reverse();
      for (const concurrency of order) {
        const result = await measureOnce(site, concurrency, captures, `run-${run}-c${concurrency}`);
        const entry = results.get(concurrency);
        entry?.perMinute.push(result.perMinute);
        if (entry) entry.failed += result.failed;
      }
    }
  } finally {
    await site.close();
  }
  return {
    captures,
    runs,
    byConcurrency: CONCURRENCIES.map((concurrency) => ({
      concurrency,
      ...(results.get(concurrency) ?? { perMinute: [], failed: 0 }),
    })),
  };
}

async function measureOnce(
  site: FixtureSite,
  concurrency: number,
  captures: number,
  tag: string,
): Promise<{ perMinute: number; failed: number }> {
  const dataDir = await mkdtemp(join(tmpdir(), "palimpsest-throughput-"));
  const runner = await startLocalRunner({
    dataDir,
    port: 0,
    workerConcurrency: concurrency,
    sweepIntervalMs: 0,
    env: {
      ALLOW_PRIVATE_HOSTS: new URL(site.origin).host,
      HOST_MIN_GAP_MS: "0",
      HOST_MAX_CONCURRENCY: String(Math.max(2, concurrency)),
      // Every page is on one host: no politeness interval between their starts.
      HOST_LIMITS: "*=0ms",
    },
    logger: createLogger({}, "silent"),
  });
  try {
    const submit = async (url: string): Promise<string> => {
      const response = await fetch(`${runner.url}/v1/captures`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ url, recapture: "off" }),
      });
      if (response.status !== 202) throw new Error(`submitting ${url}: HTTP ${response.status}`);
      return ((await response.json()) as { captureId: string }).captureId;
    };
    // Warm-up: launches the browser and loads every code path once.
    for (const page of BENCH_PAGES.slice(0, 1)) await submit(pageUrl(site, page, `${tag}-warm-up`));
    await runner.drain(120_000);

    const started = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < captures; i++) {
      const page = BENCH_PAGES[i % BENCH_PAGES.length];
      if (page) ids.push(await submit(pageUrl(site, page, `${tag}-${i}`)));
    }
    await runner.drain(captures * 30_000);
    const elapsedMs = performance.now() - started;
    let failed = 0;
    for (const id of ids) {
      const capture = (await (await fetch(`${runner.url}/v1/captures/${id}`)).json()) as { status: string };
      if (capture.status !== "succeeded") failed++;
    }
    return { perMinute: ((captures - failed) / elapsedMs) * 60_000, failed };
  } finally {
    await runner.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * Measures in a child process: the handlers log through the module logger, whose level is read
 * once at start-up, and a bench run should not print a line per capture.
 */
function measureInChild(options: { captures?: number; runs?: number }): ThroughputFigures {
  const args = [import.meta.filename, "--json"];
  if (options.captures !== undefined) args.push("--captures", String(options.captures));
  if (options.runs !== undefined) args.push("--runs", String(options.runs));
  const out = execFileSync(process.execPath, args, {
    env: { ...process.env, LOG_LEVEL: "silent" },
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return JSON.parse(out.trim().split("\n").at(-1) ?? "") as ThroughputFigures;
}

export async function runThroughputBench(
  options: { captures?: number; runs?: number } = {},
): Promise<BenchReport> {
  const f = measureInChild(options);
  const one = median(f.byConcurrency.find((c) => c.concurrency === 1)?.perMinute ?? []);
  const two = median(f.byConcurrency.find((c) => c.concurrency === 2)?.perMinute ?? []);
  const markdown = [
    "## Throughput",
    "",
    `The local runner (\`npm start\`'s engine: file queue, the capture handler, embedded S3 and DynamoDB, one`,
    `browser) on this ${cpus().length}-core machine: ${f.captures} captures of distinct URLs (the six bench pages in turn)`,
    "submitted through its HTTP API at once, timed from the first submission until the queue drained;",
    "no politeness gap between captures of the same host. Browser warmed first; median of",
    `${f.runs} runs per setting, alternating. On AWS each capture Lambda holds one browser and takes one`,
    "message at a time, so throughput there grows with the function's concurrency instead.",
    "",
    "| worker concurrency | captures per minute | runs | failed captures |",
    "| ---: | ---: | --- | ---: |",
    ...f.byConcurrency.map(
      (c) =>
        `| ${c.concurrency} | **${Math.round(median(c.perMinute))}** | ${c.perMinute.map((v) => Math.round(v)).join(", ")} | ${c.failed} |`,
    ),
    "",
    `Concurrency 2 over 1: ${(two / one).toFixed(2)}× (the browser, the Node process and the embedded servers share ${cpus().length} cores).`,
  ].join("\n");
  return {
    markdown,
    figures: {
      captures: f.captures,
      perMinuteConcurrency1: Math.round(one),
      perMinuteConcurrency2: Math.round(two),
      failed: f.byConcurrency.reduce((sum, c) => sum + c.failed, 0),
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { captures: { type: "string" }, runs: { type: "string" }, json: { type: "boolean" } },
  });
  const options = {
    ...(values.captures ? { captures: Number(values.captures) } : {}),
    ...(values.runs ? { runs: Number(values.runs) } : {}),
  };
  if (values.json) {
    console.log(JSON.stringify(await measureThroughput(options)));
  } else {
    const report = await runThroughputBench(options);
    console.log(report.markdown);
    console.log(JSON.stringify(report.figures));
  }
}
