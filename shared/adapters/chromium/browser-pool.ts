/**
 * The browser pool: one browser per warm worker, launched lazily on the first capture and reused;
 * a browser found dead is relaunched on the next capture. A fresh context for the next capture is
 * prepared as soon as the previous one ends, off the critical path.
 */
import { lstat, readdir, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import type { Logger } from "../../logger.ts";
import type { EgressProxy, EgressSession } from "../egress/types.ts";
import { egressLaunchArgs, launchBrowser, resolveBundledChromium } from "./browser-launch.ts";
import { type FreshPage, openFreshPage } from "./fresh-context.ts";
import { type RendererMemoryWatch, watchRendererMemory } from "./renderer-memory.ts";

export interface BrowserPool {
  /** The running browser, launched (or relaunched after a crash) when there is none. */
  acquire(): Promise<{ browser: Browser; launched: boolean }>;
  /** A fresh context and page on `browser`: the one prepared after the previous capture, or a new one. */
  takeFreshPage(browser: Browser): Promise<FreshPage>;
  /** After a capture on `browser`: prepares the next capture's context and sweeps leaked temp files. */
  release(browser: Browser): Promise<void>;
  /** The watch over `browser`'s renderers' memory, where the platform allows one. */
  memoryWatch(browser: Browser): RendererMemoryWatch | undefined;
  /** Closes the browser (every context with it) and removes its temp directory. */
  close(): Promise<void>;
}

/** Creates the pool; nothing is launched until the first `acquire()`. */
export function createBrowserPool(options: {
  /** @default the binary bundled with `@sparticuz/chromium` */
  executablePath: string | undefined;
  /** Chromium switches; the egress proxy's are appended last. */
  launchArgs: readonly string[];
  /** Resident memory one renderer may use before it is killed (see renderer-memory.ts). */
  maxRendererBytes: number;
  /** Whether renderers' memory and each page's responses are watched (see `hostileGuards`). */
  guards: boolean;
  egress: EgressProxy;
  log: Logger | undefined;
}): BrowserPool {
  const { egress, log } = options;
  // Browser-wide, the proxy refuses everything; each capture's context gets a session of its own.
  let fallbackEgress: Promise<EgressSession> | undefined;
  let browser: Browser | undefined;
  let launching: Promise<Browser> | undefined;
  let spare: { browser: Browser; ready: Promise<FreshPage> } | undefined;
  const browserTmps = new WeakMap<Browser, string>();
  const memoryWatches = new WeakMap<Browser, RendererMemoryWatch>();
  let closed = false;

  async function launch(): Promise<Browser> {
    const started = performance.now();
    const executablePath = options.executablePath ?? (await resolveBundledChromium());
    fallbackEgress ??= egress.openSession({ denyAll: true });
    const egressArgs = egressLaunchArgs((await fallbackEgress).proxyUrl);
    const args = [...options.launchArgs, ...egressArgs];
    const { browser: launched, tmpDir } = await launchBrowser({ executablePath, args, log });
    browserTmps.set(launched, tmpDir);
    // Each browser's fallback proxy listens on a port of its own: its switch names this browser.
    const browserSwitch = egressArgs[0] as string;
    const memory = options.guards
      ? watchRendererMemory({ browserSwitch, maxBytes: options.maxRendererBytes, log })
      : undefined;
    if (memory) memoryWatches.set(launched, memory);
    launched.on("disconnected", () => {
      memory?.stop();
      if (!closed) log?.warn("browser disconnected; the next capture relaunches it");
      if (browser === launched) browser = undefined;
      if (spare?.browser === launched) spare = undefined;
      rm(tmpDir, { recursive: true, force: true }).catch(() => {});
    });
    log?.info("browser launched", {
      launchMs: Math.round(performance.now() - started),
      version: launched.version(),
    });
    return launched;
  }

  return {
    async acquire() {
      if (browser?.isConnected()) return { browser, launched: false };
      if (!launching) {
        launching = launch().finally(() => {
          launching = undefined;
        });
      }
      const launched = await launching;
      if (closed) {
        await launched.close().catch(() => {});
        throw new Error("The capturer was closed during launch.");
      }
      browser = launched;
      return { browser: launched, launched: true };
    },

    async takeFreshPage(current) {
      const taken = spare;
      if (taken?.browser === current) {
        spare = undefined;
        const fresh = await taken.ready.catch(() => undefined);
        if (fresh && !fresh.page.isClosed()) return fresh;
      }
      return openFreshPage(current, egress, options.guards);
    },

    async release(current) {
      // On Lambda this runs while the handler stores artifacts. A spare is never used twice.
      if (!closed && !spare && current.isConnected()) {
        const ready = openFreshPage(current, egress, options.guards);
        ready.catch(() => {}); // a failed spare just means the next capture opens its own
        spare = { browser: current, ready };
      }
      await sweepLeakedTempFiles(browserTmps.get(current));
    },

    memoryWatch: (current) => memoryWatches.get(current),

    async close() {
      closed = true;
      spare = undefined;
      const open = browser ?? (await launching?.catch(() => undefined));
      browser = undefined;
      if (!open) return;
      await open.close().catch(() => {}); // closes every context, the spare's included
      const browserTmp = browserTmps.get(open);
      if (browserTmp) await rm(browserTmp, { recursive: true, force: true });
    },
  };
}

/** Chromium names its temp files like this (`base::CreateTemporaryFileInDir`). */
const CHROMIUM_TEMP_FILE = /^\.org\.chromium\.Chromium\./;
/**
 * Chromium creates a shared-memory file, reopens it by path, then unlinks it; a process that dies in
 * between (renderers are killed when their context closes) leaves the empty file behind. Measured:
 * about one per 50 captures, piling up in a warm worker. Files this old are past any reopen.
 */
const LEAKED_TEMP_FILE_AGE_MS = 5_000;

async function sweepLeakedTempFiles(dir: string | undefined): Promise<void> {
  if (!dir) return;
  try {
    const now = Date.now();
    for (const name of await readdir(dir)) {
      if (!CHROMIUM_TEMP_FILE.test(name)) continue;
      const path = join(dir, name);
      const stats = await lstat(path).catch(() => undefined);
      if (stats?.isFile() && stats.size === 0 && now - stats.mtimeMs > LEAKED_TEMP_FILE_AGE_MS) {
        await unlink(path).catch(() => {});
      }
    }
  } catch {
    // the directory went with its browser
  }
}
