/** Submits a URL to a running API and polls until its capture ends, as a client would. */
import assert from "node:assert/strict";
import type { Json } from "./json.ts";

export interface CaptureUntilDoneOptions {
  /** @default 60000 */
  timeoutMs?: number;
  /** Return a failed capture instead of throwing (tests that expect failures). @default false */
  acceptFailed?: boolean;
}

export async function captureUntilDone(
  apiUrl: string,
  url: string,
  options: CaptureUntilDoneOptions = {},
): Promise<Record<string, Json>> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const response = await fetch(`${apiUrl}/v1/captures`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ url }),
  });
  const submitted = (await response.json()) as Record<string, Json>;
  assert.equal(response.status, 202, JSON.stringify(submitted));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const capture = (await (await fetch(`${apiUrl}/v1/captures/${submitted.captureId}`)).json()) as Record<
      string,
      Json
    >;
    if (capture.status === "succeeded") return capture;
    if (capture.status === "failed") {
      if (options.acceptFailed) return capture;
      throw new Error(`capture failed: ${JSON.stringify(capture.error)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`capture of ${url} did not finish within ${timeoutMs} ms`);
}
