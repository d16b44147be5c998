/**
 * `npm run bench`: runs the benchmark sections and rewrites BENCHMARKS.md.
 *
 * Each section is a module that returns its markdown and figures (or null when it cannot run
 * here, e.g. without the corpus). A section that was not run this time (filtered out with
 * `--only`, or skipped) keeps what BENCHMARKS.md already said about it, so a partial run never
 * erases earlier measurements. To add a section, append it to SECTIONS.
 *
 *   node bench/run.ts [--only extraction[,other]] [--no-write] [--list]
 */

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { arch, cpus, platform, release, totalmem } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { runBundlesBench } from "./bundles.ts";
import { runCaptureLatencyBench } from "./capture.ts";
import { runRealCaptureLatencyBench } from "./capture-real.ts";
import { runApiInitBench, runCompositionBench } from "./composition.ts";
import { runDiffBench } from "./diff.ts";
import { runEditDetectionBench } from "./edit-detection.ts";
import { runEvidenceBench } from "./evidence.ts";
import { type BenchReport, runExtractionBench } from "./extraction.ts";
import { runHostileGuardsBench } from "./hostile-guards.ts";
import { runMemoryBench } from "./memory.ts";
import { runProbeBench } from "./probe.ts";
import { runS3FrontBench } from "./s3-front.ts";
import { runScaleBench } from "./scale.ts";
import { runSettlingBench } from "./settling.ts";
import { runSourcesBench } from "./sources.ts";
import { runStorageBench } from "./storage.ts";
import { runSweepBench } from "./sweep.ts";
import { runThroughputBench } from "./throughput.ts";
import { runValidityBench } from "./validity.ts";

export interface BenchSection {
  /** Stable id used by `--only` and in the markers of BENCHMARKS.md. */
  name: string;
  summary: string;
  run(): Promise<BenchReport | null>;
}

export const SECTIONS: readonly BenchSection[] = [
  {
    name: "extraction",
    summary: "article extraction quality and speed vs Readability.js (WCXB corpus)",
    run: () => runExtractionBench(),
  },
  {
    name: "edit-detection",
    summary: "noise pairs flag nothing, substantive edits flagged right (WCXB corpus)",
    run: () => runEditDetectionBench(),
  },
  {
    name: "validity",
    summary: "capture validity: precision/recall of ok (WCXB corpus + wall pages), false edits from walls",
    run: () => runValidityBench(),
  },
  {
    name: "diff",
    summary: "diff time at 10 KB to 1 MB: edits, rewrites, adversarial inputs",
    run: () => runDiffBench(),
  },
  {
    name: "capture",
    summary: "capture latency p50/p95: the whole capture path vs a bare Playwright load + screenshot",
    run: () => runCaptureLatencyBench(),
  },
  {
    name: "capture-real",
    summary: "capture latency on 40 real news pages (WCXB corpus): the whole capture path vs a bare load",
    run: () => runRealCaptureLatencyBench(),
  },
  {
    name: "settling",
    summary: "default settling vs a patient load (1 s quiet): same article and visible text? (WCXB corpus)",
    run: () => runSettlingBench(),
  },
  {
    name: "hostile-guards",
    summary: "capture latency with and without the renderer memory watch and the per-response watch",
    run: () => runHostileGuardsBench(),
  },
  {
    name: "evidence",
    summary: "recording every exchange + signed WACZ per version: capture latency on vs off, WACZ size",
    run: () => runEvidenceBench(),
  },
  {
    name: "s3-front",
    summary: "the embedded S3's verifying front (npm start): store phase and whole capture, on vs off",
    run: () => runS3FrontBench(),
  },
  {
    name: "throughput",
    summary: "captures per minute of the local runner at worker concurrency 1 and 2",
    run: () => runThroughputBench(),
  },
  {
    name: "storage",
    summary: "S3 bytes and requests, DynamoDB capacity per first capture and unchanged recapture",
    run: () => runStorageBench(),
  },
  {
    name: "memory",
    summary: "peak RSS of the capture worker (Node + Chromium) on the bench pages",
    run: () => runMemoryBench(),
  },
  {
    name: "bundles",
    summary: "Lambda bundle sizes and cold init, Chromium unpack and launch",
    run: () => runBundlesBench(),
  },
  {
    name: "composition",
    summary: "the composition root before and after: capture handler latency, API bundle size and cold init",
    run: () => runCompositionBench(),
  },
  {
    name: "api-init",
    summary: "the API's cold init before the composition root and now, with and without Node's source maps",
    run: () => runApiInitBench(),
  },
  {
    name: "sweep",
    summary: "the sweeper over 100,000 due URLs in the embedded DynamoDB; a second sweep enqueues none",
    run: () => runSweepBench(),
  },
  {
    name: "scale",
    summary:
      "simulated sweeps of 100,000 URLs over 1,000 Zipf hosts: messages per capture, deferrals, hot partitions",
    run: () => runScaleBench(),
  },
  {
    name: "probe",
    summary:
      "unchanged recaptures over HTTP vs in the browser: latency and memory (bench and real pages), edits both ways",
    run: () => runProbeBench(),
  },
  {
    name: "sources",
    summary:
      "1,000 followed feeds of 50 entries polled in one sweep: polls/s, new URLs/s, writes per article",
    run: () => runSourcesBench(),
  },
];

