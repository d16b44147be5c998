/**
 * What the evidence package costs (issue 16): two capture workers in this one process on the same
 * embedded S3 and DynamoDB, one recording every exchange and storing a signed WACZ per new version
 * (the production path), one with recording off and no signer. They capture the bench pages
 * interleaved, the order alternating every round, each capture a first capture (a new version).
 * Figures: the medians of the whole capture (`processCapture`: browser, extraction, storing,
 * packaging and signing, recording) and of the browser's part alone, with and without recording;
 * the WACZ's size against the snapshot's; and what an unchanged recapture adds for evidence.
 *
 *   node bench/evidence.ts [--rounds 4]
 */

import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createChromiumPageCapturer } from "../shared/adapters/chromium/page-capturer.ts";
import { openLocalKeySigner } from "../shared/adapters/local-key-signer.ts";
import { loadCaptureConfig } from "../shared/config.ts";
import type { BlobStore } from "../shared/ports.ts";
import { startFixtureSite } from "../test/support/fixture-site.ts";
import { BENCH_PAGES, pageUrl, registerSyntheticPages } from "./bench-pages.ts";
import { type CaptureRig, connectCaptureRig, startStorageServers } from "./capture-rig.ts";
import type { BenchReport } from "./extraction.ts";
import { bytes, median, ms, ratio, verdict } from "./stats.ts";

/** The issue's bound: recording may cost at most this much of a capture's median time. */
export const RECORDING_TARGET = 1.15;

export interface EvidenceFigures {
  rounds: number;
  pages: Array<{
    name: string;
    onP50: number;
    offP50: number;
    browserOnP50: number;
    browserOffP50: number;
    waczBytes: number;
    snapshotBytes: number;
  }>;
  onP50: number;
  offP50: number;
  browserOnP50: number;
  browserOffP50: number;
  /** Bytes of evidence (capture.wacz) stored by unchanged recaptures, per recapture. */
  recaptureWaczBytes: number;
  recaptures: number;
  loadBefore: number;
  loadAfter: number;
}

/** Notes every `capture.wacz` put (and its size) of a rig's worker. */
function countWaczPuts(rig: CaptureRig): number[] {
  const sizes: number[] = [];
  const blobs: BlobStore = rig.deps.blobs;
  rig.deps.blobs = {
    ...blobs,
    putBlob: (body, meta, options) => {
      if (meta.fileName === "capture.wacz") sizes.push(body.length);
      return blobs.putBlob(body, meta, options);
    },
  };
  return sizes;
}

export async function measureEvidence(options: { rounds?: number } = {}): Promise<EvidenceFigures> {
  const rounds = options.rounds ?? 4;
  const site = await startFixtureSite();
  registerSyntheticPages(site);
  const servers = await startStorageServers();
  const keyDir = await mkdtemp(join(tmpdir(), "palimpsest-bench-key-"));
  const allowedHost = new URL(site.origin).host;
  const config = loadCaptureConfig({});
  const on = await connectCaptureRig(servers, {
    allowedHost,
    config,
    signer: await openLocalKeySigner(join(keyDir, "signing-key.pem")),
  });
  const off = await connectCaptureRig(servers, {
    allowedHost,
    config,
    createCapturer: (o) => createChromiumPageCapturer({ ...o, recording: false }),
  });
  const waczPuts = countWaczPuts(on);
  type Sample = { total: number; browser: number };
  const samples = new Map<string, { on: Sample[]; off: Sample[]; wacz: number[]; snapshot: number[] }>();
  const loadBefore = loadavg()[0] ?? 0;
  let recaptures = 0;
  let recaptureWacz = 0;
  try {
    const once = async (rig: CaptureRig, url: string) => {
      const outcome = await rig.process(await rig.submit(url));
      if (outcome.kind !== "succeeded") throw new Error(`${url}: ${JSON.stringify(outcome)}`);
      return outcome.capture;
    };
    // Warm both browsers (launch, first context) before anything is timed.
    for (const rig of [on, off]) await once(rig, site.url("/static-article.html?bench=warm"));
    for (let round = 0; round < rounds; round++) {
      for (const page of BENCH_PAGES) {
        const entry = samples.get(page.name) ?? { on: [], off: [], wacz: [], snapshot: [] };
        samples.set(page.name, entry);
        const url = pageUrl(site, page, `evidence-${round}`);
        const order = round % 2 === 0 ? ([on, off] as const) : ([off, on] as const);
        for (const rig of order) {
          const capture = await once(rig, `${url}&${rig === on ? "on" : "off"}`);
          const sample = {
            total: capture.timings?.total ?? Number.NaN,
            browser: rig.capturerTimes.at(-1) ?? Number.NaN,
          };
          if (rig === on) {
            entry.on.push(sample);
            const wacz = capture.artifacts?.wacz;
            if (!wacz) throw new Error(`${url}: no wacz on a first capture`);
            entry.wacz.push(wacz.bytes);
            entry.snapshot.push(capture.artifacts?.snapshot?.bytes ?? Number.NaN);
          } else {
            entry.off.push(sample);
          }
        }
        if (round === 0) {
          // The same page again, unchanged: what it adds for evidence.
          const before = waczPuts.length;
          const again = await once(on, `${url}&on`);
          if (again.changed !== false) throw new Error(`${url}: the recapture was not unchanged`);
          recaptures++;
          recaptureWacz += waczPuts.slice(before).reduce((a, b) => a + b, 0);
        }
      }
    }
  } finally {
    await Promise.all([on.close(), off.close()]);
    await servers.close();
    await site.close();
    await rm(keyDir, { recursive: true, force: true });
  }
  const pages = [...samples].map(([name, s]) => ({
    name,
    onP50: median(s.on.map((x) => x.total)),
    offP50: median(s.off.map((x) => x.total)),
    browserOnP50: median(s.on.map((x) => x.browser)),
    browserOffP50: median(s.off.map((x) => x.browser)),
    waczBytes: median(s.wacz),
    snapshotBytes: median(s.snapshot),
  }));
  const all = [...samples.values()];
  return {
    rounds,
    pages,
    onP50: median(all.flatMap((s) => s.on.map((x) => x.total))),
    offP50: median(all.flatMap((s) => s.off.map((x) => x.total))),
    browserOnP50: median(all.flatMap((s) => s.on.map((x) => x.browser))),
    browserOffP50: median(all.flatMap((s) => s.off.map((x) => x.browser))),
    recaptureWaczBytes: recaptures > 0 ? recaptureWacz / recaptures : Number.NaN,
    recaptures,
    loadBefore,
    loadAfter: loadavg()[0] ?? 0,
  };
}

