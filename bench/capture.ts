/**
 * Capture latency: our whole capture path against a bare Playwright load of the same page, side by
 * side in one run.
 *
 * - Ours: `processCapture` as the capture worker runs it — politeness gate, the Chromium capturer
 *   (settle, serialise, screenshot, self-contained snapshot), extraction, artifact uploads to the
 *   embedded S3 and the DynamoDB records — timed from the worker picking the capture up to its
 *   record saying `succeeded`. Every run is the first capture of a new URL.
 * - Bare: `browser.newPage()` (a fresh context) + `page.goto(url)` (until `load`) + a full-page
 *   JPEG screenshot at the same quality and viewport + closing the page.
 *
 * Both run in the same Chromium binary with the same flags, both browsers warm, interleaved page
 * by page with the order alternating every round. The ratio of medians is the figure.
 *
 *   node bench/capture.ts [--rounds 8]
 */
import { parseArgs } from "node:util";
import { type Browser, chromium, type Page } from "playwright-core";
import { chromiumLaunchArgs, resolveBundledChromium } from "../shared/adapters/chromium/browser-launch.ts";
import { loadCaptureConfig } from "../shared/config.ts";
import type { CaptureRecord } from "../shared/domain/model.ts";
import { startFixtureSite } from "../test/support/fixture-site.ts";
import { BENCH_PAGES, type BenchPage, pageUrl, registerSyntheticPages } from "./bench-pages.ts";
import { type CaptureRig, startCaptureRig } from "./capture-rig.ts";
import type { BenchReport } from "./extraction.ts";
import { geometricMean, median, ms, quantile, ratio, verdict } from "./stats.ts";

/** The issue's target: ours within 1.3× of the bare load (the product spec's bar is 1.5×). */
export const LATENCY_TARGET = 1.3;

/** The bare load's viewport and screenshot settings are the capturer's, so the work compared is alike. */
export const VIEWPORT = { width: 1280, height: 800 };
export const JPEG_QUALITY = 80;

interface PageSamples {
  page: BenchPage;
  ours: number[];
  capturer: number[];
  bare: number[];
  /** The hand-written load that knows the page (see `captureInformed`). */
  informed: number[];
  /** Per-phase timings of our captures (the capture record's `timings`). */
  phases: Array<Record<string, number>>;
  oursComplete: number;
  bareComplete: number;
  /** Captures whose page changed while it was serialised and screenshotted, and were taken again. */
  retaken: number;
  /** Captures held to the full quiet window: the page had activity its tracker cannot follow. */
  fullQuiet: number;
}

export interface CaptureLatencyFigures {
  rounds: number;
  pages: Array<{
    name: string;
    oursP50: number;
    oursP95: number;
    capturerP50: number;
    bareP50: number;
    bareP95: number;
    ratioP50: number;
    ratioP95: number;
    oursComplete: number;
    bareComplete: number;
    retaken: number;
    fullQuiet: number;
    informedP50: number;
    /** Ours over the informed load, p50. */
    informedRatioP50: number;
    phasesP50: Record<string, number>;
  }>;
  /** Geometric mean over pages of ours over the informed load, p50. */
  informedRatioP50: number;
  /** Geometric mean over pages of the p50 ratio. */
  ratioP50: number;
  ratioP95: number;
  /** Median of every paired (same page, same round) ratio. */
  pairedRatioMedian: number;
  /** Geometric mean of the p50 ratios over the pages the bare load kept whole in every round. */
  ratioP50WhereBareComplete: number;
  /** Runs that failed (left out of the figures), with why. */
  failures: { ours: string[]; bare: string[]; informed: string[] };
}

