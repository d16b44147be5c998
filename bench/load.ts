/**
 * Load: many submissions at once against the local runner. Every submission must be accepted
 * (202) or throttled (429 with Retry-After); every accepted capture must finish; pages whose
 * text never changes must end with exactly one version however often they were captured.
 *
 *   node bench/load.ts [--submissions 200] [--urls 20] [--max-queue-depth 150] [--workers 2]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startLocalRunner } from "../local/runner.ts";
import { createLogger } from "../shared/logger.ts";
import { startFixtureSite } from "../test/support/fixture-site.ts";

export interface LoadOptions {
  submissions: number;
  urls: number;
  maxQueueDepth: number;
  workers: number;
}

export interface LoadResult {
  accepted: number;
  throttled: number;
  throttledWithoutRetryAfter: number;
  otherStatuses: number[];
  succeeded: number;
  failed: number;
  unfinished: number;
  duplicateVersions: number;
  submitMs: number;
  drainMs: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const site = await startFixtureSite();
  const dataDir = await mkdtemp(join(tmpdir(), "palimpsest-load-"));
  for (let i = 0; i < options.urls; i++) {
    site.setPage(
      `/load-${i}.html`,
      `<html><head><title>Load ${i}</title></head><body><article><h1>Load story ${i}</h1><p>${"An article that does not change under load. ".repeat(15)}</p></article></body></html>`,
    );
  }
  const runner = await startLocalRunner({
    dataDir,
    port: 0,
    logger: createLogger({}, "silent"),
    sweepIntervalMs: 0,
    workerConcurrency: options.workers,
    env: {
      ALLOW_PRIVATE_HOSTS: new URL(site.origin).host,
      MAX_QUEUE_DEPTH: String(options.maxQueueDepth),
      HOST_MIN_GAP_MS: "0",
      HOST_MAX_CONCURRENCY: String(options.workers),
      // Every page is on one host: no politeness interval between their starts.
      HOST_LIMITS: "*=0ms",
      LOG_LEVEL: "silent",
    },
  });
  try {
    const submitStarted = performance.now();
    const responses = await Promise.all(
      Array.from({ length: options.submissions }, async (_, i) => {
        const response = await fetch(`${runner.url}/v1/captures`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ url: site.url(`/load-${i % options.urls}.html`), recapture: "off" }),
        });
        const body = (await response.json()) as { captureId?: string };
        return {
          status: response.status,
          retryAfter: response.headers.get("retry-after"),
          captureId: body.captureId,
        };
      }),
    );
    const submitMs = performance.now() - submitStarted;
    const drainStarted = performance.now();
    await runner.drain(15 * 60_000);
    const drainMs = performance.now() - drainStarted;

    const accepted = responses.filter((r) => r.status === 202);
    const result: LoadResult = {
      accepted: accepted.length,
      throttled: responses.filter((r) => r.status === 429).length,
      throttledWithoutRetryAfter: responses.filter((r) => r.status === 429 && !r.retryAfter).length,
      otherStatuses: responses.filter((r) => r.status !== 202 && r.status !== 429).map((r) => r.status),
      succeeded: 0,
      failed: 0,
      unfinished: 0,
      duplicateVersions: 0,
      submitMs: Math.round(submitMs),
      drainMs: Math.round(drainMs),
    };
    const urlIds = new Set<string>();
    for (const r of accepted) {
      const capture = (await (await fetch(`${runner.url}/v1/captures/${r.captureId}`)).json()) as {
        status: string;
        urlId: string;
      };
      urlIds.add(capture.urlId);
      if (capture.status === "succeeded") result.succeeded++;
      else if (capture.status === "failed") result.failed++;
      else result.unfinished++;
    }
    for (const urlId of urlIds) {
      const url = (await (await fetch(`${runner.url}/v1/urls/${urlId}`)).json()) as { versionCount: number };
      result.duplicateVersions += Math.max(0, url.versionCount - 1);
    }
    return result;
  } finally {
    await runner.close();
    await site.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      submissions: { type: "string", default: "200" },
      urls: { type: "string", default: "20" },
      "max-queue-depth": { type: "string", default: "150" },
      workers: { type: "string", default: "2" },
    },
  });
  const result = await runLoad({
    submissions: Number(values.submissions),
    urls: Number(values.urls),
    maxQueueDepth: Number(values["max-queue-depth"]),
    workers: Number(values.workers),
  });
  console.log(JSON.stringify(result, null, 2));
  const ok =
    result.otherStatuses.length === 0 &&
    result.throttledWithoutRetryAfter === 0 &&
    result.unfinished === 0 &&
    result.failed === 0 &&
    result.duplicateVersions === 0;
  process.exitCode = ok ? 0 : 1;
}