const BENCHMARKS_FILE = resolve(import.meta.dirname, "../BENCHMARKS.md");

/** Where this run happened, in one line. */
export function describeMachine(): string {
  const cpu = cpus();
  const model = cpu[0]?.model.trim() ?? "unknown CPU";
  const memory = `${Math.round(totalmem() / 2 ** 30)} GiB`;
  return `${platform()} ${release()} ${arch()}, ${model}, ${cpu.length} cores, ${memory}, Node ${process.version}`;
}

const marker = (name: string, end = false): string => `<!-- ${end ? "/" : ""}bench:${name} -->`;

/** The sections already in BENCHMARKS.md, by name. */
function readPreviousSections(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const section of SECTIONS) {
    const start = text.indexOf(marker(section.name));
    const end = text.indexOf(marker(section.name, true));
    if (start !== -1 && end > start)
      out.set(section.name, text.slice(start + marker(section.name).length, end).trim());
  }
  return out;
}

export function renderBenchmarks(sections: ReadonlyMap<string, string>, generatedAt: Date): string {
  const parts = [
    "# Benchmarks",
    "",
    "Generated by `npm run bench` (`node bench/run.ts`); do not edit by hand. Each section says when",
    "and where it was measured; `--only <section>` re-measures one section and keeps the others.",
    `Last run: ${generatedAt.toISOString()}.`,
    "",
  ];
  for (const section of SECTIONS) {
    parts.push(
      marker(section.name),
      sections.get(section.name) ?? "_Not measured yet._",
      marker(section.name, true),
      "",
    );
  }
  return parts.join("\n");
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: "string" },
      "no-write": { type: "boolean", default: false },
      list: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help || values.list) {
    console.log("usage: node bench/run.ts [--only name[,name]] [--no-write] [--list]\n\nsections:");
    for (const s of SECTIONS) console.log(`  ${s.name.padEnd(15)} ${s.summary}`);
    return 0;
  }
  const wanted = values.only?.split(",").map((s) => s.trim()) ?? SECTIONS.map((s) => s.name);
  const unknown = wanted.filter((name) => !SECTIONS.some((s) => s.name === name));
  if (unknown.length > 0) {
    console.error(`bench: unknown section(s): ${unknown.join(", ")} (try --list)`);
    return 2;
  }

  const previous = existsSync(BENCHMARKS_FILE)
    ? readPreviousSections(readFileSync(BENCHMARKS_FILE, "utf8"))
    : new Map<string, string>();
  const sections = new Map(previous);
  const machine = describeMachine();
  const failed: string[] = [];
  for (const section of SECTIONS.filter((s) => wanted.includes(s.name))) {
    console.log(`bench: ${section.name}…`);
    const started = Date.now();
    let report: BenchReport | null;
    try {
      report = await section.run();
    } catch (err) {
      // The other sections still run, and what was measured is kept.
      console.error(`bench: ${section.name} failed; BENCHMARKS.md keeps its earlier figures.`, err);
      failed.push(section.name);
      continue;
    }
    if (report === null) {
      console.log(`bench: ${section.name} skipped; BENCHMARKS.md keeps its earlier figures.`);
      continue;
    }
    const stamp = `_Measured ${new Date().toISOString()} on ${machine}; took ${((Date.now() - started) / 1000).toFixed(1)} s._`;
    sections.set(section.name, `${report.markdown}\n\n${stamp}`);
    console.log(`${report.markdown}\n`);
    console.log(JSON.stringify({ section: section.name, ...report.figures }));
    // Written after every section: a later one that fails, or a stopped run, loses nothing measured.
    if (!values["no-write"]) {
      writeFileSync(BENCHMARKS_FILE, renderBenchmarks(sections, new Date()));
      console.log(`bench: wrote ${BENCHMARKS_FILE}`);
    }
  }
  if (failed.length > 0) {
    console.error(`bench: failed: ${failed.join(", ")}`);
    return 1;
  }
  return 0;
}

if (import.meta.main) process.exitCode = await main();
