/**
 * The renderers' memory cap. A page that allocates without end (arrays, strings, ArrayBuffers,
 * workers) would grow its renderer to gigabytes, on a Lambda that has three; Chromium has no
 * per-renderer limit of its own, and its crash of a renderer that ran out is reported like any
 * other crash (`Target.targetCrashed` says `crashed` either way), which the capture would retry.
 *
 * Two bounds, so that the crash can be told apart and the page fails `too_large` once:
 * - V8's old-space limit for every renderer (`rendererHeapArgs`, a `--js-flags` switch): a page's
 *   JavaScript heap stops there, whatever the machine has;
 * - a watch over the resident memory of the browser's renderer processes (Linux `/proc`, sampled
 *   every `SAMPLE_INTERVAL_MS` while a capture runs): one over the cap is killed, which also
 *   covers memory V8's limit does not see (ArrayBuffers, images, the DOM itself).
 *
 * A crash is then explained by the watch: a renderer it killed, or one that died while it was
 * near the cap (V8's limit reached between two samples), means the page ran out of memory.
 *
 * The renderers of one browser are the renderer processes that descend from it; the browser is
 * the process whose command line holds a switch no other browser has (its own egress proxy's
 * address, see `browser-pool.ts`). Not their environment: Chromium overwrites a child's environ
 * with its process title. Off Linux there is no `/proc`: the watch is off and only V8's limit
 * applies (a crash there is retried as `browser_crash`).
 */
