/**
 * What the browser tests share: the local runner archiving a fixture site, the project's own
 * Chromium driven by playwright-core, and pages that record every request leaving the loopback
 * interface (and refuse it), every console error, and save screenshots under test-results/e2e/.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { type LocalRunner, startLocalRunner } from "../../local/runner.ts";
import { chromiumLaunchArgs, resolveBundledChromium } from "../../shared/adapters/chromium/browser-launch.ts";
import { createLogger } from "../../shared/logger.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";

export const SCREENSHOT_DIR = join(import.meta.dirname, "..", "..", "test-results", "e2e");

export interface Harness {
  site: FixtureSite;
  runner: LocalRunner;
  browser: Browser;
  close(): Promise<void>;
}

export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const site = await startFixtureSite();
  const dataDir = await mkdtemp(join(tmpdir(), "palimpsest-e2e-"));
  const runner = await startLocalRunner({
    dataDir,
    port: 0,
    sweepIntervalMs: 0,
    logger: createLogger({}, "silent"),
    env: {
      ALLOW_PRIVATE_HOSTS: new URL(site.origin).host,
      HOST_MIN_GAP_MS: "0",
      CAPTURE_NAVIGATION_TIMEOUT_MS: "5000",
      CAPTURE_IDLE_TIMEOUT_MS: "2000",
      LOG_LEVEL: "silent",
      ...env,
    },
  });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? (await resolveBundledChromium()),
    args: chromiumLaunchArgs(),
    headless: true,
  });
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  return {
    site,
    runner,
    browser,
    async close() {
      await browser.close();
      await runner.close();
      await site.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Requests to anything but the loopback interface (refused, so a test can never leak one). */
  external: string[];
  /** Console errors and uncaught exceptions, CSP violations among them. */
  errors: string[];
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

export async function openPage(
  browser: Browser,
  options: { viewport?: { width: number; height: number }; javaScriptEnabled?: boolean } = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({
    // The project's rule, and what ReplayWeb.page needs: the machine's POSIX locale is no BCP 47 tag.
    locale: "en-US",
    viewport: options.viewport ?? { width: 1280, height: 900 },
    javaScriptEnabled: options.javaScriptEnabled ?? true,
    ...(options.viewport && options.viewport.width < 600 ? { isMobile: true, hasTouch: true } : {}),
  });
  const external: string[] = [];
  const errors: string[] = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if ((url.protocol === "http:" || url.protocol === "https:") && !LOOPBACK.has(url.hostname)) {
      external.push(url.href);
      return route.abort();
    }
    return route.continue();
  });
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (err) => errors.push(String(err)));
  return { page, context, external, errors };
}

export async function saveScreenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Presses Tab until the element with `id` has focus, as a keyboard user would. */
export async function tabTo(page: Page, id: string, maxPresses = 20): Promise<number> {
  for (let presses = 1; presses <= maxPresses; presses++) {
    await page.keyboard.press("Tab");
    if ((await page.evaluate(() => document.activeElement?.id)) === id) return presses;
  }
  throw new Error(`#${id} never got focus in ${maxPresses} presses of Tab`);
}

/** True when the page is no wider than its viewport (nothing to scroll sideways). */
export function hasNoHorizontalScroll(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);
}
