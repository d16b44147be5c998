/**
 * A local runner that takes submissions but runs no capture (no workers, no sweeps): for tests of
 * what lands on its queue and what a restart makes of it.
 */
import assert from "node:assert/strict";
import { type LocalRunner, startLocalRunner } from "../../local/runner.ts";
import { createLogger } from "../../shared/logger.ts";

/** Starts one on `dataDir`, silent, with loopback port 9 allowed as a page address. */
export function startIdleRunner(dataDir: string): Promise<LocalRunner> {
  return startLocalRunner({
    dataDir,
    port: 0,
    workerConcurrency: 0,
    sweepIntervalMs: 0,
    logger: createLogger({}, "silent"),
    env: { ALLOW_PRIVATE_HOSTS: "127.0.0.1:9", LOG_LEVEL: "silent" },
  });
}

/** Submits `url` through the runner's API; resolves with the accepted capture's id. */
export async function submitTo(runner: LocalRunner | undefined, url: string): Promise<string> {
  const response = await fetch(`${runner?.url}/v1/captures`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ url }),
  });
  assert.equal(response.status, 202, await response.clone().text());
  return ((await response.json()) as { captureId: string }).captureId;
}