export async function measureCaptureLatency(
  options: { rounds?: number } = {},
): Promise<CaptureLatencyFigures> {
  const rounds = options.rounds ?? 8;
  const site = await startFixtureSite();
  registerSyntheticPages(site);
  const config = loadCaptureConfig({});
  const executablePath = config.chromiumPath ?? (await resolveBundledChromium());
  const rig = await startCaptureRig({ allowedHost: new URL(site.origin).host, config });
  const bare = await chromium.launch({ executablePath, args: chromiumLaunchArgs(), headless: true });
  const samples: PageSamples[] = BENCH_PAGES.map((page) => ({
    page,
    ours: [],
    capturer: [],
    bare: [],
    informed: [],
    phases: [],
    oursComplete: 0,
    bareComplete: 0,
    retaken: 0,
    fullQuiet: 0,
  }));
  const paired: number[] = [];
  const failures = { ours: [] as string[], bare: [] as string[], informed: [] as string[] };
  try {
    // Warm both browsers and every code path once; not counted.
    for (const page of BENCH_PAGES) {
      await captureOurs(rig, pageUrl(site, page, "warm-up"));
      await captureBare(bare, pageUrl(site, page, "warm-up"), page);
      await captureInformed(bare, pageUrl(site, page, "warm-up"), page);
    }
    for (let round = 0; round < rounds; round++) {
      for (const sample of samples) {
        const url = pageUrl(site, sample.page, `round-${round}`);
        const runOurs = async () => {
          const result = await captureOurs(rig, url);
          sample.ours.push(result.ms);
          sample.capturer.push(result.capturerMs);
          if (result.capture.timings?.retaken) sample.retaken++;
          if (result.capture.timings?.untracked) sample.fullQuiet++;
          sample.phases.push(result.capture.timings ?? {});
          if (isComplete(result.html, sample.page)) sample.oursComplete++;
          return result.ms;
        };
        const runBare = async () => {
          const result = await captureBare(bare, url, sample.page);
          sample.bare.push(result.ms);
          if (result.complete) sample.bareComplete++;
          return result.ms;
        };
        const runInformed = async () => {
          const ms = await captureInformed(bare, url, sample.page);
          sample.informed.push(ms);
          return ms;
        };
        const order = round % 2 === 0 ? [runOurs, runBare, runInformed] : [runInformed, runBare, runOurs];
        const results = new Map<() => Promise<number>, number>();
        for (const run of order) {
          // A failed run is counted and left out (a worker would retry it); the benchmark goes on.
          const ms = await run().catch((err: unknown) => {
            const key = run === runOurs ? "ours" : run === runBare ? "bare" : "informed";
            failures[key].push(`${sample.page.name}: ${(err as Error).message.split("\n")[0]}`);
            return undefined;
          });
          if (ms !== undefined) results.set(run, ms);
        }
        const [oursMs, bareMs] = [results.get(runOurs), results.get(runBare)];
        if (oursMs !== undefined && bareMs !== undefined) paired.push(oursMs / bareMs);
      }
    }
  } finally {
    await bare.close();
    await rig.close();
    await site.close();
  }

  const pages = samples.map((s) => {
    const phaseNames = [...new Set(s.phases.flatMap((p) => Object.keys(p)))];
    const phasesP50 = Object.fromEntries(
      phaseNames.map((name) => [name, median(s.phases.map((p) => p[name] ?? 0))]),
    );
    const oursP50 = median(s.ours);
    const bareP50 = median(s.bare);
    const informedP50 = median(s.informed);
    return {
      name: s.page.name,
      oursP50,
      oursP95: quantile(s.ours, 0.95),
      capturerP50: median(s.capturer),
      bareP50,
      bareP95: quantile(s.bare, 0.95),
      ratioP50: oursP50 / bareP50,
      ratioP95: quantile(s.ours, 0.95) / quantile(s.bare, 0.95),
      oursComplete: s.oursComplete,
      bareComplete: s.bareComplete,
      retaken: s.retaken,
      fullQuiet: s.fullQuiet,
      informedP50,
      informedRatioP50: oursP50 / informedP50,
      phasesP50,
    };
  });
  return {
    rounds,
    pages,
    ratioP50: geometricMean(pages.map((p) => p.ratioP50)),
    ratioP95: geometricMean(pages.map((p) => p.ratioP95)),
    pairedRatioMedian: median(paired),
    informedRatioP50: geometricMean(pages.map((p) => p.informedRatioP50)),
    ratioP50WhereBareComplete: geometricMean(
      pages.filter((p) => p.bareComplete === rounds).map((p) => p.ratioP50),
    ),
    failures,
  };
}

export async function captureOurs(
  rig: CaptureRig,
  url: string,
): Promise<{ ms: number; capturerMs: number; capture: CaptureRecord; html: string }> {
  const captureId = await rig.submit(url);
  // Timed from the moment the worker picks the capture up, as a queue message would arrive.
  const started = performance.now();
  const outcome = await rig.process(captureId);
  const elapsed = performance.now() - started;
  if (outcome.kind !== "succeeded") {
    const reason =
      outcome.kind === "retry"
        ? `${outcome.error.code}: ${outcome.error.message} (${String(outcome.error.cause)})`
        : outcome.kind === "failed"
          ? `${outcome.capture.error?.code}: ${outcome.capture.error?.message}`
          : "";
    throw new Error(`capture of ${url} ended ${outcome.kind} ${reason}`);
  }
  const snapshot = outcome.capture.artifacts?.snapshot;
  const html = snapshot ? new TextDecoder().decode(await rig.blobs.getBlob(snapshot)) : "";
  return { ms: elapsed, capturerMs: rig.capturerTimes.at(-1) ?? 0, capture: outcome.capture, html };
}

