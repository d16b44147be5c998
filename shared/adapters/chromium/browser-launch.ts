/**
 * Starting a capture browser: which Chromium, with which switches, in which environment.
 *
 * The browser gets a minimal environment, never the capturer's own: on Lambda that holds the
 * function's AWS credentials, and a renderer there runs without Chromium's sandbox, so a page that
 * took one over could read them and write to the archive past the egress proxy. Only what Chromium
 * and @sparticuz/chromium need is passed on (`BROWSER_ENVIRONMENT`).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sparticuzChromium from "@sparticuz/chromium";
import { type Browser, chromium as playwrightChromium } from "playwright-core";
import type { Logger } from "../../logger.ts";

const LAUNCH_TIMEOUT_MS = 30_000;

/** @sparticuz/chromium flags that must not reach our browser, with why. */
const DROPPED_LAUNCH_ARGS = new Set([
  "--single-process", // closing a browser context would kill the whole browser
  "--headless='shell'", // Playwright passes its own --headless
  "--disable-web-security", // page content is untrusted: keep the same-origin policy…
  "--allow-running-insecure-content", // …mixed-content blocking…
  "--disable-site-isolation-trials", // …and site isolation
  // GPU compositing through SwiftShader (software Vulkan) makes full-page screenshots about twice as
  // slow as Chromium's own software compositor; WebGL still falls back to SwiftShader without them.
  "--use-gl=angle",
  "--use-angle=swiftshader",
]);

/**
 * Chromium's flags for a capture browser: @sparticuz/chromium's serverless flags minus the ones that
 * make it unsafe or break context reuse. Its `--disable-features`/`--enable-features` are dropped
 * whole: Chromium honours only the last occurrence of each, so they would silently replace
 * Playwright's lists (which turn off phone-home features and select its screenshot path), and what
 * remains of them after re-enabling site isolation (`AudioServiceOutOfProcess`,
 * `SharedArrayBuffer` without cross-origin isolation) is not worth that.
 */
export function chromiumLaunchArgs(extraArgs: readonly string[] = []): string[] {
  const args = sparticuzChromium.args.filter(
    (arg) =>
      !DROPPED_LAUNCH_ARGS.has(arg) &&
      !arg.startsWith("--headless") &&
      !arg.startsWith("--disable-features=") &&
      !arg.startsWith("--enable-features="),
  );
  return [...args, ...extraArgs];
}

/**
 * Switches that send every request of the browser through the egress proxy and close the doors
 * around it. They come after `extraArgs`, so nothing passed there can override them.
 */
export function egressLaunchArgs(proxyUrl: string): string[] {
  return [
    `--proxy-server=${proxyUrl}`,
    // Chromium never proxies loopback by default: without this, 127.0.0.1 would go around the guard.
    "--proxy-bypass-list=<-loopback>",
    // WebRTC would otherwise send UDP (STUN, ICE) straight from the browser, past the proxy.
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--disable-quic",
    "--dns-prefetch-disable",
    "--disable-background-networking",
    "--no-pings",
  ];
}

let bundledExecutable: Promise<string> | undefined;

/**
 * Unpacks the Chromium bundled with @sparticuz/chromium (once per process) and returns its path.
 * Memoised because two concurrent unpacks race on the same file and fail with `spawn ETXTBSY`.
 * Worth calling at cold start: on Lambda the init phase runs with full CPU.
 */
export function resolveBundledChromium(): Promise<string> {
  bundledExecutable ??= sparticuzChromium.executablePath().catch((err: unknown) => {
    bundledExecutable = undefined; // let a later call retry
    throw err;
  });
  return bundledExecutable;
}

/**
 * What the browser gets from the capturer's environment, when set: nothing else reaches it.
 * Chromium runs headless with its profile in Playwright's directory and its temp files in
 * `TMPDIR` (set to a directory of the browser's own); it needs no display, D-Bus, proxy or
 * credential variable. PATH is not needed either: it starts its helpers from its own binary.
 */
const BROWSER_ENVIRONMENT = [
  // Where NSS and Chromium keep per-user state; @sparticuz/chromium sets it to /tmp on Lambda.
  "HOME",
  // The shared libraries @sparticuz/chromium unpacks on Amazon Linux 2023, and the fonts it
  // unpacks (fontconfig finds them only through this); both set by it on Lambda.
  "LD_LIBRARY_PATH",
  "FONTCONFIG_PATH",
  "FONTCONFIG_FILE",
  // The pages' clock: Date in a page reads the time zone the browser process sees.
  "TZ",
] as const;

/**
 * The browser's whole environment: the variables of `BROWSER_ENVIRONMENT` found in `source`, the
 * en-US locale (pages see the context's `locale` anyway; this keeps the browser's own defaults the
 * same on any host), and `tmpDir` as its temp directory.
 */
export function browserEnvironment(
  tmpDir: string,
  source: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of BROWSER_ENVIRONMENT) {
    const value = source[name];
    if (value !== undefined) env[name] = value;
  }
  env.LANG = "en_US.UTF-8";
  env.TMPDIR = tmpDir;
  return env;
}

/**
 * Launches a capture browser, retrying once. Playwright keeps its profile and artifacts
 * directories in the temp dir and removes them when the browser exits, even after a crash.
 * Chromium's own temp files (shared memory, since /dev/shm is off) go to a directory of the
 * browser's own (`tmpDir` of the result), which the caller removes once the browser is gone.
 */
export async function launchBrowser(options: {
  executablePath: string;
  args: string[];
  log: Logger | undefined;
}): Promise<{ browser: Browser; tmpDir: string }> {
  const { executablePath, args, log } = options;
  const tmpDir = await mkdtemp(join(tmpdir(), "palimpsest-chromium-"));
  const start = () =>
    playwrightChromium.launch({
      executablePath,
      args,
      env: browserEnvironment(tmpDir),
      headless: true,
      timeout: LAUNCH_TIMEOUT_MS,
      // The host process owns shutdown (it calls close()); Playwright still kills the browser
      // when the process exits, so no signal handler of its own is needed.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
  try {
    // A launch very occasionally dies on start-up (seen once as SIGSEGV); one retry absorbs that.
    const browser = await start().catch((err: unknown) => {
      log?.warn("browser launch failed; retrying", { err });
      return start();
    });
    return { browser, tmpDir };
  } catch (err) {
    await rm(tmpDir, { recursive: true, force: true });
    throw err;
  }
}
