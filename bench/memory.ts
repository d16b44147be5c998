/**
 * Peak memory of the capture worker: a child process runs the worker's real path (`processCapture`
 * with the Chromium capturer) over the bench pages, several rounds of first captures, against the
 * embedded S3 and DynamoDB and the fixture site served by this process — as on Lambda, where
 * storage is a network service and the function's memory holds Node and Chromium. This process
 * samples the child's whole process tree (Node, the browser and its renderer, GPU and utility
 * processes) in /proc every 50 ms: resident memory summed over the processes (an upper bound:
 * shared pages count once per process) and proportional set size (shared pages split between the
 * processes that map them, closer to what the Lambda's cgroup is charged).
 *
 *   node bench/memory.ts [--rounds 3]
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadCaptureConfig } from "../shared/config.ts";
import { startFixtureSite } from "../test/support/fixture-site.ts";
import { BENCH_PAGES, pageUrl, registerSyntheticPages } from "./bench-pages.ts";
import { connectCaptureRig, type StorageServers, startStorageServers } from "./capture-rig.ts";
import type { BenchReport } from "./extraction.ts";
import { bytes, verdict } from "./stats.ts";

/** The target for the capture worker (the function has 2,048 MB). */
export const RSS_TARGET_BYTES = 1.5 * 1024 ** 3;
const SAMPLE_EVERY_MS = 50;

interface WorkerJob {
  servers: Omit<StorageServers, "close" | "dir">;
  allowedHost: string;
  urls: string[];
}

export interface MemoryFigures {
  captures: number;
  samples: number;
  peakTreeRss: number;
  peakTreePss: number;
  peakNodeRss: number;
  peakBrowserRss: number;
  peakProcesses: number;
  /** The largest single page's peak (RSS summed), to show what a heavy page adds. */
  perPage: Array<{ name: string; peakTreeRss: number }>;
}