export async function runEvidenceBench(options: { rounds?: number } = {}): Promise<BenchReport> {
  const f = await measureEvidence(options);
  const wholeRatio = f.onP50 / f.offP50;
  const perPage = f.pages.map((p) => p.onP50 / p.offP50);
  const rows = f.pages.map(
    (p) =>
      `| ${p.name} | ${ms(p.offP50)} | ${ms(p.onP50)} | ${ratio(p.onP50 / p.offP50)} | ${ratio(p.browserOnP50 / p.browserOffP50)} | ${bytes(p.snapshotBytes)} | ${bytes(p.waczBytes)} | ${ratio(p.waczBytes / p.snapshotBytes)} |`,
  );
  const markdown = `## Evidence (WACZ): recording on vs off

What recording every exchange and storing a signed WACZ per new version costs: two capture
workers in one process on the same embedded S3 and DynamoDB, one as in production (recording
through the browser's network view, WACZ built, signed with a local P-256 key and stored), one with
recording off and no signer; ${f.rounds} rounds over the bench pages, interleaved, order
alternating, every capture a first capture (a new version). "Whole capture" is \`processCapture\`
(browser, extraction, storing, packaging, signing); "browser" is the capturer's part alone.
Medians. Load average (1 min) ${f.loadBefore.toFixed(1)} before, ${f.loadAfter.toFixed(1)} after,
on ${cpus().length} cores.

| Page | Whole capture, off | Whole capture, on | Ratio | Browser ratio | Snapshot | WACZ | WACZ / snapshot |
| --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join("\n")}
| **All pages** | **${ms(f.offP50)}** | **${ms(f.onP50)}** | **${ratio(wholeRatio)}** | **${ratio(f.browserOnP50 / f.browserOffP50)}** | | | |

Target: recording costs at most ${ratio(RECORDING_TARGET)} of the whole capture — ${verdict(wholeRatio <= RECORDING_TARGET)}.${
    f.loadBefore > cpus().length
      ? ` The machine was loaded past its ${cpus().length} cores while this ran (other work shared
them): per-page ratios spread from ${ratio(Math.min(...perPage))} to ${ratio(Math.max(...perPage))}, so single pages
say more about the load than about recording; the all-pages medians are the figure.`
      : ""
  }

The browser's part is reading every body over the DevTools protocol (the snapshot's collector
shares those reads). The rest is packaging: the WARC, its index and the signature, started
before the capture is judged when its text differs from the latest version's (and given up
when the capture makes no version), then one more upload. Records of bodies deflate cannot shrink
(images, media, woff2, archives) are stored in level-0 gzip members, and the page's raw body and
screenshot are views of the buffers the recorder already holds, not copies. The package holds the snapshot, the screenshot and the article again as \`resource\`
records beside every exchange, so on a light page most of its size is the screenshot, and on the
image-heavy page it is the images twice (as exchanges, and inlined in the snapshot).

Unchanged recaptures (${f.recaptures}, one per page): ${bytes(f.recaptureWaczBytes)} of evidence
each. They point at the version, whose package already holds the same article; no package is
built or stored for them.`;
  return {
    markdown,
    figures: {
      recordingRatio: wholeRatio,
      recordingBrowserRatio: f.browserOnP50 / f.browserOffP50,
      recordingOnP50: f.onP50,
      recordingOffP50: f.offP50,
      recaptureWaczBytes: f.recaptureWaczBytes,
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { rounds: { type: "string" } } });
  const report = await runEvidenceBench({ rounds: values.rounds ? Number(values.rounds) : undefined });
  console.log(report.markdown);
}
