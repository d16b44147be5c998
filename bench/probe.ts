/**
 * Recaptures without a browser (issue 17): an unchanged scheduled recapture settled by the HTTP
 * probe against the same recapture in the browser, in the same run, on the capture worker's real
 * path (`processCapture` composed by functions/compose/, the embedded S3 and DynamoDB):
 *
 * - latency, on the six bench pages (fixture site) and on real pages (the WCXB corpus served from
 *   127.0.0.1, as bench/capture-real.ts serves them), each page first captured in the browser (which
 *   learns whether it is server-rendered), then recaptured unchanged both ways in alternating order;
 * - memory: the worker's process tree (Node and any Chromium) while it recaptures the bench pages
 *   over HTTP, and while it recaptures them in the browser, each in a child process;
 * - edits: edit pairs of the edit-detection section served as pages and run through
 *   probe-then-browser and through the browser alone, which must find the same edits (no edit
 *   missed, none invented).
 *
 *   node bench/probe.ts [--pages 12] [--rounds 3] [--edit-pairs 36] [--noise-pairs 12]
 */
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import { createChromiumPageCapturer } from "../shared/adapters/chromium/page-capturer.ts";
import { loadCaptureConfig } from "../shared/config.ts";
import type { ProcessCaptureDeps } from "../shared/domain/capture/index.ts";
import { urlIdFor } from "../shared/domain/ids.ts";
import { normaliseUrl } from "../shared/domain/url.ts";
import { type FixtureSite, startFixtureSite } from "../test/support/fixture-site.ts";
import { loopbackEgress, NO_DNS } from "../test/support/loopback-browser.ts";
import { BENCH_PAGES, pageUrl, registerSyntheticPages } from "./bench-pages.ts";
import {
  type CaptureRig,
  connectCaptureRig,
  type StorageServers,
  startCaptureRig,
  startStorageServers,
} from "./capture-rig.ts";
import { type BenchReport, corpusDir, listCorpusIds } from "./extraction.ts";
import { processTree, readMemory } from "./memory.ts";
import { type EditFigures, editsBothWays, processed, scheduledCapture } from "./probe-edits.ts";
import { spreadSample, startCorpusServer } from "./settling.ts";
import { bytes, median, ms, ratio } from "./stats.ts";

const SAMPLE_EVERY_MS = 50;

/** One page's unchanged recaptures, both ways. */
interface PageTimes {
  name: string;
  serverRendered: boolean;
  reason?: string;
  browser: number[];
  probe: number[];
  /** Methods the probe-first recaptures ended with. */
  methods: string[];
  /** Storage work of each way's recaptures, summed (see `Work`). */
  browserWork: Work;
  probeWork: Work;
}

/** DynamoDB capacity (with the index copies AWS would charge) and S3 requests, as the rig counts them. */
interface Work {
  recaptures: number;
  rcu: number;
  wcu: number;
  s3Requests: number;
}

const noWork = (): Work => ({ recaptures: 0, rcu: 0, wcu: 0, s3Requests: 0 });

function addWork(work: Work, counters: CaptureRig["counters"]): void {
  work.recaptures++;
  work.rcu += counters.readCapacityUnits;
  work.wcu += counters.writeCapacityUnits + counters.indexWriteUnits;
  work.s3Requests += counters.total("PutObjectCommand", "HeadObjectCommand", "GetObjectCommand");
}