import { readdirSync, readFileSync } from "node:fs";
import { CaptureError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";

/**
 * How often the renderers are looked for and their resident memory read while a capture runs.
 * A page can fill V8's heap within a few hundred milliseconds of its renderer's start, so new
 * renderers are looked for at every pass (only processes not seen before are read: the pass
 * costs a listing of /proc and one small read per renderer).
 */
const SAMPLE_INTERVAL_MS = 50;
/** A crash this soon after the watch killed a renderer is that kill. */
const KILL_EXPLAINS_CRASH_MS = 5_000;
/** A renderer that died with at least this share of the cap in use ran out of memory. */
const NEAR_CAP_SHARE = 0.5;
const PAGE_BYTES = 4096;

/** @default 1 GiB: several times a heavy news page's renderer, a third of a 3 GB Lambda. */
export const DEFAULT_MAX_RENDERER_BYTES = 1024 * 1024 * 1024;

/**
 * Chromium switches that cap each renderer's JavaScript heap at `maxBytes`. Chromium keeps only
 * the last `--js-flags`, so any of `extraArgs` is folded into this one.
 */
export function rendererHeapArgs(maxBytes: number, extraArgs: readonly string[] = []): string[] {
  const others = extraArgs
    .filter((arg) => arg.startsWith("--js-flags="))
    .map((arg) => arg.slice("--js-flags=".length));
  const heapMb = Math.max(16, Math.floor(maxBytes / 1024 / 1024));
  return [`--js-flags=${[...others, `--max-old-space-size=${heapMb}`].join(" ")}`];
}

/** The `too_large` a page that ran out of renderer memory fails with. */
export function outOfMemoryError(maxBytes: number): CaptureError {
  return new CaptureError(
    "too_large",
    `The page used more than ${Math.round(maxBytes / 1024 / 1024)} MiB of memory in the browser.`,
  );
}

export interface RendererMemoryWatch {
  /** Samples while at least one capture runs; call the returned function when it ends. */
  begin(): () => void;
  /**
   * Why a renderer crashed at `crashedAt` (`performance.now()`), if its memory explains it: the
   * watch killed one shortly before, or one died near the cap.
   */
  explainCrash(crashedAt: number): CaptureError | undefined;
  /** Stops sampling for good. */
  stop(): void;
}

interface Renderer {
  rssBytes: number;
  /** The sampling pass that read `rssBytes` (0: not read yet). */
  sampledPass: number;
}

/**
 * Watches the renderers of the browser launched with `browserSwitch` on its command line (see the
 * module's summary). Undefined where `/proc` cannot be read.
 */
export function watchRendererMemory(options: {
  /** A command-line switch of this browser and no other, such as its `--proxy-server=…`. */
  browserSwitch: string;
  maxBytes: number;
  log: Logger | undefined;
}): RendererMemoryWatch | undefined {
  const { browserSwitch, maxBytes, log } = options;
  const proc = "/proc";
  try {
    readFileSync(`${proc}/self/statm`);
  } catch {
    return undefined;
  }
  /** Every process seen: its parent, and whether it is a renderer. */
  const seen = new Map<number, { ppid: number; renderer: boolean }>();
  let browserPid: number | undefined;
  const renderers = new Map<number, Renderer>();
  /** When the watch last killed a renderer, and when one last died near the cap. */
  let lastKillAt = Number.NEGATIVE_INFINITY;
  let lastDiedNearCapAt = Number.NEGATIVE_INFINITY;
  let active = 0;
  let sampler: NodeJS.Timeout | undefined;
  /** Sampling passes so far: "seen a moment ago" is counted in passes, which a loaded machine delays alike. */
  let pass = 0;
  let stopped = false;

  const descendsFromBrowser = (pid: number): boolean => {
    for (let current = seen.get(pid), hops = 0; current && hops < 8; hops++) {
      if (current.ppid === browserPid) return true;
      current = seen.get(current.ppid);
    }
    return false;
  };

  const scan = () => {
    let pids: number[];
    try {
      pids = readdirSync(proc)
        .filter((name) => /^\d+$/.test(name))
        .map(Number);
    } catch {
      return;
    }
    const alive = new Set(pids);
    for (const pid of seen.keys()) if (!alive.has(pid)) seen.delete(pid);
    for (const pid of pids) {
      if (seen.has(pid)) continue;
      let ppid: number;
      let cmdline: string;
      try {
        const stat = readFileSync(`${proc}/${pid}/stat`, "latin1");
        // `pid (comm) state ppid …`: the name may hold spaces and parentheses, the rest does not.
        ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        cmdline = readFileSync(`${proc}/${pid}/cmdline`, "latin1");
      } catch {
        continue; // gone already
      }
      const typed = cmdline.includes("--type=");
      if (browserPid === undefined && !typed && cmdline.includes(browserSwitch)) browserPid = pid;
      // A child the browser has just forked shows the browser's command line until it execs: it is
      // looked at again on the next scan.
      if (!typed && browserPid !== undefined && ppid === browserPid) continue;
      seen.set(pid, { ppid, renderer: cmdline.includes("--type=renderer") });
    }
    for (const [pid, info] of seen) {
      if (info.renderer && !renderers.has(pid) && descendsFromBrowser(pid))
        renderers.set(pid, { rssBytes: 0, sampledPass: 0 });
    }
  };

  const sample = () => {
    const now = performance.now();
    pass += 1;
    scan();
    for (const [pid, renderer] of renderers) {
      let resident: number;
      try {
        resident = Number(readFileSync(`${proc}/${pid}/statm`, "latin1").split(" ")[1]) * PAGE_BYTES;
      } catch {
        // Gone: a renderer closed with its context, or one that died on its own. Only one seen
        // near the cap a moment ago (in one of the last passes, not before a pause in the
        // sampling while no capture ran) died of it.
        const recentlySeen = renderer.sampledPass > 0 && pass - renderer.sampledPass <= 3;
        if (recentlySeen && renderer.rssBytes >= maxBytes * NEAR_CAP_SHARE) lastDiedNearCapAt = now;
        renderers.delete(pid);
        continue;
      }
      renderer.rssBytes = resident;
      renderer.sampledPass = pass;
      if (resident <= maxBytes) continue;
      log?.warn("renderer over its memory cap; killing it", { pid, rssBytes: resident, maxBytes });
      lastKillAt = now;
      renderers.delete(pid);
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // it died on its own meanwhile
      }
    }
  };

  return {
    begin() {
      active += 1;
      if (!sampler && !stopped) {
        pass += 3; // what was read before this pause in the sampling is no longer "a moment ago"
        sample();
        sampler = setInterval(sample, SAMPLE_INTERVAL_MS);
        sampler.unref();
      }
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        active -= 1;
        if (active === 0 && sampler) {
          clearInterval(sampler);
          sampler = undefined;
        }
      };
    },
    explainCrash(crashedAt) {
      // The crash may be reported before the sampler has seen the renderer go: look once more.
      sample();
      const recent = (at: number) => crashedAt - at <= KILL_EXPLAINS_CRASH_MS && at - crashedAt <= 1_000;
      if (recent(lastKillAt) || recent(lastDiedNearCapAt)) return outOfMemoryError(maxBytes);
      return undefined;
    },
    stop() {
      stopped = true;
      if (sampler) clearInterval(sampler);
      sampler = undefined;
    },
  };
}
