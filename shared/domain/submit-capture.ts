/** Accepting a capture request: validate, record it queued, enqueue it. */
import { InvalidRequestError, PalimpsestError } from "../errors.ts";
import type { ArchiveRepository, CaptureQueue, ResolveHost } from "../ports.ts";
import { newCaptureId, urlIdFor } from "./ids.ts";
import type { CaptureRecord } from "./model.ts";
import { parseRecapturePolicy } from "./recapture.ts";
import { checkSubmittedUrl, normaliseUrl } from "./url.ts";

export interface SubmitCaptureDeps {
  repository: ArchiveRepository;
  queue: CaptureQueue;
  resolveHost: ResolveHost;
  allowedPrivateHosts: Set<string>;
  /** Refuse new captures (429) while this many messages wait; absent means no limit. */
  maxQueueDepth?: number;
  now?: () => Date;
}

/** The queue is saturated: the caller should come back after `retryAfterSeconds`. */
export class QueueFullError extends InvalidRequestError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super("queue_full", "Too many captures are waiting; try again shortly.", { status: 429 });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export interface SubmittedCapture {
  captureId: string;
  urlId: string;
  url: string;
  status: "queued";
}

const ALLOWED_FIELDS = new Set(["url", "recapture"]);

/** The queue refused the message; the capture was recorded as failed so it never hangs as queued. */
export class QueueUnavailableError extends PalimpsestError {
  constructor(options: { cause: unknown }) {
    super("queue_unavailable", "The capture queue is unavailable; try again shortly.", options);
  }
}

export async function submitCapture(deps: SubmitCaptureDeps, body: unknown): Promise<SubmittedCapture> {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new InvalidRequestError(
      "invalid_body",
      'The request body must be a JSON object like {"url": "https://…"}.',
    );
  }
  const unknownField = Object.keys(body).find((key) => !ALLOWED_FIELDS.has(key));
  if (unknownField !== undefined) {
    throw new InvalidRequestError(
      "unknown_field",
      `The field "${unknownField}" is not part of a capture request.`,
    );
  }
  const fields = body as { url?: unknown; recapture?: unknown };
  if (fields.url === undefined) {
    throw new InvalidRequestError("missing_url", 'The request needs a "url".');
  }
  const parsed = await checkSubmittedUrl(fields.url, {
    resolveHost: deps.resolveHost,
    allowedPrivateHosts: deps.allowedPrivateHosts,
  });
  const recapture = parseRecapturePolicy(fields.recapture);
  // Checked after validation, so a bad request still gets its own error under load.
  if (deps.maxQueueDepth !== undefined && deps.queue.depth) {
    if ((await deps.queue.depth()) >= deps.maxQueueDepth) throw new QueueFullError(30);
  }
  const url = normaliseUrl(parsed);
  const urlId = urlIdFor(url);
  const now = (deps.now ?? (() => new Date()))();
  const requestedAt = now.toISOString();

  await deps.repository.ensureUrl({
    urlId,
    url,
    captureCount: 0,
    versionCount: 0,
    recapture,
    createdAt: requestedAt,
  });
  const capture: CaptureRecord = {
    captureId: newCaptureId(now),
    urlId,
    url,
    status: "queued",
    requestedAt,
    attempts: 0,
  };
  await deps.repository.putCapture(capture);
  try {
    await deps.queue.enqueue({ captureId: capture.captureId });
  } catch (cause) {
    await deps.repository.finishCapture({
      ...capture,
      status: "failed",
      finishedAt: new Date().toISOString(),
      error: { code: "queue_unavailable", message: "The capture could not be queued." },
    });
    throw new QueueUnavailableError({ cause });
  }
  return { captureId: capture.captureId, urlId, url, status: "queued" };
}