/** Whether our snapshot has the article's marker and not the banner. */
function isComplete(snapshotHtml: string, page: BenchPage): boolean {
  return (
    snapshotHtml.includes(page.marker) &&
    (page.bannerId === undefined || !snapshotHtml.includes(`id="${page.bannerId}"`))
  );
}

/**
 * The bare load: `browser.newPage()` + `goto` (until `load`) + a full-page JPEG screenshot + closing
 * the page, timed. `inspect` looks at the page before it is closed, untimed.
 */
export async function bareLoad<T>(
  browser: Browser,
  url: string,
  inspect: (tab: Page) => Promise<T>,
): Promise<{ ms: number; seen: T }> {
  const started = performance.now();
  const tab = await browser.newPage({ viewport: VIEWPORT });
  await tab.goto(url);
  await tab.screenshot({ fullPage: true, type: "jpeg", quality: JPEG_QUALITY });
  const loaded = performance.now() - started;
  const seen = await inspect(tab);
  const closing = performance.now();
  await tab.close();
  return { ms: loaded + (performance.now() - closing), seen };
}

/** The bare load, and whether the screenshot it took can have shown the whole article. */
async function captureBare(
  browser: Browser,
  url: string,
  page: BenchPage,
): Promise<{ ms: number; complete: boolean }> {
  const { ms, seen } = await bareLoad(browser, url, (tab) =>
    tab.evaluate(
      ({ marker, bannerId }) =>
        (document.body?.textContent ?? "").includes(marker) &&
        (bannerId === null || document.getElementById(bannerId) === null),
      { marker: page.marker, bannerId: page.bannerId ?? null },
    ),
  );
  return { ms, complete: seen };
}

/**
 * A hand-written Playwright load that knows the page: it clicks the page's own consent button,
 * scrolls a viewport a frame until the page's marker text is there and its banner gone, then takes
 * the same full-page screenshot. No archiver knows where a page's article ends; this is the least
 * time any load could take to get what ours gets, so ours over it is our overhead for not knowing.
 */
async function captureInformed(browser: Browser, url: string, page: BenchPage): Promise<number> {
  const started = performance.now();
  const tab = await browser.newPage({ viewport: VIEWPORT });
  try {
    await tab.goto(url);
    if (page.bannerId) {
      await tab
        .locator(`#${page.bannerId}`)
        .getByRole("button", { name: /accept/i })
        .click({ timeout: 5_000 });
    }
    await tab.evaluate(
      async ({ marker, bannerId, limitMs }) => {
        const since = performance.now();
        const done = () =>
          (document.body?.textContent ?? "").includes(marker) &&
          (bannerId === null || document.getElementById(bannerId) === null);
        while (!done()) {
          if (performance.now() - since > limitMs) throw new Error(`${marker} never appeared`);
          window.scrollBy(0, window.innerHeight);
          await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
        }
      },
      { marker: page.marker, bannerId: page.bannerId ?? null, limitMs: 10_000 },
    );
    await tab.screenshot({ fullPage: true, type: "jpeg", quality: JPEG_QUALITY });
    return performance.now() - started;
  } finally {
    await tab.close();
  }
}

const PHASES = [
  "context",
  "navigate",
  "settle",
  "serialize",
  "screenshot",
  "snapshot",
  "verify",
  "extract",
  "store",
] as const;