export async function measureMemory(options: { rounds?: number } = {}): Promise<MemoryFigures> {
  const rounds = options.rounds ?? 3;
  const site = await startFixtureSite();
  registerSyntheticPages(site);
  const servers = await startStorageServers();
  try {
    const urls: string[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const page of BENCH_PAGES) urls.push(pageUrl(site, page, `memory-${round}`));
    }
    const job: WorkerJob = {
      servers: {
        s3Endpoint: servers.s3Endpoint,
        dynamodbEndpoint: servers.dynamodbEndpoint,
        s3Directory: servers.s3Directory,
      },
      allowedHost: new URL(site.origin).host,
      urls,
    };
    const child = spawn(process.execPath, [import.meta.filename, "--worker", JSON.stringify(job)], {
      env: { ...process.env, LOG_LEVEL: "silent" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const pid = child.pid;
    if (pid === undefined) throw new Error("the capture worker did not start");
    let current = "";
    const peaks = {
      samples: 0,
      peakTreeRss: 0,
      peakTreePss: 0,
      peakNodeRss: 0,
      peakBrowserRss: 0,
      peakProcesses: 0,
    };
    const perPage = new Map<string, number>();
    child.stdout.setEncoding("utf8");
    let output = "";
    child.stdout.on("data", (chunk: string) => {
      output += chunk;
      // The worker announces each URL before capturing it, so samples can be put on pages.
      for (const line of chunk.split("\n")) if (line.startsWith("capturing ")) current = line.slice(10);
    });
    const sampler = setInterval(() => {
      const tree = processTree(pid);
      let rss = 0;
      let pss = 0;
      let browserRss = 0;
      for (const member of tree) {
        const memory = readMemory(member);
        rss += memory.rss;
        pss += memory.pss;
        if (member !== pid) browserRss += memory.rss;
        else peaks.peakNodeRss = Math.max(peaks.peakNodeRss, memory.rss);
      }
      peaks.samples++;
      peaks.peakTreeRss = Math.max(peaks.peakTreeRss, rss);
      peaks.peakTreePss = Math.max(peaks.peakTreePss, pss);
      peaks.peakBrowserRss = Math.max(peaks.peakBrowserRss, browserRss);
      peaks.peakProcesses = Math.max(peaks.peakProcesses, tree.length);
      const page = BENCH_PAGES.find((p) => current.includes(p.path));
      if (page) perPage.set(page.name, Math.max(perPage.get(page.name) ?? 0, rss));
    }, SAMPLE_EVERY_MS);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    clearInterval(sampler);
    if (code !== 0 || !output.includes("done")) throw new Error(`the capture worker exited with ${code}`);
    return {
      captures: urls.length,
      ...peaks,
      perPage: BENCH_PAGES.map((p) => ({ name: p.name, peakTreeRss: perPage.get(p.name) ?? 0 })),
    };
  } finally {
    await servers.close();
    await site.close();
  }
}

/** `pid` and all its descendants, from /proc. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name is in parentheses and may contain spaces; fields after it are fixed.
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(parent) ?? [];
      list.push(Number(entry));
      children.set(parent, list);
    } catch {
      // the process ended meanwhile
    }
  }
  const tree: number[] = [];
  const visit = (pid: number) => {
    tree.push(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(root);
  return tree;
}

export function readMemory(pid: number): { rss: number; pss: number } {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    const field = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(rollup)?.[1] ?? 0) * 1024;
    return { rss: field("Rss"), pss: field("Pss") };
  } catch {
    return { rss: 0, pss: 0 };
  }
}

/** The child: the capture worker on the parent's servers, one URL after another. */
async function runWorker(job: WorkerJob): Promise<void> {
  const rig = await connectCaptureRig(job.servers, {
    allowedHost: job.allowedHost,
    config: loadCaptureConfig({}),
  });
  try {
    for (const url of job.urls) {
      console.log(`capturing ${url}`);
      const captureId = await rig.submit(url);
      const outcome = await rig.process(captureId);
      if (outcome.kind !== "succeeded") throw new Error(`capture of ${url} ended ${outcome.kind}`);
    }
  } finally {
    await rig.close();
  }
  console.log("done");
}

export async function runMemoryBench(options: { rounds?: number } = {}): Promise<BenchReport> {
  const f = await measureMemory(options);
  const markdown = [
    "## Capture worker memory",
    "",
    `The capture worker's real path (\`processCapture\` with the Chromium capturer, one browser reused) in a`,
    `child process, ${f.captures} first captures of the six bench pages in turn; storage and the fixture site`,
    `live in the parent, as S3 and DynamoDB are network services on Lambda. The whole process tree (Node and`,
    `up to ${f.peakProcesses} Chromium processes) sampled in /proc every ${SAMPLE_EVERY_MS} ms (${f.samples} samples).`,
    "RSS summed over processes counts shared pages once per process (an upper bound); PSS splits them.",
    "",
    "| peak | bytes |",
    "| --- | ---: |",
    `| whole tree, RSS summed | **${bytes(f.peakTreeRss)}** |`,
    `| whole tree, PSS summed | ${bytes(f.peakTreePss)} |`,
    `| the Node process alone (RSS) | ${bytes(f.peakNodeRss)} |`,
    `| the Chromium processes (RSS summed) | ${bytes(f.peakBrowserRss)} |`,
    "",
    `Target ≤ ${bytes(RSS_TARGET_BYTES)} (of the function's 2,048 MB): ${verdict(f.peakTreeRss <= RSS_TARGET_BYTES)} on the upper bound.`,
    "",
    "Peak of the tree (RSS summed) while each page was being captured:",
    "",
    "| page | peak |",
    "| --- | ---: |",
    ...f.perPage.map((p) => `| ${p.name} | ${bytes(p.peakTreeRss)} |`),
  ].join("\n");
  return {
    markdown,
    figures: {
      captures: f.captures,
      peakTreeRssBytes: f.peakTreeRss,
      peakTreePssBytes: f.peakTreePss,
      peakNodeRssBytes: f.peakNodeRss,
      peakBrowserRssBytes: f.peakBrowserRss,
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { rounds: { type: "string" }, worker: { type: "string" } } });
  if (values.worker) {
    await runWorker(JSON.parse(values.worker) as WorkerJob);
  } else {
    const report = await runMemoryBench(values.rounds ? { rounds: Number(values.rounds) } : {});
    console.log(report.markdown);
    console.log(JSON.stringify(report.figures));
  }
}