/** First captures (browser, learning), then `rounds` unchanged recaptures each way per page. */
async function timeRecaptures(
  rig: CaptureRig,
  pages: ReadonlyArray<{ name: string; url: string }>,
  rounds: number,
): Promise<PageTimes[]> {
  // The browser way is a browser recapture with probes on (as every PROBE_BROWSER_EVERY-th one
  // is), not PROBE=off: a browser capture with probes off clears what the URL learned, and the
  // probe way that follows would find nothing to vouch with.
  const probe = rig.deps.probe;
  if (!probe) throw new Error("the rig's worker has probes off");
  const browserOnly: ProcessCaptureDeps = { ...rig.deps, probe: { ...probe, browserEvery: 1 } };
  const results: PageTimes[] = [];
  for (const page of pages) {
    const first = await rig.submit(page.url, "adaptive");
    await rig.process(first);
    const url = await rig.repository.getUrl(urlIdFor(normaliseUrl(page.url)));
    results.push({
      name: page.name,
      serverRendered: url?.probe?.serverRendered === true,
      ...(url?.probe?.reason ? { reason: url.probe.reason } : {}),
      browser: [],
      probe: [],
      methods: [],
      browserWork: noWork(),
      probeWork: noWork(),
    });
  }
  for (let round = 0; round < rounds; round++) {
    for (const [index, page] of pages.entries()) {
      const times = results[index] as PageTimes;
      const runBrowser = async () => {
        const id = await scheduledCapture(rig, page.url);
        rig.counters.reset();
        const started = performance.now();
        await processed(browserOnly, id);
        times.browser.push(performance.now() - started);
        addWork(times.browserWork, rig.counters);
      };
      const runProbe = async () => {
        const id = await scheduledCapture(rig, page.url);
        rig.counters.reset();
        const started = performance.now();
        const capture = await processed(rig.deps, id);
        times.probe.push(performance.now() - started);
        if (capture.method === "http") addWork(times.probeWork, rig.counters);
        times.methods.push(capture.method ?? "browser");
      };
      if ((round + index) % 2 === 0) {
        await runBrowser();
        await runProbe();
      } else {
        await runProbe();
        await runBrowser();
      }
    }
  }
  return results;
}

interface LatencySummary {
  pages: number;
  serverRendered: number;
  /** Probe-first recaptures that ended over HTTP, of all probe-first recaptures. */
  overHttp: number;
  probeFirst: number;
  /** Medians of per-page medians, over the server-rendered pages. */
  browserP50: number;
  probeP50: number;
  /** Over all pages (the others fall to the browser). */
  browserAllP50: number;
  probeAllP50: number;
  notServerRendered: string[];
  /** Per unchanged recapture, in the browser (server-rendered pages) and over HTTP. */
  browserWork: Work;
  probeWork: Work;
}

function perRecapture(works: readonly Work[]): Work {
  const sum = works.reduce(
    (a, w) => ({
      recaptures: a.recaptures + w.recaptures,
      rcu: a.rcu + w.rcu,
      wcu: a.wcu + w.wcu,
      s3Requests: a.s3Requests + w.s3Requests,
    }),
    noWork(),
  );
  const n = Math.max(1, sum.recaptures);
  return { recaptures: sum.recaptures, rcu: sum.rcu / n, wcu: sum.wcu / n, s3Requests: sum.s3Requests / n };
}

function summarise(times: readonly PageTimes[]): LatencySummary {
  const rendered = times.filter((t) => t.serverRendered);
  const methods = times.flatMap((t) => t.methods);
  return {
    pages: times.length,
    serverRendered: rendered.length,
    overHttp: methods.filter((m) => m === "http").length,
    probeFirst: methods.length,
    browserP50: median(rendered.map((t) => median(t.browser))),
    probeP50: median(rendered.map((t) => median(t.probe))),
    browserAllP50: median(times.map((t) => median(t.browser))),
    probeAllP50: median(times.map((t) => median(t.probe))),
    notServerRendered: times.filter((t) => !t.serverRendered).map((t) => `${t.name}: ${t.reason ?? "?"}`),
    browserWork: perRecapture(rendered.map((t) => t.browserWork)),
    probeWork: perRecapture(rendered.map((t) => t.probeWork)),
  };
}

async function benchPagesLatency(site: FixtureSite, rounds: number): Promise<PageTimes[]> {
  const host = new URL(site.origin).host;
  const rig = await startCaptureRig({
    allowedHost: host,
    config: loadCaptureConfig({ ALLOW_PRIVATE_HOSTS: host }),
  });
  try {
    const tag = `probe-${Date.now()}`;
    return await timeRecaptures(
      rig,
      BENCH_PAGES.map((p) => ({ name: p.name, url: pageUrl(site, p, tag) })),
      rounds,
    );
  } finally {
    await rig.close();
  }
}

