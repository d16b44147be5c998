/**
 * What the embedded S3's verifying front (`npm start`, local/embedded-s3.ts) costs: two capture
 * workers in this one process, each on its own embedded S3 and DynamoDB, one behind the front
 * (signatures and expiry verified, write-once `blobs/`, bodies hashed), one on s3rver alone. They
 * capture the bench pages interleaved, the order alternating every round, every capture a first
 * capture (every artifact stored). Figures: medians of the store phase (`timings.store`, the
 * artifacts' uploads) and of the whole capture, front on and off, and their ratios.
 *
 *   node bench/s3-front.ts [--rounds 3]
 */
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { loadCaptureConfig } from "../shared/config.ts";
import { startFixtureSite } from "../test/support/fixture-site.ts";
import { BENCH_PAGES, pageUrl, registerSyntheticPages } from "./bench-pages.ts";
import {
  type CaptureRig,
  connectCaptureRig,
  type StorageServers,
  startStorageServers,
} from "./capture-rig.ts";
import type { BenchReport } from "./extraction.ts";
import { median, ms, ratio } from "./stats.ts";

export interface S3FrontFigures {
  rounds: number;
  captures: number;
  store: { on: number; off: number };
  total: { on: number; off: number };
  /** The whole capture less the browser's part: what storage can slow, without the browser's noise. */
  outside: { on: number; off: number };
  loadBefore: number;
  loadAfter: number;
}

export async function measureS3Front(options: { rounds?: number } = {}): Promise<S3FrontFigures> {
  const rounds = options.rounds ?? 3;
  const site = await startFixtureSite();
  registerSyntheticPages(site);
  const config = loadCaptureConfig({});
  const allowedHost = new URL(site.origin).host;
  const servers: StorageServers[] = [];
  const rigs: CaptureRig[] = [];
  const sample = () => ({ store: [] as number[], total: [] as number[], outside: [] as number[] });
  const samples = { on: sample(), off: sample() };
  const loadBefore = loadavg()[0] ?? 0;
  try {
    for (const s3Front of [true, false]) {
      const started = await startStorageServers({ s3Front });
      servers.push(started);
      rigs.push(await connectCaptureRig(started, { allowedHost, config }));
    }
    const [on, off] = rigs as [CaptureRig, CaptureRig];
    const captureOn = async (rig: CaptureRig, url: string) => {
      const outcome = await rig.process(await rig.submit(url));
      if (outcome.kind !== "succeeded") throw new Error(`${url}: ${JSON.stringify(outcome)}`);
      return outcome.capture.timings ?? {};
    };
    // Both browsers launched and warm before anything is timed.
    for (const rig of rigs) await captureOn(rig, site.url("/static-article.html?bench=warm"));
    for (let round = 0; round < rounds; round++) {
      for (const page of BENCH_PAGES) {
        const url = pageUrl(site, page, `s3-front-${round}`);
        for (const rig of round % 2 === 0 ? [on, off] : [off, on]) {
          const side = rig === on ? samples.on : samples.off;
          const timings = await captureOn(rig, `${url}&${rig === on ? "on" : "off"}`);
          side.store.push(timings.store ?? Number.NaN);
          side.total.push(timings.total ?? Number.NaN);
          side.outside.push((timings.total ?? Number.NaN) - (rig.capturerTimes.at(-1) ?? Number.NaN));
        }
      }
    }
  } finally {
    await Promise.all(rigs.map((rig) => rig.close()));
    await Promise.all(servers.map((server) => server.close()));
    await site.close();
  }
  return {
    rounds,
    captures: samples.on.total.length,
    store: { on: median(samples.on.store), off: median(samples.off.store) },
    total: { on: median(samples.on.total), off: median(samples.off.total) },
    outside: { on: median(samples.on.outside), off: median(samples.off.outside) },
    loadBefore,
    loadAfter: loadavg()[0] ?? 0,
  };
}

export async function runS3FrontBench(options: { rounds?: number } = {}): Promise<BenchReport> {
  const f = await measureS3Front(options);
  const markdown = `## Embedded S3 front (npm start): on vs off

What the verifying front before the local runner's s3rver costs (local/embedded-s3.ts: every
request's SigV4 signature and expiry checked, \`blobs/\` written once, each PUT body buffered and
hashed, one more loopback hop): two capture workers in one process, each on its own embedded S3
and DynamoDB, one behind the front as \`npm start\` runs, one on s3rver alone. ${f.rounds} rounds over
the bench pages, interleaved, order alternating; ${f.captures} first captures a side (every artifact
stored). Medians. Load average (1 min) ${f.loadBefore.toFixed(1)} before, ${f.loadAfter.toFixed(1)} after,
on ${cpus().length} cores.

| | Front off (s3rver alone) | Front on | Ratio |
| --- | --- | --- | --- |
| Store phase (\`timings.store\`: the artifacts' uploads) | ${ms(f.store.off)} | ${ms(f.store.on)} | ${ratio(f.store.on / f.store.off)} |
| After the browser (whole capture less the browser's part) | ${ms(f.outside.off)} | ${ms(f.outside.on)} | ${ratio(f.outside.on / f.outside.off)} |
| Whole capture (\`processCapture\`) | ${ms(f.total.off)} | ${ms(f.total.on)} | ${ratio(f.total.on / f.total.off)} |

The front touches only storage. The store phase can start before the browser has returned (the
capturer hands the page over early), so the rows do not add up; the whole capture's ratio also
carries the browser's own spread from one capture to the next, which the second row leaves out.${
    f.loadBefore > cpus().length
      ? `
The machine was loaded past its ${cpus().length} cores while this ran (other work shared them): the
ratios carry that load's noise, and a run can differ from the last by a third or more.`
      : ""
  }`;
  return {
    markdown,
    figures: {
      storeOnP50: f.store.on,
      storeOffP50: f.store.off,
      totalOnP50: f.total.on,
      totalOffP50: f.total.off,
      outsideOnP50: f.outside.on,
      outsideOffP50: f.outside.off,
      loadBefore: f.loadBefore,
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { rounds: { type: "string", default: "3" } } });
  const report = await runS3FrontBench({ rounds: Number(values.rounds) });
  console.log(report.markdown);
}
