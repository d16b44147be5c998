/**
 * Capture latency on real pages: our whole capture path against a bare Playwright load, as in the
 * capture section, but on a sample of the WCXB corpus's news articles instead of the six fixture
 * pages. The pages are served from 127.0.0.1; their subresources point at public hosts, which
 * neither browser reaches (no name resolves, and both go through an egress proxy that connects to
 * 127.0.0.1 only), so both load the same document with the same failures.
 *
 * Also compares what each kept: the visible text of our snapshot against the bare load's DOM (not
 * timed), so that a ratio is read knowing whether both did the same work.
 *
 *   node bench/capture-real.ts [--pages 40] [--rounds 2]
 */
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { chromiumLaunchArgs, resolveBundledChromium } from "../shared/adapters/chromium/browser-launch.ts";
import { createChromiumPageCapturer } from "../shared/adapters/chromium/page-capturer.ts";
import type { EgressSession } from "../shared/adapters/egress/types.ts";
import { loadCaptureConfig } from "../shared/config.ts";
import { loopbackEgress, NO_DNS } from "../test/support/loopback-browser.ts";
import { bareLoad, captureOurs } from "./capture.ts";
import { startCaptureRig } from "./capture-rig.ts";
import { type BenchReport, corpusDir, listCorpusIds } from "./extraction.ts";
import { spreadSample, startCorpusServer, tokenRecall, visibleTokens } from "./settling.ts";
import { geometricMean, median, ms, quantile, ratio, verdict } from "./stats.ts";

const LATENCY_TARGET = 1.3;
/** A page whose bare load lacks more than this share of our visible text did less work. */
const SAME_WORK_RECALL = 0.99;

export interface RealCaptureFigures {
  pages: number;
  rounds: number;
  failures: string[];
  oursP50: number;
  bareP50: number;
  /** Geometric mean over pages of each page's median ours / median bare. */
  ratioGeomean: number;
  pairedRatioP50: number;
  pairedRatioP95: number;
  pagesOverTarget: number;
  /** Pages where the bare load's text holds at least SAME_WORK_RECALL of ours. */
  sameWork: number;
  ratioGeomeanSameWork: number;
  retaken: number;
  fullQuiet: number;
  refused: number;
}

export async function measureRealCaptureLatency(
  options: { pages?: number; rounds?: number } = {},
): Promise<RealCaptureFigures | null> {
  const dir = corpusDir();
  let ids: string[];
  try {
    ids = spreadSample(listCorpusIds(dir), options.pages ?? 40);
  } catch {
    return null;
  }
  if (ids.length === 0) return null;
  const rounds = options.rounds ?? 2;
  const refused: string[] = [];
  const server = await startCorpusServer(ids, dir);
  const config = loadCaptureConfig({});
  const executablePath = config.chromiumPath ?? (await resolveBundledChromium());
  const rig = await startCaptureRig({
    allowedHost: new URL(server.origin).host,
    config,
    createCapturer: (capturerOptions) =>
      createChromiumPageCapturer({
        ...capturerOptions,
        extraArgs: [NO_DNS],
        egress: loopbackEgress(refused),
      }),
  });
  const bareEgress = loopbackEgress(refused);
  const bareSession: EgressSession = await bareEgress.openSession();
  const bare = await chromium.launch({
    executablePath,
    args: [...chromiumLaunchArgs(), NO_DNS],
    headless: true,
    proxy: { server: bareSession.proxyUrl, bypass: "<-loopback>" },
  });
  const perPage = ids.map((id) => ({ id, ours: [] as number[], bare: [] as number[], recall: 1 }));
  const paired: number[] = [];
  const failures: string[] = [];
  let retaken = 0;
  let fullQuiet = 0;
  try {
    const warm = `${server.origin}/page/${ids[0]}.html?warm-up`;
    await captureOurs(rig, warm);
    await bareLoad(bare, warm, async () => undefined);
    for (let round = 0; round < rounds; round++) {
      for (const [index, page] of perPage.entries()) {
        const url = `${server.origin}/page/${page.id}.html?round=${round}`;
        try {
          let oursMs = 0;
          let bareMs = 0;
          let oursHtml = "";
          let bareHtml = "";
          const runOurs = async () => {
            const result = await captureOurs(rig, url);
            oursMs = result.ms;
            oursHtml = result.html;
            if (result.capture.timings?.retaken) retaken++;
            if (result.capture.timings?.untracked) fullQuiet++;
          };
          const runBare = async () => {
            // The page's DOM is read after the timed part.
            const result = await bareLoad(bare, url, (tab) => tab.content());
            bareMs = result.ms;
            bareHtml = result.seen;
          };
          if ((round + index) % 2 === 0) {
            await runOurs();
            await runBare();
          } else {
            await runBare();
            await runOurs();
          }
          page.ours.push(oursMs);
          page.bare.push(bareMs);
          paired.push(oursMs / bareMs);
          if (round === 0) page.recall = tokenRecall(visibleTokens(bareHtml), visibleTokens(oursHtml));
        } catch (err) {
          failures.push(`${page.id}: ${(err as Error).message.slice(0, 200)}`);
        }
      }
    }
  } finally {
    await bare.close();
    await bareSession.close();
    await bareEgress.close();
    await rig.close();
    await server.close();
  }
  const measured = perPage.filter((p) => p.ours.length > 0 && p.bare.length > 0);
  const ratios = measured.map((p) => median(p.ours) / median(p.bare));
  const same = measured.filter((p) => p.recall >= SAME_WORK_RECALL);
  return {
    pages: measured.length,
    rounds,
    failures,
    oursP50: median(measured.map((p) => median(p.ours))),
    bareP50: median(measured.map((p) => median(p.bare))),
    ratioGeomean: geometricMean(ratios),
    pairedRatioP50: median(paired),
    pairedRatioP95: quantile(paired, 0.95),
    pagesOverTarget: ratios.filter((r) => r > LATENCY_TARGET).length,
    sameWork: same.length,
    ratioGeomeanSameWork: geometricMean(same.map((p) => median(p.ours) / median(p.bare))),
    retaken,
    fullQuiet,
    refused: refused.length,
  };
}

