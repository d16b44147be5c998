/** Capture limits for tests: small enough to keep them fast, with what a test needs changed. */
import type { PageCaptureOptions } from "../../shared/ports.ts";

const BASE: PageCaptureOptions = {
  navigationTimeoutMs: 10_000,
  idleTimeoutMs: 2_000,
  screenshotMaxHeight: 4_000,
  inlineResourceMaxBytes: 1_000_000,
  inlineTotalMaxBytes: 5_000_000,
  totalTimeoutMs: 30_000,
  maxRedirects: 10,
  maxDomElements: 200_000,
};

export function testCaptureOptions(overrides: Partial<PageCaptureOptions> = {}): PageCaptureOptions {
  return { ...BASE, ...overrides };
}