async function realPagesLatency(count: number, rounds: number): Promise<PageTimes[] | null> {
  const dir = corpusDir();
  let ids: string[];
  try {
    ids = spreadSample(listCorpusIds(dir), count);
  } catch {
    return null;
  }
  if (ids.length === 0) return null;
  const server = await startCorpusServer(ids, dir);
  const host = new URL(server.origin).host;
  const rig = await startCaptureRig({
    allowedHost: host,
    config: loadCaptureConfig({ ALLOW_PRIVATE_HOSTS: host }),
    createCapturer: (options) =>
      createChromiumPageCapturer({ ...options, extraArgs: [NO_DNS], egress: loopbackEgress() }),
  });
  try {
    return await timeRecaptures(
      rig,
      ids.map((id) => ({ name: id, url: `${server.origin}/page/${id}.html` })),
      rounds,
    );
  } finally {
    await rig.close();
    await server.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Memory: a child process recaptures the learned bench pages one way; this one samples its tree.

interface MemoryJob {
  servers: Omit<StorageServers, "close" | "dir">;
  allowedHost: string;
  captureIds: string[];
  probe: boolean;
}

interface MemoryPeak {
  treeRss: number;
  nodeRss: number;
  browserRss: number;
  processes: number;
  methods: string[];
}

async function measureMemoryOneWay(job: MemoryJob): Promise<MemoryPeak> {
  const child = spawn(process.execPath, [import.meta.filename, "--worker", JSON.stringify(job)], {
    env: { ...process.env, LOG_LEVEL: "silent" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error("the worker did not start");
  const peak: MemoryPeak = { treeRss: 0, nodeRss: 0, browserRss: 0, processes: 0, methods: [] };
  let output = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    output += chunk;
  });
  const sampler = setInterval(() => {
    const tree = processTree(pid);
    let rss = 0;
    let browser = 0;
    for (const member of tree) {
      const memory = readMemory(member).rss;
      rss += memory;
      if (member === pid) peak.nodeRss = Math.max(peak.nodeRss, memory);
      else browser += memory;
    }
    peak.treeRss = Math.max(peak.treeRss, rss);
    peak.browserRss = Math.max(peak.browserRss, browser);
    peak.processes = Math.max(peak.processes, tree.length);
  }, SAMPLE_EVERY_MS);
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  clearInterval(sampler);
  const done = output.split("\n").find((line) => line.startsWith("done "));
  if (code !== 0 || !done) throw new Error(`the worker exited with ${code}`);
  peak.methods = JSON.parse(done.slice(5)) as string[];
  return peak;
}

async function runMemoryWorker(job: MemoryJob): Promise<void> {
  const rig = await connectCaptureRig(job.servers, {
    allowedHost: job.allowedHost,
    // The browser way: probes on, every recapture in the browser (PROBE=off would clear the
    // learning the probe way needs).
    config: loadCaptureConfig({
      ALLOW_PRIVATE_HOSTS: job.allowedHost,
      ...(job.probe ? {} : { PROBE_BROWSER_EVERY: "1" }),
    }),
  });
  const methods: string[] = [];
  try {
    for (const id of job.captureIds) methods.push((await processed(rig.deps, id)).method ?? "browser");
  } finally {
    await rig.close();
  }
  console.log(`done ${JSON.stringify(methods)}`);
}

async function memoryBothWays(
  site: FixtureSite,
  rounds: number,
): Promise<{ probe: MemoryPeak; browser: MemoryPeak; captures: number }> {
  const servers = await startStorageServers();
  const host = new URL(site.origin).host;
  try {
    const rig = await connectCaptureRig(servers, {
      allowedHost: host,
      config: loadCaptureConfig({ ALLOW_PRIVATE_HOSTS: host }),
    });
    const urls: string[] = [];
    try {
      for (const page of BENCH_PAGES) {
        const url = pageUrl(site, page, `probe-memory-${Date.now()}`);
        await rig.process(await rig.submit(url, "adaptive"));
        if ((await rig.repository.getUrl(urlIdFor(normaliseUrl(url))))?.probe?.serverRendered) urls.push(url);
      }
    } finally {
      await rig.close();
    }
    const jobFor = async (probe: boolean): Promise<MemoryJob> => {
      const captureIds: string[] = [];
      // Fewer than PROBE_BROWSER_EVERY recaptures of each URL, so the probe side stays over HTTP.
      for (let round = 0; round < Math.min(rounds, 4); round++) {
        for (const url of urls) captureIds.push(await scheduledCapture(rig, url));
      }
      const { close: _close, ...reachable } = servers;
      return { servers: reachable, allowedHost: host, captureIds, probe };
    };
    const browser = await measureMemoryOneWay(await jobFor(false));
    const probe = await measureMemoryOneWay(await jobFor(true));
    return { probe, browser, captures: browser.methods.length };
  } finally {
    await servers.close();
  }
}

// ---------------------------------------------------------------------------------------------

export async function runProbeBench(
  options: { pages?: number; rounds?: number; editPairs?: number; noisePairs?: number } = {},
): Promise<BenchReport> {
  const rounds = options.rounds ?? 3;
  const site = await startFixtureSite();
  registerSyntheticPages(site);
  let bench: LatencySummary;
  let real: LatencySummary | null;
  let memory: Awaited<ReturnType<typeof memoryBothWays>>;
  let edits: EditFigures | null;
  try {
    bench = summarise(await benchPagesLatency(site, rounds));
    const realTimes = await realPagesLatency(options.pages ?? 12, rounds);
    real = realTimes ? summarise(realTimes) : null;
    memory = await memoryBothWays(site, rounds);
    edits = await editsBothWays(site, options.editPairs ?? 36, options.noisePairs ?? 12);
  } finally {
    await site.close();
  }

  const row = (name: string, s: LatencySummary) =>
    `| ${name} | ${s.serverRendered}/${s.pages} | ${s.overHttp}/${s.probeFirst} | ${ms(s.browserP50)} | **${ms(s.probeP50)}** | **${ratio(s.browserP50 / Math.max(1, s.probeP50))}** | ${ms(s.browserAllP50)} / ${ms(s.probeAllP50)} |`;
  const lines = [
    "## Recaptures without a browser",
    "",
    "An unchanged scheduled recapture settled by the HTTP probe (one conditional GET, the same extractor,",
    "noise rules and hash as a browser capture) against the same recapture in the browser (probes on,",
    `every recapture in the browser, as every 10th is), on the capture worker's real path with the embedded S3 and DynamoDB; each page first`,
    `captured in the browser, which learns whether it is server-rendered, then ${rounds} rounds of both ways in`,
    "alternating order. Times are `processCapture` end to end (storage writes included). Real pages: the",
    "WCXB corpus sample served from 127.0.0.1 (no ETag, so every probe is a full GET and a re-extraction).",
    "",
    "| pages | server-rendered | probe-first recaptures over HTTP | browser p50 | probe p50 | browser / probe | all pages: browser / probe-first p50 |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    row("bench pages", bench),
    ...(real ? [row("real pages (WCXB)", real)] : ["| real pages | corpus not found: skipped | | | | | |"]),
    "",
    "p50: the median over the server-rendered pages of each page's median; the last column over every",
    "page (pages that are not server-rendered go to the browser after the probe step, which costs a",
    "DynamoDB read of the noise rules and nothing else).",
    "",
    "Storage work per unchanged recapture of a server-rendered bench page (the worker's share; the sweep's",
    "is the same both ways): DynamoDB read units, write units with the index copies AWS charges (as the",
    "storage section estimates them), S3 requests.",
    "",
    "| way | recaptures | DynamoDB RCU | DynamoDB WCU (with index copies) | S3 requests |",
    "| --- | ---: | ---: | ---: | ---: |",
    `| browser | ${bench.browserWork.recaptures} | ${bench.browserWork.rcu.toFixed(1)} | ${bench.browserWork.wcu.toFixed(1)} | ${bench.browserWork.s3Requests.toFixed(1)} |`,
    `| over HTTP | ${bench.probeWork.recaptures} | ${bench.probeWork.rcu.toFixed(1)} | ${bench.probeWork.wcu.toFixed(1)} | ${bench.probeWork.s3Requests.toFixed(1)} |`,
    "",
    `Not server-rendered (bench pages): ${bench.notServerRendered.join("; ") || "none"}.`,
    ...(real ? [`Not server-rendered (real pages): ${real.notServerRendered.length} of ${real.pages}.`] : []),
    "",
    `**Memory**, peak of the worker's process tree while it recaptures the ${memory.captures / Math.max(1, Math.min(rounds, 4))} server-rendered bench pages`,
    `${Math.min(rounds, 4)} times each (${memory.captures} recaptures, in a child process, sampled every ${SAMPLE_EVERY_MS} ms):`,
    "",
    "| way | recaptures over HTTP | processes | Node RSS | Chromium RSS | whole tree RSS |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    `| browser | ${memory.browser.methods.filter((m) => m === "http").length}/${memory.browser.methods.length} | ${memory.browser.processes} | ${bytes(memory.browser.nodeRss)} | ${bytes(memory.browser.browserRss)} | ${bytes(memory.browser.treeRss)} |`,
    `| probe | ${memory.probe.methods.filter((m) => m === "http").length}/${memory.probe.methods.length} | ${memory.probe.processes} | ${bytes(memory.probe.nodeRss)} | ${bytes(memory.probe.browserRss)} | **${bytes(memory.probe.treeRss)}** |`,
    "",
  ];
  if (edits) {
    lines.push(
      `**Edits.** ${edits.endToEnd} of the edit-detection section's ${edits.pairs} substantive pairs (same seed), spread`,
      `over its categories, each side served as a plain news page, and ${edits.noisePairs} of its page-noise pairs (a corpus`,
      "page with two sets of injected furniture), each run twice on the worker (first capture, the change, a",
      "scheduled recapture): probe-then-browser, and the browser alone. The browser alone found an edit in",
      `${edits.browserFlagged}; the two ways **disagreed on ${edits.disagreed.length}** (edit found or not, significance, kinds);`,
      `the probe settled ${edits.settledOverHttp} recaptures over HTTP (each one a pair the browser, too, recorded as`,
      "unchanged, or it would be a disagreement) and declined the others, which the browser then captured.",
      ...(edits.disagreed.length > 0 ? ["", ...edits.disagreed.slice(0, 5).map((d) => `- ${d}`)] : []),
    );
  }
  const figures: Record<string, number> = {
    benchServerRendered: bench.serverRendered,
    benchBrowserP50Ms: Math.round(bench.browserP50),
    benchProbeP50Ms: Math.round(bench.probeP50),
    benchRatio: Math.round((bench.browserP50 / Math.max(1, bench.probeP50)) * 10) / 10,
    browserWcu: Math.round(bench.browserWork.wcu * 10) / 10,
    probeWcu: Math.round(bench.probeWork.wcu * 10) / 10,
    browserRcu: Math.round(bench.browserWork.rcu * 10) / 10,
    probeRcu: Math.round(bench.probeWork.rcu * 10) / 10,
    memoryProbeTreeRss: memory.probe.treeRss,
    memoryBrowserTreeRss: memory.browser.treeRss,
    ...(real
      ? {
          realPages: real.pages,
          realServerRendered: real.serverRendered,
          realBrowserP50Ms: Math.round(real.browserP50),
          realProbeP50Ms: Math.round(real.probeP50),
          realRatio: Math.round((real.browserP50 / Math.max(1, real.probeP50)) * 10) / 10,
        }
      : {}),
    ...(edits
      ? {
          editPairs: edits.endToEnd,
          editsFlagged: edits.browserFlagged,
          editsDisagreed: edits.disagreed.length,
        }
      : {}),
  };
  return { markdown: lines.join("\n"), figures };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      pages: { type: "string" },
      rounds: { type: "string" },
      "edit-pairs": { type: "string" },
      "noise-pairs": { type: "string" },
      worker: { type: "string" },
    },
  });
  if (values.worker) {
    await runMemoryWorker(JSON.parse(values.worker) as MemoryJob);
  } else {
    const report = await runProbeBench({
      ...(values.pages ? { pages: Number(values.pages) } : {}),
      ...(values.rounds ? { rounds: Number(values.rounds) } : {}),
      ...(values["edit-pairs"] ? { editPairs: Number(values["edit-pairs"]) } : {}),
      ...(values["noise-pairs"] ? { noisePairs: Number(values["noise-pairs"]) } : {}),
    });
    console.log(report.markdown);
    console.log(JSON.stringify(report.figures));
  }
}