export async function runRealCaptureLatencyBench(
  options: { pages?: number; rounds?: number } = {},
): Promise<BenchReport | null> {
  const f = await measureRealCaptureLatency(options);
  if (!f) {
    console.log("capture-real: the corpus is not there (see bench/extraction.ts); skipped");
    return null;
  }
  const markdown = [
    "## Capture latency on real pages",
    "",
    `The capture section's comparison on ${f.pages} news articles of the WCXB corpus (spread evenly over it),`,
    `${f.rounds} rounds each, ours and bare in alternating order: **ours** is the whole capture path`,
    "(`processCapture` on the embedded S3 and DynamoDB), **bare** is `newPage` + `goto` + full-page",
    "JPEG screenshot + close, same binary and flags. Pages are served from 127.0.0.1; their",
    "subresources point at public hosts, which neither browser reaches (both go through an egress",
    "proxy that connects to 127.0.0.1 only), so both load the same document and fail the same",
    "requests. *Same work*: pages where the bare load's DOM holds at least 99 % of our snapshot's",
    "visible text (ours also removes cookie banners and loads lazy content).",
    "",
    "| figure | value |",
    "| --- | ---: |",
    `| pages measured | ${f.pages} (failed runs: ${f.failures.length}) |`,
    `| ours p50 / bare p50 (medians of the per-page medians) | ${ms(f.oursP50)} / ${ms(f.bareP50)} |`,
    `| **ratio, geometric mean of the per-page p50 ratios** | **${ratio(f.ratioGeomean)}** |`,
    `| ratio of the paired runs: median / p95 | ${ratio(f.pairedRatioP50)} / ${ratio(f.pairedRatioP95)} |`,
    `| pages over ${LATENCY_TARGET}× | ${f.pagesOverTarget}/${f.pages} |`,
    `| pages where both did the same work, and their ratio | ${f.sameWork}/${f.pages}, ${ratio(f.ratioGeomeanSameWork)} |`,
    `| our captures retaken / held to the full quiet window | ${f.retaken} / ${f.fullQuiet} of ${f.pages * f.rounds} |`,
    `| connections refused outside 127.0.0.1 | ${f.refused} |`,
    "",
    `Target ≤ ${LATENCY_TARGET}× bare: ${verdict(f.ratioGeomean <= LATENCY_TARGET)}.`,
    ...(f.failures.length > 0 ? ["", `Failed runs: ${f.failures.slice(0, 5).join("; ")}.`] : []),
  ].join("\n");
  const figures: Record<string, number> = {
    pages: f.pages,
    ratioGeomean: Math.round(f.ratioGeomean * 100) / 100,
    pairedRatioP50: Math.round(f.pairedRatioP50 * 100) / 100,
    oursP50Ms: Math.round(f.oursP50),
    bareP50Ms: Math.round(f.bareP50),
    sameWork: f.sameWork,
    failures: f.failures.length,
  };
  return { markdown, figures };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { pages: { type: "string" }, rounds: { type: "string" } } });
  const report = await runRealCaptureLatencyBench({
    pages: values.pages ? Number(values.pages) : undefined,
    rounds: values.rounds ? Number(values.rounds) : undefined,
  });
  if (report) {
    console.log(report.markdown);
    console.log(JSON.stringify(report.figures));
  }
}
