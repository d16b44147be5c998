/**
 * Delivers ArticleEdited events as signed HTTP POSTs. The body is signed with HMAC-SHA256 using
 * the configured secret; receivers recompute it over the raw body and compare in constant time.
 * Transient failures (network errors, 429, 5xx) are retried with exponential backoff and jitter.
 */
import { createHmac } from "node:crypto";
import type { Logger } from "../logger.ts";
import type { ArticleEditedEvent, EditPublisher } from "../ports.ts";

export const SIGNATURE_HEADER = "x-palimpsest-signature";

export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export interface WebhookPublisherOptions {
  url: string;
  secret: string;
  logger: Logger;
  /** @default 5 */
  maxAttempts?: number;
  /** First retry delay; doubles each attempt. @default 500 */
  baseDelayMs?: number;
  /** Per-attempt timeout. @default 10000 */
  timeoutMs?: number;
}

export function createWebhookPublisher(options: WebhookPublisherOptions): EditPublisher {
  const maxAttempts = options.maxAttempts ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async publish(event: ArticleEditedEvent) {
      const body = JSON.stringify(event);
      const headers = {
        "content-type": "application/json",
        "user-agent": "Palimpsest-Webhook/1",
        "x-palimpsest-event": event.type,
        "x-palimpsest-delivery": event.versionId,
        [SIGNATURE_HEADER]: signBody(body, options.secret),
      };
      let lastError = "";
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        try {
          const response = await fetch(options.url, {
            method: "POST",
            headers,
            body,
            redirect: "manual",
            signal: AbortSignal.timeout(timeoutMs),
          });
          await response.body?.cancel();
          if (response.ok) return;
          lastError = `HTTP ${response.status}`;
          if (response.status < 500 && response.status !== 429 && response.status !== 408) break;
        } catch (err) {
          lastError = (err as Error).message;
        }
        if (attempt < maxAttempts) {
          const delay = baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
          options.logger.warn("webhook delivery failed; retrying", {
            attempt,
            delayMs: Math.round(delay),
            lastError,
          });
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
      throw new Error(`Webhook delivery of ${event.versionId} failed: ${lastError}`);
    },
  };
}