export async function runCaptureLatencyBench(options: { rounds?: number } = {}): Promise<BenchReport> {
  const f = await measureCaptureLatency(options);
  const rows = f.pages.map(
    (p) =>
      `| ${p.name} | ${ms(p.oursP50)} | ${ms(p.oursP95)} | ${ms(p.capturerP50)} | ${ms(p.bareP50)} | ${ms(p.bareP95)} | **${ratio(p.ratioP50)}** | ${ratio(p.ratioP95)} | ${p.oursComplete}/${f.rounds} | ${p.bareComplete}/${f.rounds} | ${ms(p.informedP50)} | ${ratio(p.informedRatioP50)} |`,
  );
  const phaseRows = f.pages.map(
    (p) =>
      `| ${p.name} | ${PHASES.map((name) => ms(p.phasesP50[name] ?? 0)).join(" | ")} | ${p.retaken}/${f.rounds} | ${p.fullQuiet}/${f.rounds} |`,
  );
  const markdown = [
    "## Capture latency",
    "",
    "Our whole capture path against a bare Playwright load of the same page, in the same Chromium",
    "binary with the same flags, both browsers warm, interleaved page by page (order alternating",
    `each round), ${f.rounds} rounds. **Ours** is \`processCapture\` as the worker runs it: politeness gate,`,
    "load and settle (consent banners, scrolling for lazy content, network and DOM quiet), one DOM",
    "serialisation, screenshot and self-contained snapshot in parallel, extraction, artifact uploads",
    "to the embedded S3 and the DynamoDB records — every run the first capture of a new URL.",
    "**Bare** is `browser.newPage()` + `page.goto(url)` (until `load`) + a full-page JPEG screenshot",
    "(same viewport and quality) + closing the page. *Capturer* is the browser part of ours alone.",
    "The last two columns say how often each kept what the page shows a reader: the script-rendered",
    "text, the lazy content at the bottom, the article without the cookie banner over it.",
    "",
    "*Informed* is a hand-written Playwright load that knows each page: it clicks that page's consent",
    "button and scrolls a viewport a frame until that page's marker text is there, then takes the same",
    "screenshot — the least time any load could take to get what ours gets. Ours over it is the price",
    "of not knowing where a page's content ends.",
    "",
    "| page | ours p50 | ours p95 | capturer p50 | bare p50 | bare p95 | ratio p50 | ratio p95 | ours complete | bare complete | informed p50 | ours / informed |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    `Ratio over these six pages (geometric mean of the per-page p50 ratios): **${ratio(f.ratioP50)}** (p95: ${ratio(f.ratioP95)}); median of the ${f.pages.length * f.rounds} paired runs: ${ratio(f.pairedRatioMedian)}. Target ≤ ${LATENCY_TARGET}×: ${verdict(f.ratioP50 <= LATENCY_TARGET)} on them (the product bar, 1.5×: ${verdict(f.ratioP50 <= 1.5)}); on real news pages, see the next section.`,
    `Over the pages the bare load kept whole (where both did the same work): ${ratio(f.ratioP50WhereBareComplete)}. On the others the difference is the work the bare load skips — waiting for the script-rendered text, scrolling for the lazy content, the consent click — which is what an archive is for.`,
    `Against the informed load, which gets the same content on every page: **${ratio(f.informedRatioP50)}** (geometric mean of the per-page p50 ratios).`,
    "",
    "Where our time goes (medians). `context` is taking the fresh context prepared after the previous",
    "capture; `settle` ends once nothing the page's tracker sees is pending (short timers, frame and",
    "idle callbacks, messages, fonts) and the network and DOM have been still for 20 ms — 50 ms on a",
    "page with activity the tracker cannot follow (a WebSocket, a worker: *full quiet*); `screenshot`",
    "and `snapshot` (the self-contained HTML, built in Node) run in parallel after the one",
    "serialisation; `verify` checks that nothing changed meanwhile — on a *full quiet* page, until",
    "150 ms of quiet have passed (a page that changed is *retaken*); `store` is the five uploads",
    "together. The DynamoDB records make up the rest.",
    "",
    `| page | ${PHASES.join(" | ")} | retaken | full quiet |`,
    `| --- | ${PHASES.map(() => "---:").join(" | ")} | ---: | ---: |`,
    ...phaseRows,
    "",
    ...(f.failures.ours.length + f.failures.bare.length + f.failures.informed.length > 0
      ? [
          `Failed runs, left out of the figures: ours ${f.failures.ours.length}, bare ${f.failures.bare.length}, informed ${f.failures.informed.length} (${[...f.failures.ours.map((m) => `ours — ${m}`), ...f.failures.bare.map((m) => `bare — ${m}`), ...f.failures.informed.map((m) => `informed — ${m}`)].join("; ")}).`,
          "",
        ]
      : []),
    "Extraction time per page is measured on 700+ real pages in the Extraction section, and the diff in the",
    "Diff section; neither is repeated here.",
  ].join("\n");
  const figures: Record<string, number> = {
    rounds: f.rounds,
    ratioP50: round2(f.ratioP50),
    ratioP95: round2(f.ratioP95),
    pairedRatioMedian: round2(f.pairedRatioMedian),
    ratioP50WhereBareComplete: round2(f.ratioP50WhereBareComplete),
    informedRatioP50: round2(f.informedRatioP50),
  };
  for (const p of f.pages) {
    const key = p.name.split(" ")[0] ?? p.name;
    figures[`${key}_oursP50Ms`] = Math.round(p.oursP50);
    figures[`${key}_bareP50Ms`] = Math.round(p.bareP50);
    figures[`${key}_ratioP50`] = round2(p.ratioP50);
  }
  return { markdown, figures };
}

const round2 = (value: number) => Math.round(value * 100) / 100;

if (import.meta.main) {
  const { values } = parseArgs({ options: { rounds: { type: "string" } } });
  const report = await runCaptureLatencyBench(values.rounds ? { rounds: Number(values.rounds) } : {});
  console.log(report.markdown);
  console.log(JSON.stringify(report.figures));
}
