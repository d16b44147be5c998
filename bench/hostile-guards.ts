/**
 * What the hostile-page guards cost a normal capture: the watch over the renderers' memory
 * (`/proc` sampled every 100 ms while a capture runs) and the per-response watch (a DevTools
 * session with the Network domain on, opened with the spare context). Two capturers in this one
 * process, one with the guards and one without (V8's heap limit is on in both), capture the bench
 * pages interleaved, the order alternating every round; the ratio of the medians of the capturer's
 * own time (`timings.total`) is the figure.
 *
 *   node bench/hostile-guards.ts [--rounds 8]
 */
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { createChromiumPageCapturer } from "../shared/adapters/chromium/page-capturer.ts";
import { watchRendererMemory } from "../shared/adapters/chromium/renderer-memory.ts";
import { loadCaptureConfig } from "../shared/config.ts";
import type { PageCaptureOptions, PageCapturer } from "../shared/ports.ts";
import { startFixtureSite } from "../test/support/fixture-site.ts";
import { loopbackEgress, NO_DNS } from "../test/support/loopback-browser.ts";
import { BENCH_PAGES, pageUrl, registerSyntheticPages } from "./bench-pages.ts";
import type { BenchReport } from "./extraction.ts";
import { median, ms, ratio, verdict } from "./stats.ts";

/** The guards may cost at most this much of a capture's median time. */
export const GUARDS_TARGET = 1.05;

export interface GuardsFigures {
  rounds: number;
  pages: Array<{ name: string; withP50: number; withoutP50: number }>;
  withP50: number;
  withoutP50: number;
  ratio: number;
  loadBefore: number;
  loadAfter: number;
  /** CPU time of Node while the memory watch samples, per second, minus the same while idle. */
  samplingCpuMsPerSecond: number;
}

/** How long each of the idle and the sampling CPU measurements lasts. */
const CPU_WINDOW_MS = 5_000;

/**
 * The memory watch's own CPU cost, whatever the load: Node's CPU time over a window while it samples
 * the renderers of a running browser, minus the same window idle.
 */
async function samplingCpuMsPerSecond(): Promise<number> {
  const window = async () => {
    const start = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, CPU_WINDOW_MS));
    const used = process.cpuUsage(start);
    return (used.user + used.system) / 1000;
  };
  // Any of this process's browsers: each is launched with its own `--proxy-server=…`.
  const watch = watchRendererMemory({ browserSwitch: "--proxy-server=", maxBytes: 2 ** 40, log: undefined });
  if (!watch) return Number.NaN;
  const idle = await window();
  const end = watch.begin();
  const sampling = await window();
  end();
  watch.stop();
  return ((sampling - idle) / CPU_WINDOW_MS) * 1000;
}

export async function measureGuards(options: { rounds?: number } = {}): Promise<GuardsFigures> {
  const rounds = options.rounds ?? 8;
  const config = loadCaptureConfig({});
  const captureOptions: PageCaptureOptions = config;
  const site = await startFixtureSite();
  registerSyntheticPages(site);
  const guarded = createChromiumPageCapturer({ extraArgs: [NO_DNS], egress: loopbackEgress() });
  const bare = createChromiumPageCapturer({
    extraArgs: [NO_DNS],
    egress: loopbackEgress(),
    hostileGuards: false,
  });
  const samples = new Map<string, { with: number[]; without: number[] }>();
  const loadBefore = loadavg()[0] ?? 0;
  let samplingCpu = Number.NaN;
  try {
    const once = async (capturer: PageCapturer, url: string) =>
      (await capturer.capture(url, captureOptions)).timings.total ?? Number.NaN;
    // Warm both browsers (launch, first context) before anything is timed.
    for (const capturer of [guarded, bare]) await once(capturer, site.url("/static-article.html"));
    for (let round = 0; round < rounds; round++) {
      for (const page of BENCH_PAGES) {
        const entry = samples.get(page.name) ?? { with: [], without: [] };
        samples.set(page.name, entry);
        const url = pageUrl(site, page, `guards-${round}`);
        const order = round % 2 === 0 ? ([true, false] as const) : ([false, true] as const);
        for (const withGuards of order) {
          const total = await once(withGuards ? guarded : bare, `${url}&${withGuards ? "with" : "without"}`);
          (withGuards ? entry.with : entry.without).push(total);
        }
      }
    }
    samplingCpu = await samplingCpuMsPerSecond();
  } finally {
    await Promise.all([guarded.close(), bare.close()]);
    await site.close();
  }
  const pages = [...samples].map(([name, s]) => ({
    name,
    withP50: median(s.with),
    withoutP50: median(s.without),
  }));
  const all = [...samples.values()];
  const withP50 = median(all.flatMap((s) => s.with));
  const withoutP50 = median(all.flatMap((s) => s.without));
  return {
    rounds,
    pages,
    withP50,
    withoutP50,
    ratio: withP50 / withoutP50,
    loadBefore,
    loadAfter: loadavg()[0] ?? 0,
    samplingCpuMsPerSecond: samplingCpu,
  };
}

export async function runHostileGuardsBench(options: { rounds?: number } = {}): Promise<BenchReport> {
  const f = await measureGuards(options);
  const perPage = f.pages.map((p) => p.withP50 / p.withoutP50);
  const rows = f.pages.map(
    (p) => `| ${p.name} | ${ms(p.withoutP50)} | ${ms(p.withP50)} | ${ratio(p.withP50 / p.withoutP50)} |`,
  );
  const markdown = `## Hostile-page guards

What the renderer memory watch and the per-response watch cost a normal capture: the same
capturer with and without them, in one process, ${f.rounds} rounds over the bench pages,
interleaved, order alternating. Times are the capturer's own (\`timings.total\`), medians.
Load average (1 min) ${f.loadBefore.toFixed(1)} before, ${f.loadAfter.toFixed(1)} after.

| Page | Without guards | With guards | Ratio |
| --- | --- | --- | --- |
${rows.join("\n")}
| **All pages** | **${ms(f.withoutP50)}** | **${ms(f.withP50)}** | **${ratio(f.ratio)}** |

Target: at most ${ratio(GUARDS_TARGET)} — ${verdict(f.ratio <= GUARDS_TARGET)}.${
    f.loadBefore > cpus().length
      ? ` The machine was loaded past its ${cpus().length} cores while this ran: the per-page ratios
(${ratio(Math.min(...perPage))} to ${ratio(Math.max(...perPage))}) spread wider than the whole
figure's distance from 1, so it says more about the load than about the guards.`
      : ""
  }

The memory watch's own CPU, measured apart (Node's CPU time over ${CPU_WINDOW_MS / 1000} s while it
samples a running browser's renderers every 100 ms, minus ${CPU_WINDOW_MS / 1000} s idle):
${f.samplingCpuMsPerSecond.toFixed(1)} ms per second, ${(f.samplingCpuMsPerSecond / 10).toFixed(2)} % of one core,
while a capture runs. The response watch's DevTools session opens with the next capture's
spare context, off the capture's path.`;
  return {
    markdown,
    figures: {
      guardsRatio: f.ratio,
      guardsWithP50: f.withP50,
      guardsWithoutP50: f.withoutP50,
      samplingCpuMsPerSecond: f.samplingCpuMsPerSecond,
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { rounds: { type: "string" } } });
  const report = await runHostileGuardsBench({ rounds: values.rounds ? Number(values.rounds) : undefined });
  console.log(report.markdown);
}
